import { describe, expect, it } from "vitest";
import { EMOTION_DIM } from "@perfrdiff/layout";
import type { FrameTrack } from "@perfrdiff/layout";
import { baselineReactions } from "./baselines";
import { evaluateOnCorpus, splitEvalInputs } from "./evaluate";
import type { SplitCorpus } from "./reactions";

const T = 60;
let s = 7;
const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
const track = (dim: number): FrameTrack => ({ frames: T, dim, data: Float32Array.from({ length: T * dim }, rand) });
const item = (id: string) => ({ speakerAudio: track(78), speakerEmotion: track(EMOTION_DIM), speaker3dmm: track(58), listenerEmotion: track(EMOTION_DIM), listener3dmm: track(58), listenerId: id });
// three clips; clip 0's reaction is also appropriate to clip 1
const corpus: SplitCorpus = { items: [item("a"), item("b"), item("a")], appropriate: [[0], [1, 0], [2]] };
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
