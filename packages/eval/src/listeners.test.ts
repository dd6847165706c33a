import { describe, expect, it } from "vitest";
import { tf } from "@perfrdiff/core";
import type { PersonSpecificEncoder } from "@perfrdiff/core/modules";
import { EMOTION_DIM, FACE_DIM } from "@perfrdiff/layout";
import { STYLE_COLUMNS, listenerRetrieval, reactionStyle, styleDistance } from "./listeners";

/**
 * An encoder whose projection is the unit-normalised mean of a clip's first 4 coefficients over its seq_len frames:
 * what retrieval does with embeddings is then known exactly.
 */
const meanEncoder = (seqLen: number) =>
  ({
    config: { seq_len: seqLen },
    forward: (x: tf.Tensor3D) => {
      const m = tf.mean(tf.slice(x, [0, 0, 0], [-1, -1, 4]), 1);
      return { proj: tf.div(m, tf.norm(m, 2, 1, true)), feat: m };
    },
  }) as unknown as PersonSpecificEncoder;

/** A clip whose coefficient `col` is 1 on every frame (and `noise` on coefficient 3), the rest 0. */
function clip(listenerId: string, col: number, frames = 10, noise = 0) {
  const data = new Float32Array(frames * FACE_DIM);
  for (let f = 0; f < frames; f++) {
    data[f * FACE_DIM + col] = 1;
    data[f * FACE_DIM + 3] += noise;
  }
  return { listenerId, threeDmm: { frames, dim: FACE_DIM, data } };
}

describe("listener identity retrieval", () => {
  it("finds each query's listener by its nearest gallery clip and states the chance level", async () => {
    const gallery = [clip("a", 0), clip("a", 0, 10, 0.5), clip("b", 1), clip("c", 2)];
    const queries = [clip("a", 0, 10, 0.1), clip("b", 1, 10, 0.2), clip("c", 0, 10, 0.9)]; // c looks like a
    const r = await listenerRetrieval(meanEncoder(8), gallery, queries);
    expect(r.accuracy).toBeCloseTo(2 / 3, 10);
    expect(r.chance).toBeCloseTo((0.5 + 0.25 + 0.25) / 3, 10);
    expect(r.perListener).toEqual({ a: { queries: 1, correct: 1 }, b: { queries: 1, correct: 1 }, c: { queries: 1, correct: 0 } });
    // margin: per query, the best cosine to its own listener's clips minus the best to another's
    const unit = (v: number[]) => v.map((x) => x / Math.hypot(...v));
    const cos = (u: number[], v: number[]) => unit(u).reduce((s, x, i) => s + x * unit(v)[i]!, 0);
    const [a0, a1, b, c] = [[1, 0, 0, 0], [1, 0, 0, 0.5], [0, 1, 0, 0], [0, 0, 1, 0]];
    const [qa, qb, qc] = [[1, 0, 0, 0.1], [0, 1, 0, 0.2], [1, 0, 0, 0.9]];
    const margins = [Math.max(cos(qa, a0), cos(qa, a1)) - 0, cos(qb, b) - cos(qb, a1), cos(qc, c) - cos(qc, a1)];
    expect(r.margin).toBeCloseTo(margins.reduce((x, y) => x + y) / 3, 5);
  });

  it("refuses clips shorter than the encoder's history and empty sets", async () => {
    await expect(listenerRetrieval(meanEncoder(20), [clip("a", 0)], [clip("a", 0)])).rejects.toThrow(/listener clip of a has 10 frames; PSSL reads 20/);
    await expect(listenerRetrieval(meanEncoder(8), [], [clip("a", 0)])).rejects.toThrow(/needs gallery and query clips/);
  });
});

describe("reaction style", () => {
  it("averages the style columns over frames and compares styles by mean absolute difference", () => {
    const frames = 4;
    const e = new Float32Array(frames * EMOTION_DIM);
    for (let f = 0; f < frames; f++) {
      e[f * EMOTION_DIM + STYLE_COLUMNS.smile] = f < 2 ? 1 : 0; // smiling half of the time
      e[f * EMOTION_DIM + STYLE_COLUMNS.valence] = 0.4;
    }
    const s = reactionStyle(e);
    expect(s).toEqual({ smile: 0.5, cheekRaise: 0, dimpler: 0, lipsPart: 0, valence: expect.closeTo(0.4, 6) });
    expect(styleDistance(s, { ...s, smile: 0, dimpler: 1 })).toBeCloseTo(1.5 / 5, 10);
    expect(() => reactionStyle(new Float32Array(26))).toThrow(/multiple of 25 values/);
  });
});
