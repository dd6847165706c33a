/**
 * The REACT challenge's no-training baselines (baseline_react2024 run_baselines.py), the floor and ceiling of every
 * table: K copies of a prediction per speaker clip, or K random ones.
 *
 * - `gt`: the clip's real listener reaction (the ceiling: it is one of its own appropriate reactions);
 * - `random`: every value uniform in [0, 1) (as torch.rand), K independent draws;
 * - `mime`: the speaker's own emotion, unlagged as the official code does, or delayed by `lag` frames (the first
 *   frame held): a listener who mimics can only follow, and an online generator only sees the past;
 * - `meanseq`: the training split's mean sequence (per frame, over every speaker and listener track);
 * - `meanfr`: the training split's mean frame, repeated over the clip.
 */
import { EMOTION_DIM } from "@perfrdiff/layout";
import type { FrameTrack } from "@perfrdiff/layout";
import { mulberry32 } from "@perfrdiff/metrics";

export const REACT_BASELINES = ["gt", "random", "mime", "meanseq", "meanfr"] as const;
export type BaselineName = (typeof REACT_BASELINES)[number];

/** The emotion tracks a baseline reads: per speaker clip, the speaker's and its real listener's ([T, 25] each). */
export interface EmotionClips {
  speakerEmotion: FrameTrack[];
  listenerEmotion: FrameTrack[];
}

export interface BaselineOptions {
  /** Reactions per clip (default 10, as the official script). */
  k?: number;
  /** Seed of `random` (default 0). */
  seed?: number;
  /** `mime`: delay of the speaker's emotion in frames (default 0, the official baseline; 50 = 2 s at 25 fps). */
  lag?: number;
  /** `meanseq` / `meanfr`: the training split's emotion tracks (speakers' and listeners'), [T, 25] each. */
  training?: FrameTrack[];
}

function checkTracks(tracks: FrameTrack[], what: string, frames: number): void {
  tracks.forEach((t, i) => {
    if (t.dim !== EMOTION_DIM || t.frames !== frames || t.data.length !== frames * EMOTION_DIM) {
      throw new Error(`${what} ${i} is [${t.frames}, ${t.dim}] (${t.data.length} values); expected [${frames}, ${EMOTION_DIM}]`);
    }
  });
}

/** The training tracks' mean sequence [T, 25] (float64 sums, as torch's mean over a float32 batch is close to). */
function meanSequence(training: FrameTrack[], frames: number): Float32Array {
  const sums = new Float64Array(frames * EMOTION_DIM);
  for (const t of training) for (let i = 0; i < sums.length; i++) sums[i] += t.data[i]!;
  return Float32Array.from(sums, (s) => s / training.length);
}

/** A track [T, 25] delayed by `lag` frames: frame f is frame f - lag, the first frame held before it. */
function delayed(data: Float32Array, frames: number, lag: number): Float32Array {
  if (lag === 0) return data;
  const out = new Float32Array(data.length);
  for (let f = 0; f < frames; f++) out.set(data.subarray(Math.max(0, f - lag) * EMOTION_DIM, (Math.max(0, f - lag) + 1) * EMOTION_DIM), f * EMOTION_DIM);
  return out;
}

/**
 * A baseline's predictions for N speaker clips of T frames: `[N, K, T, 25]`, row-major.
 * @throws on unknown names, tracks of other shapes, or a mean baseline without training tracks
 */
export function baselineReactions(name: BaselineName, clips: EmotionClips, options: BaselineOptions = {}): Float32Array {
  if (!REACT_BASELINES.includes(name)) throw new Error(`unknown baseline '${String(name)}'; expected one of ${REACT_BASELINES.join(", ")}`);
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a whole number >= 1, got ${k}`);
  const n = clips.speakerEmotion.length;
  if (!n) throw new Error("no clips");
  if (clips.listenerEmotion.length !== n) throw new Error(`${n} speaker tracks but ${clips.listenerEmotion.length} listener tracks`);
  const frames = clips.speakerEmotion[0]!.frames;
  checkTracks(clips.speakerEmotion, "speaker emotion", frames);
  checkTracks(clips.listenerEmotion, "listener emotion", frames);
  const clipSize = frames * EMOTION_DIM;
  const out = new Float32Array(n * k * clipSize);
  let repeated: (i: number) => ArrayLike<number>;
  switch (name) {
    case "random": {
      const r = mulberry32(options.seed ?? 0);
      for (let i = 0; i < out.length; i++) out[i] = r();
      return out;
    }
    case "gt":
      repeated = (i) => clips.listenerEmotion[i]!.data;
      break;
    case "mime": {
      const lag = options.lag ?? 0;
      if (!Number.isInteger(lag) || lag < 0) throw new Error(`lag must be a whole number of frames >= 0, got ${lag}`);
      repeated = (i) => delayed(clips.speakerEmotion[i]!.data, frames, Math.min(lag, frames));
      break;
    }
    case "meanseq":
    case "meanfr": {
      const training = options.training;
      if (!training?.length) throw new Error(`baseline ${name} needs the training split's emotion tracks (options.training)`);
      checkTracks(training, "training emotion", frames);
      const seq = meanSequence(training, frames);
      if (name === "meanfr") {
        // the mean over frames of the mean sequence, as the official mean(dim=0) twice
        const frame = new Float64Array(EMOTION_DIM);
        for (let f = 0; f < frames; f++) for (let d = 0; d < EMOTION_DIM; d++) frame[d] += seq[f * EMOTION_DIM + d]! / frames;
        for (let f = 0; f < frames; f++) for (let d = 0; d < EMOTION_DIM; d++) seq[f * EMOTION_DIM + d] = frame[d]!;
      }
      repeated = () => seq;
      break;
    }
  }
  for (let i = 0; i < n; i++) {
    const src = repeated(i);
    for (let j = 0; j < k; j++) out.set(src, (i * k + j) * clipSize);
  }
  return out;
}
