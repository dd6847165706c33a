import { describe, expect, it } from "vitest";
import { EMOTION_DIM } from "@perfrdiff/layout";
import type { FrameTrack } from "@perfrdiff/layout";
import { baselineReactions } from "./baselines";

const T = 6;
/** A [T, 25] track whose value at (frame f, column d) is base + f + d / 100. */
const track = (base: number): FrameTrack => ({ frames: T, dim: EMOTION_DIM, data: Float32Array.from({ length: T * EMOTION_DIM }, (_, i) => base + Math.floor(i / EMOTION_DIM) + (i % EMOTION_DIM) / 100) });
const clips = { speakerEmotion: [track(0), track(10)], listenerEmotion: [track(100), track(200)] };
const at = (p: Float32Array, k: number, clip: number, j: number, f: number, d: number) => p[((clip * k + j) * T + f) * EMOTION_DIM + d]!;

describe("REACT baselines", () => {
  it("gt and mime repeat the listener's / the speaker's track K times", () => {
    const gt = baselineReactions("gt", clips, { k: 3 });
    const mime = baselineReactions("mime", clips, { k: 3 });
    expect(gt.length).toBe(2 * 3 * T * EMOTION_DIM);
    for (const j of [0, 2]) {
      expect(at(gt, 3, 1, j, 4, 7)).toBeCloseTo(204.07, 4);
      expect(at(mime, 3, 0, j, 5, 24)).toBeCloseTo(5.24, 4);
    }
  });

  it("mime with a lag delays the speaker and holds the first frame before it", () => {
    const p = baselineReactions("mime", clips, { k: 2, lag: 2 });
    expect([0, 1, 2, 3, 5].map((f) => at(p, 2, 1, 1, f, 0))).toEqual([10, 10, 10, 11, 13]);
    const past = baselineReactions("mime", clips, { k: 1, lag: 99 }); // longer than the clip: the first frame throughout
    expect(at(past, 1, 0, 0, T - 1, 3)).toBeCloseTo(0.03, 5);
    expect(() => baselineReactions("mime", clips, { lag: -1 })).toThrow(/lag must be a whole number/);
  });

  it("meanseq is the training tracks' mean per frame, meanfr its mean over frames", () => {
    const training = [track(1), track(3)]; // mean sequence: 2 + f + d/100
    const seq = baselineReactions("meanseq", clips, { k: 2, training });
    const fr = baselineReactions("meanfr", clips, { k: 2, training });
    expect(at(seq, 2, 1, 1, 4, 10)).toBeCloseTo(6.1, 5);
    // frames 0..5 average to 2.5 above the base 2
    for (const f of [0, 3, 5]) expect(at(fr, 2, 0, 1, f, 10)).toBeCloseTo(4.6, 5);
    expect(() => baselineReactions("meanfr", clips)).toThrow(/needs the training split's emotion tracks/);
  });

  it("random draws K different reactions in [0, 1), the same for the same seed", () => {
    const a = baselineReactions("random", clips, { k: 4, seed: 5 });
    const b = baselineReactions("random", clips, { k: 4, seed: 5 });
    const c = baselineReactions("random", clips, { k: 4, seed: 6 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThan(1);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(at(a, 4, 0, 0, 0, 0)).not.toBe(at(a, 4, 0, 1, 0, 0));
  });

  it("refuses unknown names, mismatched tracks and bad k", () => {
    expect(() => baselineReactions("median" as never, clips)).toThrow(/unknown baseline 'median'/);
    expect(() => baselineReactions("gt", { ...clips, listenerEmotion: [track(1)] })).toThrow(/2 speaker tracks but 1 listener tracks/);
    const short = { frames: T - 1, dim: EMOTION_DIM, data: new Float32Array((T - 1) * EMOTION_DIM) };
    expect(() => baselineReactions("gt", { ...clips, listenerEmotion: [track(1), short] })).toThrow(/listener emotion 1 is \[5, 25\]/);
    expect(() => baselineReactions("gt", clips, { k: 0 })).toThrow(/k must be a whole number >= 1/);
  });
});
