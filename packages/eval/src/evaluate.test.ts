import { describe, expect, it } from "vitest";
import { EMOTION_DIM } from "@perfrdiff/layout";
import { baselineReactions } from "./baselines";
import { evaluateOnCorpus, splitEvalInputs } from "./evaluate";
import type { SplitCorpus } from "./reactions";
import { randomItems } from "./test-helpers";

const T = 60;
// three clips; clip 0's reaction is also appropriate to clip 1
const corpus: SplitCorpus = { items: randomItems(["a", "b", "a"], T, 7), appropriate: [[0], [1, 0], [2]] };
const clips = { speakerEmotion: corpus.items.map((i) => i.speakerEmotion), listenerEmotion: corpus.items.map((i) => i.listenerEmotion) };

describe("evaluation on a split", () => {
  it("builds the neighbour matrix from the appropriate rows and stacks the tracks", () => {
    const inputs = splitEvalInputs(corpus, new Float32Array(3 * 2 * T * EMOTION_DIM), 2);
    expect(Array.from(inputs.neighbours.data)).toEqual([1, 0, 0, 1, 1, 0, 0, 0, 1]);
    expect(inputs.predictions.shape).toEqual([3, 2, T, EMOTION_DIM]);
    expect(inputs.listener.data[(2 * T + 3) * EMOTION_DIM + 4]).toBe(corpus.items[2]!.listenerEmotion.data[3 * EMOTION_DIM + 4]);
    expect(() => splitEvalInputs(corpus, new Float32Array(10), 2)).toThrow(/predictions hold 10 values; 3 clips x 2 reactions x 60 frames x 25 need 9000/);
  });

  it("the ground truth is at distance 0 with no diversity; random reactions are far and diverse", async () => {
    const gt = await evaluateOnCorpus(corpus, baselineReactions("gt", clips, { k: 3 }), 3);
    expect(gt.FRdist).toBe(0);
    expect(gt.FRDiv).toBe(0);
    const random = await evaluateOnCorpus(corpus, baselineReactions("random", clips, { k: 3 }), 3);
    expect(random.FRdist).toBeGreaterThan(1);
    expect(random.FRDiv).toBeGreaterThan(0.05);
    expect(random.FRCorr).toBeLessThan(gt.FRCorr);
  });
});
