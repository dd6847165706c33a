import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../backend";
import { releaseDerivedWeights, weightProduct, withoutWeightCache } from "./linear";

// weightProduct's two paths: a cached transposed copy (plain weights), and the weight read in place (variables and
// withoutWeightCache, off wasm), against the product written out by hand, on cpu and on wasm.
const W = [
  [1, 2, 0, -1],
  [0.5, -2, 3, 1],
  [2, 0, 1, 1],
  [-1, 1, 1, 0],
  [0, 0, 2, -3],
  [1, 1, 1, 1],
];
const b = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6];
const x = [
  [1, 0, 2, -1],
  [0.5, 1, -1, 2],
];

/** Rows [from, to) of x W^T + b, in plain numbers. */
function expected(from: number, to: number): number[] {
  return x.flatMap((row) => W.slice(from, to).map((w, r) => w.reduce((s, v, k) => s + v * row[k]!, b[from + r]!)));
}

describe.each(["cpu", "wasm"] as const)("weightProduct on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(() => releaseDerivedWeights());

  it.each([
    [0, 6],
    [2, 5],
    [4, 6],
  ])("rows %i..%i: cached, in place and by hand agree; the gradient reaches the variable's rows", (from, to) => {
    const xt = tf.tensor3d([x], [1, 2, 4]);
    const Wt = tf.tensor2d(W);
    const bt = tf.tensor1d(b);
    const cached = weightProduct(xt, Wt, bt, from, to);
    expect(cached.shape).toEqual([1, 2, to - from]);
    const uncached = withoutWeightCache(() => weightProduct(xt, Wt, bt, from, to));
    for (const y of [cached, uncached]) {
      Array.from(y.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected(from, to)[i]!, 5));
    }
    const Wv = tf.variable(Wt);
    const { value, grads } = tf.variableGrads(() => tf.sum(weightProduct(xt, Wv, bt, from, to)) as tf.Scalar, [Wv]);
    // d sum(y) / dW[r, k] = sum over rows of x[., k] for the rows used, 0 for the others
    const colSums = [0, 1, 2, 3].map((k) => x[0]![k]! + x[1]![k]!);
    const want = W.flatMap((_, r) => colSums.map((s) => (r >= from && r < to ? s : 0)));
    Array.from(grads[Wv.name]!.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    expect(value.dataSync()[0]).toBeCloseTo(expected(from, to).reduce((s, v) => s + v, 0), 4);
    tf.dispose([xt, Wt, bt, cached, uncached, Wv, value, ...Object.values(grads)]);
  });
});
