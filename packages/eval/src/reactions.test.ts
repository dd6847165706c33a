import { describe, expect, it } from "vitest";
import { createReactionGenerator, presetConfig, tf } from "@perfrdiff/core";
import type { ReactionGenerator } from "@perfrdiff/core";
import { randomWeights } from "@perfrdiff/core/weights";
import { EMOTION_DIM, FACE_DIM } from "@perfrdiff/layout";
import { generateForCorpus, speakerClipTensors } from "./reactions";
import type { SplitCorpus } from "./reactions";
import { randomItems } from "./test-helpers";

const T = 100; // two 50-frame windows
const corpus: SplitCorpus = { items: randomItems(["a", "b", "a"], T, 3), appropriate: [[0], [1], [2]] };

describe("generateForCorpus", () => {
  it("gives clip i the reactions generate() gives it with seed + i", async () => {
    const cfg = presetConfig("small");
    const gen = await createReactionGenerator({ checkpoint: { denoiser: randomWeights(cfg, "denoiser", 1), emotion_vae: randomWeights(cfg, "emotion_vae", 2) }, config: cfg, backend: "cpu" });
    try {
      const k = 2;
      const progress: number[] = [];
      const all = await generateForCorpus(gen, corpus, { k, steps: 2, guidance: 2, seed: 40, onProgress: (d) => progress.push(d) });
      expect(all.length).toBe(3 * k * T * EMOTION_DIM);
      expect(progress).toEqual([1, 2, 3]);
      const clip = speakerClipTensors(corpus.items[2]!);
      const alone = await gen.generate(clip, { k, steps: 2, guidance: 2, seed: 42 });
      const expected = await alone.emotion.data();
      tf.dispose([clip.audio, clip.emotion, clip.threeDmm, alone.emotion]);
      expect(all.subarray(2 * k * T * EMOTION_DIM)).toEqual(expected);
      expect(all.subarray(0, k * T * EMOTION_DIM)).not.toEqual(expected);
    } finally {
      gen.dispose();
    }
  });

  it("personalises each clip with its listener's history and leaves the generator generic", async () => {
    const calls: string[] = [];
    let personal = false;
    const recorder = {
      get personalised() {
        return personal;
      },
      personalise: (h: tf.Tensor) => {
        calls.push(`personalise ${h.shape.join("x")}`);
        personal = true;
      },
      resetPersonalisation: () => {
        calls.push("reset");
        personal = false;
      },
      generate: async (_clip: unknown, o: { k: number; seed: number }) => {
        calls.push(`generate seed ${o.seed}`);
        return { emotion: tf.zeros([o.k, T, EMOTION_DIM]) };
      },
    } as unknown as ReactionGenerator;
    const history = (i: number) => (i === 1 ? null : corpus.items[i]!.listener3dmm);
    await generateForCorpus(recorder, corpus, { k: 1, seed: 5, history });
    expect(calls).toEqual([`personalise ${T}x${FACE_DIM}`, "generate seed 5", "reset", "generate seed 6", `personalise ${T}x${FACE_DIM}`, "generate seed 7", "reset"]);
    await expect(generateForCorpus(recorder, { items: [], appropriate: [] })).rejects.toThrow(/no items/);
  });
});
