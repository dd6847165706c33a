/**
 * K generated reactions for every speaker clip of a split, as one array `[N, K, T, 25]` (what the metrics read): one
 * clip at a time through a {@link ReactionGenerator}, generic or personalised per clip from its listener's history.
 */
import { tf } from "@perfrdiff/core";
import type { GenerateOptions, ReactionGenerator } from "@perfrdiff/core";
import type { TrainingCorpus } from "@perfrdiff/core/training";
import { EMOTION_DIM } from "@perfrdiff/layout";
import type { CorpusItem, FrameTrack } from "@perfrdiff/layout";

/** A split in memory: its items (speaker clip, its real listener reaction) and each item's appropriate reactions. */
export type SplitCorpus = Pick<TrainingCorpus, "items" | "appropriate">;

/** What the metrics and the REACT baselines read of a split: its emotion tracks and appropriate reactions. */
export interface EmotionCorpus {
  items: Pick<CorpusItem, "speakerEmotion" | "listenerEmotion" | "listenerId">[];
  appropriate: number[][];
}

export interface SplitGenerationOptions extends Omit<GenerateOptions, "onProgress" | "faceCoefficients"> {
  /**
   * The listener history [T, 58] (normalised 3DMM) to personalise item i's reactions with (PMAFRG); null, or no
   * function, generates with the generic model (MAFRG).
   */
  history?: (item: number) => FrameTrack | null;
  /** Called after each clip. */
  onProgress?: (done: number, total: number) => void;
  /** Item i's reactions `[K, T, 25]` from an earlier run (a resumed evaluation), or null to generate them. */
  existing?: (item: number) => Promise<Float32Array | null>;
  /** Called with each newly generated item's reactions `[K, T, 25]` (to save them), before the next one starts. */
  onClip?: (item: number, reactions: Float32Array) => Promise<void>;
}

const track2d = (t: FrameTrack) => tf.tensor2d(t.data, [t.frames, t.dim]);

/** An item's speaker clip as the generator takes it: audio `[T, 78]`, emotion `[T, 25]`, 3DMM `[T, 58]` (caller disposes). */
export function speakerClipTensors(item: Pick<CorpusItem, "speakerAudio" | "speakerEmotion" | "speaker3dmm">): { audio: tf.Tensor2D; emotion: tf.Tensor2D; threeDmm: tf.Tensor2D } {
  return { audio: track2d(item.speakerAudio), emotion: track2d(item.speakerEmotion), threeDmm: track2d(item.speaker3dmm) };
}

/**
 * Generates `k` reactions for each item's speaker clip: `[N, K, T, 25]`, row-major. Clip i's noise seed is
 * `seed + i`, so a split's predictions do not depend on how it is batched or resumed.
 */
export async function generateForCorpus(generator: ReactionGenerator, corpus: SplitCorpus, options: SplitGenerationOptions = {}): Promise<Float32Array> {
  const { history, onProgress, existing, onClip, seed = 0, ...generate } = options;
  const k = generate.k ?? 10;
  const n = corpus.items.length;
  if (!n) throw new Error("the corpus has no items");
  const frames = corpus.items[0]!.speakerEmotion.frames;
  const clipSize = k * frames * EMOTION_DIM;
  const out = new Float32Array(n * clipSize);
  for (let i = 0; i < n; i++) {
    const it = corpus.items[i]!;
    const saved = (await existing?.(i)) ?? null;
    if (saved) {
      if (saved.length !== clipSize) throw new Error(`item ${i}: saved reactions hold ${saved.length} values; [${k}, ${frames}, ${EMOTION_DIM}] needs ${clipSize}`);
      out.set(saved, i * clipSize);
      onProgress?.(i + 1, n);
      continue;
    }
    const past = history?.(i) ?? null;
    if (past) {
      const h = track2d(past);
      try {
        generator.personalise(h);
      } finally {
        h.dispose();
      }
    } else if (generator.personalised) generator.resetPersonalisation();
    const clip = speakerClipTensors(it);
    try {
      const r = await generator.generate(clip, { ...generate, k, seed: seed + i });
      try {
        const reactions = (await r.emotion.data()) as Float32Array;
        out.set(reactions, i * clipSize);
        await onClip?.(i, reactions);
      } finally {
        r.emotion.dispose();
      }
    } finally {
      tf.dispose([clip.audio, clip.emotion, clip.threeDmm]);
    }
    onProgress?.(i + 1, n);
  }
  if (generator.personalised) generator.resetPersonalisation();
  return out;
}
