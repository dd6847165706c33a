/**
 * @perfrdiff/default-model: a small PerFRDiff model (the `small` preset: emotion VAE, PSSL, GAFRG and a rank-4 PWSG)
 * trained by our trainer on a synthetic dyadic corpus, so that reactions can be generated with no weights at hand.
 * It knows synthetic listeners, not people: see README.md for how it was made and what it scores.
 *
 * In Node the files are read from this package's `model/` folder; in a browser they are fetched from beside this
 * module (bundlers such as Vite and esbuild copy files named by `new URL(..., import.meta.url)`), or from `baseUrl`.
 */

/** The modules the default model holds, each a `<module>.safetensors` file of `model/`. */
export const DEFAULT_MODEL_MODULES = ["emotion_vae", "pssl", "denoiser", "hypernet"] as const;
export type DefaultModelModule = (typeof DEFAULT_MODEL_MODULES)[number];

/** What `perfrdiff generate` and the loaders print when they use it. */
export const DEFAULT_MODEL_NAME = "PerFRDiff-TS default model (small preset, synthetic corpus)";

/** The default model's files: its configuration (YAML text) and each module's weight-file bytes. */
export interface DefaultModelFiles {
  config: string;
  weights: Record<DefaultModelModule, Uint8Array>;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node && typeof window === "undefined";

/** The URL of a file of `model/` (a `file:` URL in Node). */
export function defaultModelUrl(file: string, baseUrl?: string | URL): URL {
  return baseUrl ? new URL(file, baseUrl) : new URL(`../model/${file}`, import.meta.url);
}

/** Node: the folder of the default model (config.yaml and the weight files), which every `checkpoint` option takes. */
export async function defaultModelDir(): Promise<string> {
  if (!isNode) throw new Error("defaultModelDir is for Node; in a browser use defaultModelFiles()");
  const { fileURLToPath } = await import("node:url");
  return fileURLToPath(defaultModelUrl("."));
}

/**
 * The sample inputs shipped with the model (`sample/`): held-out speaker clips of its synthetic corpus, as the
 * dataset stores them (3DMM not normalised), the 3DMM history (another clip) of each synthetic listener, and
 * `sample.json`, which names their clips in the corpus and each listener's style.
 */
export const SAMPLE_SPEAKERS = ["1", "2", "3"] as const;
export type SampleSpeaker = (typeof SAMPLE_SPEAKERS)[number];

/** The files of a sample speaker clip, relative to `sample/`. */
export function sampleSpeakerFiles(speaker: SampleSpeaker = "1"): { audio: string; emotion: string; threeDmm: string; wav: string } {
  const dir = `speakers/${speaker}`;
  // audio: [751, 78] official features of the WAV; emotion [751, 25]; 3DMM [751, 58]; the WAV, 16 kHz mono
  return { audio: `${dir}/audio.npy`, emotion: `${dir}/emotion.npy`, threeDmm: `${dir}/3dmm.npy`, wav: `${dir}/speech.wav` };
}

/** The synthetic listeners whose histories `sample/listeners/<name>.npy` (`[751, 58]`) holds, one per style. */
export const SAMPLE_LISTENERS = ["L01", "L02", "L03", "L04", "L05", "L06"] as const;

/** The URL of a file of `sample/` (`listeners/L01.npy`, or a name of {@link DEFAULT_SAMPLE}). */
export function defaultSampleUrl(file: string): URL {
  return new URL(`../sample/${file}`, import.meta.url);
}

/** Node: the path of a file of `sample/`. */
export async function defaultSamplePath(file: string): Promise<string> {
  const { fileURLToPath } = await import("node:url");
  return fileURLToPath(defaultSampleUrl(file));
}

/**
 * Reads the default model's files: from disk in Node, by fetch elsewhere (from `baseUrl` when given, a folder URL
 * ending in `/`, else from beside this module). Errors name the file that could not be read.
 */
export async function defaultModelFiles(options: { baseUrl?: string | URL } = {}): Promise<DefaultModelFiles> {
  const read = async (file: string): Promise<Uint8Array> => {
    const url = defaultModelUrl(file, options.baseUrl);
    try {
      if (isNode && url.protocol === "file:") {
        const { readFile } = await import("node:fs/promises");
        return new Uint8Array(await readFile(url));
      }
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw new Error(`cannot read the default model's ${file} (${url.href}): ${(err as Error).message}`);
    }
  };
  const [config, ...weights] = await Promise.all([read("config.yaml"), ...DEFAULT_MODEL_MODULES.map((m) => read(`${m}.safetensors`))]);
  return {
    config: new TextDecoder().decode(config),
    weights: Object.fromEntries(DEFAULT_MODEL_MODULES.map((m, i) => [m, weights[i]!])) as Record<DefaultModelModule, Uint8Array>,
  };
}
