import * as wavefileModule from "wavefile";

// wavefile ships a UMD build as "main" (CommonJS: Node's ESM loader sees only a default export) and an ES module as
// "module" (bundlers: named exports). Take the class from whichever shape we got.
type WaveFileClass = typeof wavefileModule.WaveFile;
const WaveFile: WaveFileClass =
  (wavefileModule as { WaveFile?: WaveFileClass }).WaveFile ??
  (wavefileModule as unknown as { default: { WaveFile: WaveFileClass } }).default.WaveFile;

/**
 * Decoded audio: one Float64Array per channel, samples scaled to [-1, 1) the way libsndfile (Python's soundfile,
 * used by the official loaders) scales them: signed PCM of b bits divided by 2^(b-1), 8-bit unsigned PCM as
 * (x - 128) / 128, float samples unchanged.
 */
export interface DecodedAudio {
  sampleRate: number;
  /** `[channels][samples]` */
  channels: Float64Array[];
  /** wavefile's code for the stored format: "8", "16", "24", "32" (integer PCM), "32f" or "64" (float). */
  bitDepth: string;
  /** When the data chunk declares more bytes than the file holds (a cut-off file): the samples end where it does. */
  truncated: { declaredBytes: number; presentBytes: number } | null;
}

export interface DecodeWavOptions {
  /** Refuse a file whose data chunk is cut off (default false: decode what is there, see `truncated`). */
  complete?: boolean;
}

const SUPPORTED = new Set(["8", "16", "24", "32", "32f", "64"]);

/** Most channels a WAV may declare (WAVE_FORMAT_EXTENSIBLE names 18 speaker positions; 64 leaves room). */
export const MAX_WAV_CHANNELS = 64;

/**
 * Decodes a RIFF/RF64 WAV file (8/16/24/32-bit integer PCM, 32/64-bit float; any channel count) with the
 * `wavefile` package, which parses every chunk layout (WAVE_FORMAT_EXTENSIBLE included).
 * @param where names the source in error messages (a path).
 */
export function decodeWav(bytes: Uint8Array, where = "WAV data", options: DecodeWavOptions = {}): DecodedAudio {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new Error(`${where}: not a readable WAV file (${(err as Error).message})`);
  }
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number };
  const bitDepth = wav.bitDepth;
  if (!SUPPORTED.has(bitDepth)) {
    throw new Error(
      `${where}: unsupported WAV sample format '${bitDepth}' (audio format ${fmt.audioFormat}); expected 8/16/24/32-bit PCM or 32/64-bit float`,
    );
  }
  if (!(fmt.sampleRate > 0)) throw new Error(`${where}: WAV sample rate is ${fmt.sampleRate}`);
  // a header field, not data: a corrupt or hostile one must not make thousands of channel arrays
  if (!(fmt.numChannels >= 1 && fmt.numChannels <= MAX_WAV_CHANNELS)) {
    throw new Error(`${where}: the WAV header declares ${fmt.numChannels} channels (expected 1 to ${MAX_WAV_CHANNELS}; a corrupt header?)`);
  }
  const data = wav.data as { chunkSize: number; samples: Uint8Array };
  const truncated = data.chunkSize > data.samples.length ? { declaredBytes: data.chunkSize, presentBytes: data.samples.length } : null;
  if (truncated && options.complete) {
    throw new Error(`${where}: the WAV file is cut off: its data chunk declares ${truncated.declaredBytes} bytes, the file holds ${truncated.presentBytes}`);
  }
  const raw = wav.getSamples(false, Float64Array) as unknown;
  const chans: Float64Array[] = fmt.numChannels === 1 ? [raw as Float64Array] : Array.from(raw as Float64Array[]);
  if (bitDepth !== "32f" && bitDepth !== "64") {
    const bits = Number(bitDepth);
    const offset = bits === 8 ? 128 : 0; // 8-bit WAV is unsigned
    const scale = 1 / 2 ** (bits - 1);
    for (const c of chans) for (let i = 0; i < c.length; i++) c[i] = (c[i] - offset) * scale;
  }
  for (const c of chans) {
    for (let i = 0; i < c.length; i++) {
      if (!Number.isFinite(c[i])) throw new Error(`${where}: sample ${i} is ${c[i]} (NaN or infinite)`);
    }
  }
  return { sampleRate: fmt.sampleRate, channels: chans, bitDepth, truncated };
}

/** Averages the channels into one, as the official loader does (`audio.mean(-1)`). Shape: `[samples]`. */
export function toMono(audio: DecodedAudio): Float64Array {
  const { channels } = audio;
  if (channels.length === 1) return channels[0];
  const n = channels[0].length;
  const out = new Float64Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] += c[i];
  for (let i = 0; i < n; i++) out[i] /= channels.length;
  return out;
}

/** Reads and decodes a WAV file (Node only). */
export async function readWav(path: string): Promise<DecodedAudio> {
  const { readFile } = await import("node:fs/promises");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`no such WAV file: ${path}`);
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  return decodeWav(bytes, path);
}

/** WAV sample formats {@link encodeWav} writes. */
export type WavBitDepth = "8" | "16" | "24" | "32" | "32f";

/**
 * Encodes channels of samples in [-1, 1] as a WAV file. Integer formats round to nearest and clip, so
 * decode(encode(x)) equals x within half a quantisation step.
 * @param channels `[channels][samples]`, all the same length
 */
export function encodeWav(channels: ArrayLike<number>[], sampleRate: number, bitDepth: WavBitDepth = "16"): Uint8Array {
  if (channels.length === 0) throw new Error("encodeWav needs at least one channel");
  const n = channels[0].length;
  for (const c of channels) {
    if (c.length !== n) throw new Error(`encodeWav: channels differ in length (${n} vs ${c.length})`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new Error(`encodeWav: bad sample rate ${sampleRate}`);
  const data = channels.map((c) => {
    if (bitDepth === "32f") return Float32Array.from(c as ArrayLike<number>);
    const bits = Number(bitDepth);
    const max = 2 ** (bits - 1);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = c[i];
      if (!Number.isFinite(v)) throw new Error(`encodeWav: sample ${i} is ${v}`);
      let q = Math.round(v * max);
      q = Math.max(-max, Math.min(max - 1, q));
      out[i] = bits === 8 ? q + 128 : q;
    }
    return out;
  });
  const wav = new WaveFile();
  wav.fromScratch(channels.length, sampleRate, bitDepth, data.length === 1 ? data[0] : data);
  return wav.toBuffer();
}
