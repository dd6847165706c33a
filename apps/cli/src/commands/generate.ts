import type { Command } from "commander";
import type { BackendName, ModuleName, SamplerName } from "@perfrdiff/core";
import type { FaceStats, FrameTrack } from "@perfrdiff/layout";
import { checkpointFolder, faceStatsFolder, fileExists, checkOutputFolder, readFloatNpy, wholeNumber } from "../inputs";
import { StageProgress } from "../progress";

/** The options of `perfrdiff generate` as commander hands them over (strings, as typed on the command line). */
export interface GenerateCliOptions {
  weights?: string;
  checkpointDir?: string;
  config?: string;
  data?: string;
  split?: string;
  clip?: string;
  speakerAudio?: string;
  speaker3dmm?: string;
  speakerEmotion?: string;
  listenerHistory?: string;
  listenerClip?: string;
  /** a synthetic listener of the default model's sample (L01 ...) */
  listener?: string;
  /** a folder with mean_face.npy / std_face.npy, or false for --no-face-stats */
  faceStats?: string | false;
  frames?: string;
  k?: string;
  steps?: string;
  sampler?: string;
  guidance?: string;
  seed?: string;
  backend?: string;
  out: string;
  force?: boolean;
  /** false with --no-coefficients */
  coefficients?: boolean;
  /** false with --no-video */
  video?: boolean;
  json?: boolean;
}

/** What `generate` wrote and how; also the content of meta.json (without `out` and `files`). */
export interface GenerateSummary {
  out: string;
  files: string[];
  k: number;
  frames: number;
  seed: number;
  sampler: SamplerName;
  steps: number;
  guidance: number;
  backend: string;
  weights: { source: "converted" | "torch-checkpoints" | "default"; path: string; modules: ModuleName[]; config: string };
  personalised: boolean;
  listenerHistory: string | null;
  speaker: { audio: string; emotion: string; threeDmm: string };
  faceStats: string | null;
  reactions: { file: string; shape: number[] };
  coefficients: { file: string; shape: number[]; meanFaceAdded: boolean } | null;
  /** the timeline picture of the reactions against the speaker */
  picture: string;
  /** the video of the speaker's and the first reactions' faces, when ffmpeg was found (null otherwise) */
  video: string | null;
  timingMs: { load: number; personalise: number; generate: number; total: number };
}

/** A per-frame track read from a file. */
interface Track extends FrameTrack {
  path: string;
}


/** An optional whole-number option (see {@link wholeNumber}). */
const optionalWhole = (value: string | undefined, flag: string, min: number): number | undefined =>
  value === undefined ? undefined : wholeNumber(value, flag, min);

/**
 * Reads `[frames, dim]` float values from a `.npy` (float32/64; unit dimensions are dropped, as the official loaders
 * squeeze), or a REACT emotion `.csv` when it is the emotion track. Every error names the role, the file and the shape.
 */
async function readTrack(path: string, what: string, dim: number): Promise<Track> {
  if (!(await fileExists(path))) throw new Error(`${what}: no such file: ${path}`);
  const { EMOTION_DIM } = await import("@perfrdiff/layout");
  if (path.toLowerCase().endsWith(".csv")) {
    if (dim !== EMOTION_DIM) throw new Error(`${what}: ${path} is a CSV; only emotion may be given as a REACT emotion CSV`);
    const { readEmotionCsv } = await import("@perfrdiff/features/face");
    const t = await readEmotionCsv(path);
    return { frames: t.frames, dim: t.dim, data: t.data, path };
  }
  const npy = await import("@perfrdiff/npy");
  const a = await readFloatNpy(path, what);
  const dims = a.shape.filter((d) => d !== 1);
  const frames = dims.length === 2 && dims[1] === dim ? dims[0] : dims.length === 1 && dims[0] === dim ? 1 : -1;
  if (frames < 0) throw new Error(`${what} ${path} has shape [${a.shape.join(", ")}]; expected [frames, ${dim}]`);
  const data = npy.toFloat32(a.data);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new Error(`${what} ${path} [${a.shape.join(", ")}]: frame ${Math.floor(i / dim)}, column ${i % dim} is ${data[i]}`);
    }
  }
  return { frames, dim, data, path };
}

/** The official audio features of a WAV, cut or zero-padded to `frames` video frames. */
async function audioFromWav(path: string, what: string, frames: number): Promise<Track> {
  if (!(await fileExists(path))) throw new Error(`${what}: no such file: ${path}`);
  const audio = await import("@perfrdiff/features/audio");
  const { REACT_FPS } = await import("@perfrdiff/layout");
  const wav = await audio.readWav(path);
  const feats = audio.extractReactAudioFeatures(audio.toMono(wav), wav.sampleRate, REACT_FPS, frames);
  return { frames: feats.frames, dim: feats.dim, data: feats.data, path };
}

/** The first `frames` rows of a track. */
const head = (t: FrameTrack, frames: number): FrameTrack => ({ frames, dim: t.dim, data: t.data.subarray(0, frames * t.dim) });

/**
 * `perfrdiff generate`: reads and checks the speaker clip (and listener history), then core loads the model,
 * personalises when a history is given and generates K reactions; writes reactions.npy `[K, T, 25]`,
 * coefficients.npy `[K, T, 58]` and meta.json into `--out`. Returns the summary that `--json` prints.
 */
export async function runGenerate(o: GenerateCliOptions, progress = new StageProgress()): Promise<GenerateSummary> {
  const t0 = performance.now();
  const { basename, join, resolve } = await import("node:path");
  const { mkdir, writeFile } = await import("node:fs/promises");
  const { AUDIO_DIM, EMOTION_DIM, FACE_DIM, REACT_FPS, denormalise3dmm, normalise3dmm } = await import("@perfrdiff/layout");

  // ---- options, checked before any weights or inputs are read
  const core = await import("@perfrdiff/core");
  const { BACKEND_NAMES, SAMPLER_NAMES } = core;
  if (o.weights && o.checkpointDir) throw new Error("give one of --weights DIR (converted by import-torch, or trained) or --checkpoint-dir DIR (official PyTorch checkpoints), not both");
  const sampler = (o.sampler ?? "ddim") as SamplerName;
  if (!SAMPLER_NAMES.includes(sampler)) throw new Error(`--sampler must be one of ${SAMPLER_NAMES.join(", ")}, got '${o.sampler}'`);
  const backendName = (o.backend ?? "wasm") as BackendName;
  if (!BACKEND_NAMES.includes(backendName)) throw new Error(`--backend must be one of ${BACKEND_NAMES.join(", ")}, got '${o.backend}'`);
  const k = wholeNumber(o.k ?? "10", "--k", 1);
  const seed = wholeNumber(o.seed ?? "0", "--seed", 0, 2 ** 32 - 1);
  const steps = optionalWhole(o.steps, "--steps", 1);
  const framesOpt = optionalWhole(o.frames, "--frames", 1);
  let guidance: number | undefined;
  if (o.guidance !== undefined) {
    guidance = Number(o.guidance);
    if (o.guidance.trim() === "" || !Number.isFinite(guidance)) throw new Error(`--guidance must be a number, got '${o.guidance}'`);
  }
  if (o.clip && !o.data) throw new Error("--clip needs --data (the REACT dataset root) and --split");
  if (o.listenerClip && !o.data) throw new Error("--listener-clip needs --data (the REACT dataset root) and --split");
  if ([o.listenerClip, o.listenerHistory, o.listener].filter((x) => x !== undefined).length > 1) throw new Error("give one of --listener-history, --listener-clip or --listener");
  const split = o.split ?? "val";
  const withCoefficients = o.coefficients !== false;
  const features = await import("@perfrdiff/features/vision");
  // the video needs the coefficients and ffmpeg (the system's, or the static build installed with @perfrdiff/features)
  const withVideo = o.video !== false && withCoefficients && (await features.hasFfmpeg());

  // Refuse before the (long) run if anything would be overwritten.
  const files = {
    reactions: join(o.out, "reactions.npy"),
    coefficients: join(o.out, "coefficients.npy"),
    picture: join(o.out, "reactions.svg"),
    video: join(o.out, "reactions.mp4"),
    meta: join(o.out, "meta.json"),
  };
  const outputs = [files.reactions, ...(withCoefficients ? [files.coefficients] : []), files.picture, ...(withVideo ? [files.video] : []), files.meta];
  await checkOutputFolder(o.out);
  if (!o.force) {
    for (const p of outputs) if (await fileExists(p)) throw new Error(`${p} exists; pass --force to overwrite`);
  }

  // ---- the model: --weights, --checkpoint-dir, or (none, or --weights default) the bundled default model
  const isDefault = !o.checkpointDir && core.isDefaultCheckpoint(o.weights);
  const weightsDir = o.checkpointDir ? undefined : await checkpointFolder(o.weights, "--weights", true);
  const checkpoint = weightsDir ?? { official: o.checkpointDir! };
  // ---- configuration: --config, else the weights folder's config.yaml, else the official one
  const { config: cfg, configSource } = await core.loadModelConfig(checkpoint, o.config ? await core.loadConfig(o.config) : undefined);
  const W = cfg.diffusion_decoder.args.window_size;

  // ---- speaker clip (and listener history): from the dataset layout, explicit files, or the bundled sample
  const { modalityPath } = await import("@perfrdiff/features/dataset");
  const clipFile = (modality: "audio" | "emotion" | "3dmm", clip: string) => join(o.data!, ...modalityPath(split, modality, clip).split("/"));
  const faceStatsDir = await faceStatsFolder(o.faceStats, o.data, weightsDir);
  const faceStats: FaceStats | null = faceStatsDir ? await (await import("@perfrdiff/features/face")).loadFaceStats(faceStatsDir) : null;
  const sample = await import("@perfrdiff/default-model");
  const useSample = !o.clip && !o.speakerAudio && !o.speakerEmotion && !o.speaker3dmm;
  if (useSample) process.stderr.write(`no speaker clip given: using the default model's sample clip (${await sample.defaultSamplePath("")})\n`);

  const source = async (explicit: string | undefined, modality: "audio" | "emotion" | "3dmm", flag: string): Promise<string> => {
    if (explicit) return explicit;
    if (useSample) return sample.defaultSamplePath(sample.sampleSpeakerFiles()[modality === "3dmm" ? "threeDmm" : modality]);
    if (!o.clip) throw new Error(`no speaker ${modality}: give ${flag} FILE, or --data DIR --split S --clip CLIP`);
    return clipFile(modality, o.clip);
  };
  const emotionPath = await source(o.speakerEmotion, "emotion", "--speaker-emotion");
  let emotionFile = emotionPath;
  // The released emotion files are CSVs; a .npy beside the missing CSV is accepted.
  if (!o.speakerEmotion && !(await fileExists(emotionPath))) {
    const npyPath = emotionPath.replace(/\.csv$/, ".npy");
    if (await fileExists(npyPath)) emotionFile = npyPath;
  }
  const emotion = await readTrack(emotionFile, "speaker emotion", EMOTION_DIM);
  const threeDmm = await readTrack(await source(o.speaker3dmm, "3dmm", "--speaker-3dmm"), "speaker 3DMM", FACE_DIM);
  const audioPath = await source(o.speakerAudio, "audio", "--speaker-audio");
  const audio = audioPath.toLowerCase().endsWith(".wav")
    ? // computed for as many frames as the face tracks, as the official loader cuts/pads audio to the clip length
      await audioFromWav(audioPath, "speaker audio", Math.min(emotion.frames, threeDmm.frames))
    : await readTrack(audioPath, "speaker audio", AUDIO_DIM);
  const tracks = [audio, emotion, threeDmm];
  const available = Math.min(...tracks.map((t) => t.frames));
  if (framesOpt === undefined && tracks.some((t) => t.frames !== available)) {
    throw new Error(
      `speaker tracks differ in length: audio ${audio.path} ${audio.frames}, emotion ${emotion.path} ${emotion.frames}, ` +
        `3DMM ${threeDmm.path} ${threeDmm.frames} frames; pass --frames N to use the first N of each`,
    );
  }
  // The official loaders cut 751-frame files to clip_length 750 (a multiple of the 50-frame window).
  const T = framesOpt ?? Math.floor(available / W) * W;
  if (T === 0) throw new Error(`the speaker clip has ${available} frames; at least one ${W}-frame window is needed`);
  if (T % W !== 0) throw new Error(`--frames ${T} must be a multiple of the model's ${W}-frame window`);
  for (const t of tracks) if (t.frames < T) throw new Error(`${t.path} has ${t.frames} frames; --frames asks for ${T}`);
  let history: Track | null = null;
  if (o.listener !== undefined && !(sample.SAMPLE_LISTENERS as readonly string[]).includes(o.listener)) {
    throw new Error(`--listener must be one of the sample's listeners ${sample.SAMPLE_LISTENERS.join(", ")}, got '${o.listener}'`);
  }
  if (o.listenerHistory || o.listenerClip || o.listener) {
    const path = o.listenerHistory ?? (o.listener ? await sample.defaultSamplePath(`listeners/${o.listener}.npy`) : clipFile("3dmm", o.listenerClip!));
    history = await readTrack(path, "listener history", FACE_DIM);
    const where = o.config ?? configSource;
    if (!cfg.main_model) throw new Error(`personalisation needs a configuration with a main_model section (rewrite_weight.yaml); ${where} has none`);
  }
  // The model's 3DMM space is the normalised one (official: coefficients minus mean_face).
  const toModel = (t: FrameTrack) => (faceStats ? normalise3dmm(t, faceStats) : t);

  // ---- the model: core loads only the modules this run needs (the full-rank PWSG alone is 6.5 GB)
  progress.update("load", 0, core.requiredModules(cfg, { personalise: history !== null }).length, "modules");
  const gen = await core.createReactionGenerator({
    checkpoint,
    config: cfg,
    backend: backendName,
    personalise: history !== null,
    onModuleLoaded: (_m, done, total) => progress.update("load", done, total, "modules"),
  });
  const { tf } = core;
  try {
    const tLoaded = performance.now();

    if (history) {
      progress.update("personalise", 0, 1);
      const h = toModel(history);
      const ht = tf.tensor2d(h.data, [h.frames, FACE_DIM]);
      try {
        gen.personalise(ht);
      } finally {
        ht.dispose();
      }
      progress.update("personalise", 1, 1);
    }
    const tPersonalised = performance.now();

    const clip = {
      audio: tf.tensor2d(head(audio, T).data, [T, AUDIO_DIM]),
      emotion: tf.tensor2d(head(emotion, T).data, [T, EMOTION_DIM]),
      threeDmm: tf.tensor2d(toModel(head(threeDmm, T)).data, [T, FACE_DIM]),
    };
    const windows = `${T / W} windows x ${k} reactions`;
    progress.update("sampling", 0, steps ?? core.samplerFromConfig(cfg.diffusion_decoder.scheduler, sampler).defaultSteps, `steps (${windows})`);
    let res;
    try {
      res = await gen.generate(clip, {
        k,
        steps,
        sampler,
        guidance,
        seed,
        faceCoefficients: withCoefficients,
        onProgress: (p) => progress.update("sampling", p.step + 1, p.totalSteps, p.stage === "prior" ? `prior steps (${windows})` : `steps (${windows})`),
      });
    } finally {
      tf.dispose(Object.values(clip));
      progress.stop();
    }
    const reactions = (await res.emotion.data()) as Float32Array;
    let coefficients = res.faceCoefficients ? ((await res.faceCoefficients.data()) as Float32Array) : null;
    tf.dispose([res.emotion, res.faceCoefficients].filter((t) => t !== undefined));
    // The renderer of the official code adds mean_face back to predicted coefficients (they live in the normalised
    // space); do the same so coefficients.npy has the layout of the 3D_FV_files.
    if (coefficients && faceStats) coefficients = denormalise3dmm({ frames: k * T, dim: FACE_DIM, data: coefficients }, faceStats).data;
    const tGenerated = performance.now();

    // ---- outputs
    const npy = await import("@perfrdiff/npy");
    await mkdir(o.out, { recursive: true });
    await npy.writeNpy(files.reactions, { data: reactions, shape: [k, T, EMOTION_DIM] }, { overwrite: !!o.force });
    if (coefficients) await npy.writeNpy(files.coefficients, { data: coefficients, shape: [k, T, FACE_DIM] }, { overwrite: !!o.force });
    const { reactionTimelineSvg, reactionVideoFrames } = await import("@perfrdiff/viz");
    const what = `${k} ${gen.personalised ? `reactions personalised to ${o.listener ?? basename(history!.path)}` : "generic reactions"}`;
    const { settings } = res;
    const svg = reactionTimelineSvg({ speaker: head(emotion, T).data, reactions, k, title: `${what} to ${useSample ? "the sample speaker clip" : basename(emotion.path)} (${sampler}, ${settings.steps} steps, seed ${seed})` });
    await writeFile(files.picture, svg, { flag: o.force ? "w" : "wx" });
    if (withVideo && coefficients) {
      // the speaker's face as read (not normalised) beside the first reactions'; the speaker's speech when a WAV is at hand
      const wav = audio.path.toLowerCase().endsWith(".wav") ? audio.path : useSample ? await sample.defaultSamplePath(sample.sampleSpeakerFiles().wav) : undefined;
      const shown = Math.min(k, 4);
      progress.update("video", 0, T, "frames");
      let done = 0;
      const frames = (function* () {
        for (const frame of reactionVideoFrames({ speaker: head(threeDmm, T).data, reactions: coefficients!, k, frames: T, maxReactions: shown })) {
          progress.update("video", ++done, T, "frames");
          yield frame;
        }
      })();
      await features.encodeVideo(files.video, frames, { fps: REACT_FPS, audio: wav, overwrite: !!o.force });
      progress.stop();
    }
    const summary: GenerateSummary = {
      out: resolve(o.out),
      files: outputs,
      k,
      frames: T,
      seed,
      sampler,
      steps: settings.steps,
      guidance: settings.guidance,
      backend: gen.backend,
      weights: {
        source: isDefault ? "default" : weightsDir ? "converted" : "torch-checkpoints",
        path: resolve((weightsDir ?? o.checkpointDir)!),
        modules: gen.modules,
        config: o.config ?? configSource,
      },
      personalised: gen.personalised,
      listenerHistory: history ? resolve(history.path) : null,
      speaker: { audio: resolve(audio.path), emotion: resolve(emotion.path), threeDmm: resolve(threeDmm.path) },
      faceStats: faceStatsDir ? resolve(faceStatsDir) : null,
      reactions: { file: "reactions.npy", shape: [k, T, EMOTION_DIM] },
      coefficients: coefficients ? { file: "coefficients.npy", shape: [k, T, FACE_DIM], meanFaceAdded: !!faceStats } : null,
      picture: "reactions.svg",
      video: withVideo ? "reactions.mp4" : null,
      timingMs: {
        load: Math.round(tLoaded - t0),
        personalise: Math.round(tPersonalised - tLoaded),
        generate: Math.round(tGenerated - tPersonalised),
        total: 0,
      },
    };
    summary.timingMs.total = Math.round(performance.now() - t0);
    const { out: _out, files: _files, ...meta } = summary;
    try {
      await writeFile(files.meta, `${JSON.stringify(meta, null, 2)}\n`, { flag: o.force ? "w" : "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${files.meta} exists; pass --force to overwrite`);
      throw err;
    }
    return summary;
  } finally {
    progress.stop();
    gen.dispose();
  }
}

const HELP = `
Weights (none given: the bundled default model, a small model trained by this toolkit on synthetic data; the
official ones are on Google Drive):
  --weights DIR          a folder written by 'perfrdiff import-torch' (<module>.safetensors, config.yaml), a run of
                         'perfrdiff train', or 'default' (the bundled default model)
  --checkpoint-dir DIR   the official PyTorch checkpoints in their official layout (paths from the config, as
                         verify-torch reads them): <trainer.checkpoint_dir>/TransformerDenoiser/checkpoint.pth,
                         ./checkpoints/embedder_latent/checkpoint.pth and, to personalise,
                         ./checkpoints/person_specific/checkpoint.pth and <trainer.checkpoint_dir>/ModifierNetwork/checkpoint.pth
  Only the modules a run needs are loaded (the full-rank PWSG, 6.5 GB, only with a listener history; it does not
  fit the wasm backend's 4 GB memory: personalise on the cpu or tensorflow backend with enough memory).

Speaker clip (T frames at 25 fps; the first multiple of the 50-frame window is used: 751 -> 750, as the official
loaders do):
  --data ROOT --split S --clip site/session/person/index
                         the clip's files in the REACT 2024 layout: S/Audio_files/CLIP.wav (-> 78-d MFCC features),
                         S/Emotion/CLIP*.csv (or .npy) [T, 25], S/3D_FV_files/CLIP.npy [T, 58]
  --speaker-audio F      .npy [T, 78] (perfrdiff features audio) or a .wav
  --speaker-emotion F    .npy [T, 25] or a REACT emotion .csv
  --speaker-3dmm F       .npy [T, 58] FaceVerse coefficients
  Explicit files replace the clip's file of that modality. None given: the default model's sample speaker clip (a
  held-out clip of its synthetic corpus).
Listener (personalised reactions; none: the generic model):
  --listener-history F   .npy [T, 58]: the listener's 3DMM in another clip (PSSL reads its first seq_len frames)
  --listener-clip CLIP   that history from a clip of --data
  --listener NAME        a synthetic listener of the default model's sample (L01 ... L06, each with its own style)
3DMM normalisation: the official model takes coefficients minus mean_face. --face-stats DIR (mean_face.npy,
std_face.npy; the official external/FaceVerse) subtracts it from the speaker 3DMM and the listener history and adds
it back to coefficients.npy. It defaults to the weights folder's FaceVerse/ (where perfrdiff train keeps the
statistics a model was trained with), else ROOT/FaceVerse with --data. Without face statistics the 3DMM inputs are
used as given (already normalised).

Outputs in --out (never overwritten without --force):
  reactions.npy     [K, T, 25] float32: 15 AU occurrences, valence, arousal, 8 expression probabilities, as the
                    dataset's emotion files (the model's raw output: each step clips its estimate of the clean
                    reaction to [-1, 1], but as in the official DDIM loop the last step, at t = 0, returns its input
                    (the previous step's sample), so values beyond [-1, 1] remain; with --steps 1 that input is the
                    starting noise itself)
  coefficients.npy  [K, T, 58] float32 from the emotion VAE's coefficient regressor (--no-coefficients to skip)
  reactions.svg     a picture: the AUs, valence/arousal and strongest expression of the K reactions against the
                    speaker's, over time
  reactions.mp4     when ffmpeg is found (the system's, or the one installed with @perfrdiff/features): the speaker's
                    face beside the first 4 reactions' faces (cartoon faces driven by the coefficients), with the
                    speaker's speech when a WAV is at hand (--no-video to skip)
  meta.json         seed, sampler, steps, guidance, k, backend, weights, personalised or not, timing

Examples:
  pnpm perfrdiff generate --out out/sample                     # the default model, the sample clip
  pnpm perfrdiff generate --listener L03 --k 5 --out out/L03   # personalised to a sample listener
  pnpm perfrdiff generate --checkpoint-dir PerFRDiff --config PerFRDiff/configs/rewrite_weight.yaml \\
    --speaker-audio a.npy --speaker-emotion e.csv --speaker-3dmm f.npy --face-stats PerFRDiff/external/FaceVerse --out out/a
  pnpm perfrdiff generate --weights weights/perfrdiff --data data --split test --clip NoXI/010_2016-03-25_Paris/Expert_video/1 \\
    --listener-clip NoXI/010_2016-03-25_Paris/Novice_video/2 --k 10 --out out/clip1
  S=packages/default-model/sample
  pnpm perfrdiff generate --weights runs/small --speaker-audio $S/speakers/2/speech.wav --speaker-emotion $S/speakers/2/emotion.npy \\
    --speaker-3dmm $S/speakers/2/3dmm.npy --listener-history $S/listeners/L05.npy --sampler dpm-solver++ --steps 20 --out out/2 --json`;

export function registerGenerate(program: Command): void {
  program
    .command("generate")
    .description(
      "Generate K appropriate facial reactions (emotion [K, T, 25] and 3DMM coefficients [K, T, 58]) to a speaker " +
        "clip, personalised to a listener when their 3DMM history is given (PSSL + PWSG), else with the generic model",
    )
    .option("--weights <dir>", "weights converted by perfrdiff import-torch, a training run, or 'default' (the default when none is given), see below")
    .option("--checkpoint-dir <dir>", "official PyTorch checkpoints in the official layout, see below")
    .option("--config <yaml>", "model configuration (official YAML); default: --weights' config.yaml, else the official settings")
    .option("--data <root>", "REACT 2024 dataset root (with --split and --clip)")
    .option("--split <name>", "dataset split folder", "val")
    .option("--clip <clip>", "speaker clip site/session/person/index in --data")
    .option("--speaker-audio <file>", "speaker audio features .npy [T, 78] (or a .wav)")
    .option("--speaker-emotion <file>", "speaker emotion .npy [T, 25] (or a REACT .csv)")
    .option("--speaker-3dmm <file>", "speaker 3DMM coefficients .npy [T, 58]")
    .option("--listener-history <file>", "listener 3DMM history .npy [T, 58]: personalise (PSSL + PWSG) before generating")
    .option("--listener-clip <clip>", "take the listener history from this clip's 3DMM file in --data")
    .option("--listener <name>", "personalise to a synthetic listener of the default model's sample (L01 ... L06)")
    .option("--face-stats <dir>", "folder with mean_face.npy and std_face.npy (see below)")
    .option("--no-face-stats", "use 3DMM inputs as given, even when ROOT/FaceVerse exists")
    .option("--frames <n>", "use the first n frames (a multiple of the 50-frame window)")
    .option("--k <n>", "reactions to generate", "10")
    .option("--steps <n>", "sampler steps (default: the config's num_inference_timesteps, 50; 20 for dpm-solver++)")
    .option("--sampler <name>", "ddim (official), ddpm or dpm-solver++", "ddim")
    .option("--guidance <scale>", "classifier-free guidance scale (default: the config's)")
    .option("--seed <n>", "noise seed in [0, 2^32); the same seed and inputs give identical outputs on a backend", "0")
    .option("--backend <name>", "tfjs backend: wasm, cpu, webgpu or tensorflow", "wasm")
    .requiredOption("--out <dir>", "output folder (reactions.npy, coefficients.npy, reactions.svg, reactions.mp4, meta.json)")
    .option("--force", "overwrite existing outputs")
    .option("--no-coefficients", "do not write coefficients.npy (nor the video)")
    .option("--no-video", "do not write reactions.mp4")
    .option("--json", "print a summary object on stdout")
    .addHelpText("after", HELP)
    .action(async (opts: GenerateCliOptions) => {
      const s = await runGenerate(opts);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      const t = s.timingMs;
      process.stderr.write(
        `${s.k} ${s.personalised ? "personalised" : "generic"} reactions of ${s.frames} frames (${s.sampler}, ${s.steps} steps, ` +
          `guidance ${s.guidance}, seed ${s.seed}, ${s.backend}) in ${(t.total / 1000).toFixed(1)} s ` +
          `(load ${(t.load / 1000).toFixed(1)}, personalise ${(t.personalise / 1000).toFixed(1)}, generate ${(t.generate / 1000).toFixed(1)})\n`,
      );
      for (const p of s.files) process.stdout.write(`${p}\n`);
    });
}
