/**
 * What the demo server computes: K reactions of the default model to a speaker clip (a sample clip, or an uploaded WAV
 * with optional emotion / 3DMM files), generic or personalised (a sample listener, or an uploaded 3DMM history), with
 * the timeline picture and the metrics a single clip has (FRDiv, FRVar, FRSyn). Every input is checked and a bad one
 * is a {@link DemoInputError} naming the problem; requests run one at a time (one tfjs engine).
 */
import { createReactionGenerator, tf } from "@perfrdiff/core";
import type { ReactionGenerator } from "@perfrdiff/core";
import { SAMPLE_LISTENERS, SAMPLE_SPEAKERS, defaultModelDir, defaultSamplePath, sampleSpeakerFiles } from "@perfrdiff/default-model";
import { AUDIO_DIM, EMOTION_DIM, FACE_DIM, REACT_CLIP_FRAMES, REACT_FPS, denormalise3dmm, normalise3dmm } from "@perfrdiff/layout";
import type { FaceStats, FrameTrack } from "@perfrdiff/layout";
import { frdiv, frvar, tlccOffset } from "@perfrdiff/metrics";
import { parseNpy, toFloat32 } from "@perfrdiff/npy";
import { reactionTimelineSvg } from "@perfrdiff/viz";

/** A bad input: the server answers 400 with its message. */
export class DemoInputError extends Error {}

export type SpeakerInput = { sample: string } | { wav: string; emotion?: string; threeDmm?: string };
export type ListenerInput = null | { sample: string } | { history: string };

/** A generation request; files are base64 (WAV, .npy). */
export interface DemoRequest {
  speaker: SpeakerInput;
  listener: ListenerInput;
  /** reactions (1-6, default 4) */
  k?: number;
  /** DPM-Solver++ steps (2-50, default 10) */
  steps?: number;
  seed?: number;
}

/** A generation's result; float arrays are base64 of little-endian float32. */
export interface DemoResult {
  k: number;
  frames: number;
  fps: number;
  /** `[T, 25]` and `[T, 58]` (not normalised) */
  speakerEmotion: string;
  speaker3dmm: string;
  /** `[K, T, 25]` and `[K, T, 58]` (not normalised) */
  emotion: string;
  coefficients: string;
  timeline: string;
  metrics: { FRDiv: number; FRVar: number; FRSyn: number };
  personalised: boolean;
  listener: string | null;
  seconds: number;
}

export interface DemoSamples {
  speakers: { name: string; clip: string }[];
  listeners: { name: string; style: Record<string, unknown> }[];
}

const MAX_FRAMES = REACT_CLIP_FRAMES;
const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

/** Decodes a base64 upload, naming it when it is not base64. */
function bytesOf(b64text: string, what: string): Uint8Array {
  if (typeof b64text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64text)) throw new DemoInputError(`${what}: not a base64 file`);
  return new Uint8Array(Buffer.from(b64text, "base64"));
}

/** A `[frames, dim]` float track from an uploaded .npy (unit dimensions dropped), finite values only. */
function npyTrack(bytes: Uint8Array, what: string, dim: number): FrameTrack {
  let a;
  try {
    a = parseNpy(bytes);
  } catch (err) {
    throw new DemoInputError(`${what}: ${(err as Error).message}`);
  }
  if (a.dtype !== "<f4" && a.dtype !== "<f8") throw new DemoInputError(`${what}: dtype ${a.dtype}; expected float32 or float64`);
  const dims = a.shape.filter((d) => d !== 1);
  if (dims.length !== 2 || dims[1] !== dim) throw new DemoInputError(`${what}: shape [${a.shape.join(", ")}]; expected [frames, ${dim}]`);
  const data = toFloat32(a.data as Float32Array);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DemoInputError(`${what}: frame ${Math.floor(bad / dim)}, column ${bad % dim} is ${data[bad]}`);
  return { frames: dims[0]!, dim, data };
}

const head = (t: FrameTrack, frames: number): FrameTrack => ({ frames, dim: t.dim, data: t.data.slice(0, frames * t.dim) });

export class DemoModel {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly gen: ReactionGenerator,
    private readonly faceStats: FaceStats,
    readonly samples: DemoSamples,
  ) {}

  /** Loads the default model (on the wasm backend) and its sample's description. */
  static async create(): Promise<DemoModel> {
    const { readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { loadFaceStats } = await import("@perfrdiff/features/face");
    const gen = await createReactionGenerator({ backend: "wasm", personalise: true });
    const faceStats = await loadFaceStats(join(await defaultModelDir(), "FaceVerse"));
    const manifest = JSON.parse(await readFile(await defaultSamplePath("sample.json"), "utf8"));
    const samples: DemoSamples = {
      speakers: manifest.speakers.map((s: { name: string; clip: string }) => ({ name: s.name, clip: s.clip })),
      listeners: manifest.listeners.map((l: { name: string; style: Record<string, unknown> }) => ({ name: l.name, style: l.style })),
    };
    return new DemoModel(gen, faceStats, samples);
  }

  /** The speech of a sample speaker clip (WAV bytes). */
  async sampleWav(name: string): Promise<Uint8Array> {
    if (!(SAMPLE_SPEAKERS as readonly string[]).includes(name)) throw new DemoInputError(`no sample speaker '${name}'; the samples are ${SAMPLE_SPEAKERS.join(", ")}`);
    const { readFile } = await import("node:fs/promises");
    return new Uint8Array(await readFile(await defaultSamplePath(sampleSpeakerFiles(name as (typeof SAMPLE_SPEAKERS)[number]).wav)));
  }

  /** Reads a request's speaker clip: audio features [T, 78], emotion [T, 25], 3DMM [T, 58] (not normalised). */
  private async speakerOf(input: SpeakerInput): Promise<{ audio: FrameTrack; emotion: FrameTrack; threeDmm: FrameTrack }> {
    if (!input || typeof input !== "object") throw new DemoInputError("speaker: expected { sample } or { wav }");
    if ("sample" in input) {
      if (!(SAMPLE_SPEAKERS as readonly string[]).includes(input.sample)) throw new DemoInputError(`no sample speaker '${input.sample}'; the samples are ${SAMPLE_SPEAKERS.join(", ")}`);
      const f = sampleSpeakerFiles(input.sample as (typeof SAMPLE_SPEAKERS)[number]);
      const { readFile } = await import("node:fs/promises");
      const read = async (name: string, dim: number) => npyTrack(new Uint8Array(await readFile(await defaultSamplePath(name))), name, dim);
      return { audio: await read(f.audio, AUDIO_DIM), emotion: await read(f.emotion, EMOTION_DIM), threeDmm: await read(f.threeDmm, FACE_DIM) };
    }
    if (!("wav" in input)) throw new DemoInputError("speaker: expected { sample } or { wav }");
    const audio = await import("@perfrdiff/features/audio");
    let wav;
    try {
      wav = audio.decodeWav(bytesOf(input.wav, "speaker WAV"), "the speaker WAV", { complete: true });
    } catch (err) {
      throw new DemoInputError((err as Error).message);
    }
    const seconds = wav.channels[0]!.length / wav.sampleRate;
    const frames = Math.min(MAX_FRAMES, Math.floor(seconds * REACT_FPS));
    if (frames < 50) throw new DemoInputError(`the speaker WAV: ${seconds.toFixed(2)} s of audio; at least 2 s (one 50-frame window) is needed`);
    const feats = audio.extractReactAudioFeatures(audio.toMono(wav), wav.sampleRate, REACT_FPS, frames);
    // missing face tracks: a neutral face (the model's mean face, no AU active, neutral expression)
    const emotion = input.emotion ? npyTrack(bytesOf(input.emotion, "speaker emotion"), "speaker emotion", EMOTION_DIM) : neutralEmotion(frames);
    const threeDmm = input.threeDmm ? npyTrack(bytesOf(input.threeDmm, "speaker 3DMM"), "speaker 3DMM", FACE_DIM) : { frames, dim: FACE_DIM, data: repeat(this.faceStats.mean, frames) };
    return { audio: { frames: feats.frames, dim: feats.dim, data: feats.data }, emotion, threeDmm };
  }

  /** Runs one request after the ones before it. */
  generate(req: DemoRequest, onProgress?: (step: number, total: number) => void): Promise<DemoResult> {
    const run = this.queue.then(() => this.run(req, onProgress));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(req: DemoRequest, onProgress?: (step: number, total: number) => void): Promise<DemoResult> {
    const t0 = performance.now();
    const k = req.k ?? 4;
    const steps = req.steps ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > 6) throw new DemoInputError(`k must be a whole number from 1 to 6, got ${JSON.stringify(req.k)}`);
    if (!Number.isInteger(steps) || steps < 2 || steps > 50) throw new DemoInputError(`steps must be a whole number from 2 to 50, got ${JSON.stringify(req.steps)}`);
    const sp = await this.speakerOf(req.speaker);
    const available = Math.min(sp.audio.frames, sp.emotion.frames, sp.threeDmm.frames, MAX_FRAMES);
    const T = Math.floor(available / 50) * 50;
    if (T < 50) throw new DemoInputError(`the speaker clip has ${available} frames; at least 50 (2 s) are needed`);
    let history: FrameTrack | null = null;
    let listener: string | null = null;
    if (req.listener) {
      if ("sample" in req.listener) {
        if (!(SAMPLE_LISTENERS as readonly string[]).includes(req.listener.sample)) throw new DemoInputError(`no sample listener '${req.listener.sample}'; the samples are ${SAMPLE_LISTENERS.join(", ")}`);
        const { readFile } = await import("node:fs/promises");
        history = npyTrack(new Uint8Array(await readFile(await defaultSamplePath(`listeners/${req.listener.sample}.npy`))), req.listener.sample, FACE_DIM);
        listener = req.listener.sample;
      } else if ("history" in req.listener) {
        history = npyTrack(bytesOf(req.listener.history, "listener history"), "listener history", FACE_DIM);
        if (history.frames < 50) throw new DemoInputError(`listener history: ${history.frames} frames; at least 50 are needed to personalise`);
        listener = "uploaded history";
      } else throw new DemoInputError("listener: expected null, { sample } or { history }");
    }
    const clip = {
      audio: tf.tensor2d(head(sp.audio, T).data, [T, AUDIO_DIM]),
      emotion: tf.tensor2d(head(sp.emotion, T).data, [T, EMOTION_DIM]),
      threeDmm: tf.tensor2d(normalise3dmm(head(sp.threeDmm, T), this.faceStats).data, [T, FACE_DIM]),
    };
    try {
      if (history) {
        const h = tf.tensor2d(normalise3dmm(history, this.faceStats).data, [history.frames, FACE_DIM]);
        try {
          this.gen.personalise(h);
        } finally {
          h.dispose();
        }
      } else this.gen.resetPersonalisation();
      const r = await this.gen.generate(clip, { k, steps, sampler: "dpm-solver++", seed: req.seed ?? 0, faceCoefficients: true, onProgress: (p) => onProgress?.(p.step + 1, p.totalSteps) });
      const emotion = (await r.emotion.data()) as Float32Array;
      const normalised = (await r.faceCoefficients!.data()) as Float32Array;
      tf.dispose([r.emotion, r.faceCoefficients!]);
      const coefficients = denormalise3dmm({ frames: k * T, dim: FACE_DIM, data: normalised }, this.faceStats).data;
      const speakerEmotion = head(sp.emotion, T).data;
      const metrics = {
        FRDiv: frdiv(emotion, 1, k, T, EMOTION_DIM),
        FRVar: frvar(emotion, 1, k, T, EMOTION_DIM),
        FRSyn: tlccOffset(emotion, 0, speakerEmotion, 0, T, EMOTION_DIM),
      };
      const title = `${k} ${history ? `reactions personalised to ${listener}` : "generic reactions"}`;
      return {
        k,
        frames: T,
        fps: REACT_FPS,
        speakerEmotion: b64(speakerEmotion),
        speaker3dmm: b64(head(sp.threeDmm, T).data),
        emotion: b64(emotion),
        coefficients: b64(coefficients),
        timeline: reactionTimelineSvg({ speaker: speakerEmotion, reactions: emotion, k, title }),
        metrics,
        personalised: history !== null,
        listener,
        seconds: (performance.now() - t0) / 1000,
      };
    } finally {
      tf.dispose(Object.values(clip));
      this.gen.resetPersonalisation();
    }
  }

  dispose(): void {
    this.gen.dispose();
  }
}

/** `frames` frames of a neutral emotion: no AU, valence and arousal 0, the Neutral expression. */
function neutralEmotion(frames: number): FrameTrack {
  const data = new Float32Array(frames * EMOTION_DIM);
  for (let f = 0; f < frames; f++) data[f * EMOTION_DIM + 17] = 1;
  return { frames, dim: EMOTION_DIM, data };
}

function repeat(row: Float32Array, frames: number): Float32Array {
  const out = new Float32Array(frames * row.length);
  for (let f = 0; f < frames; f++) out.set(row, f * row.length);
  return out;
}
