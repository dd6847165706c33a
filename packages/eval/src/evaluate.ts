/**
 * The REACT metrics of predictions for a split: each item's prediction against the split's real listener reactions,
 * the appropriate ones given by the corpus (the neighbour matrix's rows).
 */
import { evaluateReact } from "@perfrdiff/metrics";
import type { EvaluateOptions, PerClipMetrics, ReactEvalInputs, ReactMetrics } from "@perfrdiff/metrics";
import { EMOTION_DIM } from "@perfrdiff/layout";
import type { FrameTrack } from "@perfrdiff/layout";
import type { EmotionCorpus } from "./reactions";

function stackTracks(tracks: FrameTrack[]): Float32Array {
  const size = tracks[0]!.frames * EMOTION_DIM;
  const out = new Float32Array(tracks.length * size);
  tracks.forEach((t, i) => out.set(t.data, i * size));
  return out;
}

/**
 * The metric inputs for predictions `[N, K, T, 25]` of a split's N items: speakers `[N, T, 25]`, the listener pool
 * = the items' real reactions `[N, T, 25]`, neighbours `[N, N]` from the corpus' appropriate rows.
 */
export function splitEvalInputs(corpus: EmotionCorpus, predictions: Float32Array, k: number): ReactEvalInputs {
  const n = corpus.items.length;
  const t = corpus.items[0]!.speakerEmotion.frames;
  if (predictions.length !== n * k * t * EMOTION_DIM) {
    throw new Error(`predictions hold ${predictions.length} values; ${n} clips x ${k} reactions x ${t} frames x ${EMOTION_DIM} need ${n * k * t * EMOTION_DIM}`);
  }
  const neighbours = new Uint8Array(n * n);
  corpus.appropriate.forEach((row, i) => row.forEach((j) => (neighbours[i * n + j] = 1)));
  return {
    predictions: { data: predictions, shape: [n, k, t, EMOTION_DIM] },
    speaker: { data: stackTracks(corpus.items.map((it) => it.speakerEmotion)), shape: [n, t, EMOTION_DIM] },
    listener: { data: stackTracks(corpus.items.map((it) => it.listenerEmotion)), shape: [n, t, EMOTION_DIM] },
    neighbours: { data: neighbours, shape: [n, n] },
  };
}

/**
 * Every REACT metric of predictions `[N, K, T, 25]` for the corpus' items; with `perClip`, also each clip's values
 * (`[N]` per metric).
 */
export async function evaluateOnCorpus(corpus: EmotionCorpus, predictions: Float32Array, k: number, options: EvaluateOptions = {}): Promise<ReactMetrics & { perClip?: PerClipMetrics }> {
  const { timings: _timings, ...metrics } = await evaluateReact(splitEvalInputs(corpus, predictions, k), options);
  return metrics;
}
