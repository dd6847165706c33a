/**
 * K generated reactions for every speaker clip of a split, as one array `[N, K, T, 25]` (what the metrics read): one
 * clip at a time through a {@link ReactionGenerator}, generic or personalised per clip from its listener's history.
 */
import { tf } from "@perfrdiff/core";
import type { GenerateOptions, ReactionGenerator } from "@perfrdiff/core";
import type { TrainingCorpus } from "@perfrdiff/core/training";
import { EMOTION_DIM } from "@perfrdiff/layout";
import type { FrameTrack } from "@perfrdiff/layout";

/** A split in memory: its items (speaker clip, its real listener reaction) and each item's appropriate reactions. */
export type SplitCorpus = Pick<TrainingCorpus, "items" | "appropriate">;

export interface SplitGenerationOptions extends Omit<GenerateOptions, "onProgress" | "faceCoefficients"> {
  /**
   * The listener history [T, 58] (normalised 3DMM) to personalise item i's reactions with (PMAFRG); null, or no
   * function, generates with the generic model (MAFRG).
   */
  history?: (item: number) => FrameTrack | null;
  /** Called after each clip. */
  onProgress?: (done: number, total: number) => void;
}

const track2d = (t: FrameTrack) => tf.tensor2d(t.data, [t.frames, t.dim]);

/**
 * Generates `k` reactions for each item's speaker clip: `[N, K, T, 25]`, row-major. Clip i's noise seed is
 * `seed + i`, so a split's predictions do not depend on how it is batched or resumed.
 */
export async function generateForCorpus(generator: ReactionGenerator, corpus: SplitCorpus, options: SplitGenerationOptions = {}): Promise<Float32Array> {
  const { history, onProgress, seed = 0, ...generate } = options;
  const k = generate.k ?? 10;
  const n = corpus.items.length;
  if (!n) throw new Error("the corpus has no items");
  const frames = corpus.items[0]!.speakerEmotion.frames;
  const clipSize = k * frames * EMOTION_DIM;
  const out = new Float32Array(n * clipSize);
  for (let i = 0; i < n; i++) {
    const it = corpus.items[i]!;
    const past = history?.(i) ?? null;
    if (past) {
      const h = track2d(past);
      try {
        generator.personalise(h);
      } finally {
        h.dispose();
      }
    } else if (generator.personalised) generator.resetPersonalisation();
    const clip = { audio: track2d(it.speakerAudio), emotion: track2d(it.speakerEmotion), threeDmm: track2d(it.speaker3dmm) };
    try {
      const r = await generator.generate(clip, { ...generate, k, seed: seed + i });
      try {
        out.set(await r.emotion.data(), i * clipSize);
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
