import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { useBackend } from "../backend";
import { relError } from "../../test/rel-error";
import { bmm } from "./matmul";

// The wasm fast path (one XNNPACK product per batch entry, on views) against tfjs's own cpu kernels, values and
// gradients, for equal batches, a shared left or right operand, and a fused bias.
type Shape = [number, number, number];
const cases: [string, Shape, Shape, boolean][] = [
  ["equal batches", [5, 7, 9], [5, 9, 11], false],
  ["shared right operand, bias", [4, 6, 8], [1, 8, 3], true],
  ["shared left operand", [1, 6, 8], [3, 8, 5], false],
  ["one product, bias", [1, 13, 17], [1, 17, 19], true],
];

type Result = { y: Float32Array; grads: Float32Array[] };

function run(sa: Shape, sb: Shape, withBias: boolean, reference: boolean): Result {
  return tf.tidy(() => {
    const a = tf.randomNormal(sa, 0, 1, "float32", 1) as tf.Tensor3D;
    const b = tf.randomNormal(sb, 0, 1, "float32", 2) as tf.Tensor3D;
    const bias = tf.randomNormal([sb[2]], 0, 1, "float32", 3) as tf.Tensor1D;
    const B = Math.max(sa[0], sb[0]);
    const r = tf.randomNormal([B, sa[1], sb[2]], 0, 1, "float32", 4);
    const f = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor = bias) => {
      let out: tf.Tensor;
      if (reference) out = tf.add(tf.matMul(x.shape[0] === B ? x : tf.tile(x, [B, 1, 1]), y.shape[0] === B ? y : tf.tile(y, [B, 1, 1])), withBias ? z : 0);
      else out = bmm(x as tf.Tensor3D, y as tf.Tensor3D, withBias ? (z as tf.Tensor1D) : undefined);
      return tf.sum(tf.mul(out, r));
    };
    const y = reference
      ? tf.add(tf.matMul(sa[0] === B ? a : tf.tile(a, [B, 1, 1]), sb[0] === B ? b : tf.tile(b, [B, 1, 1])), withBias ? bias : 0)
      : bmm(a, b, withBias ? bias : undefined);
    const grads = tf.grads(f)(withBias ? [a, b, bias] : [a, b]);
    return { y: y.dataSync() as Float32Array, grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

const relDiff = relError;

describe("bmm (batched products on tfjs-wasm's XNNPACK path)", () => {
  it.each(cases)("%s: values and gradients equal tf.matMul's", async (_, sa, sb, withBias) => {
    await useBackend("cpu");
    const ref = run(sa, sb, withBias, true);
    await useBackend("wasm");
    const ours = run(sa, sb, withBias, false);
    expect(ours.y.length).toBe(ref.y.length);
    expect(relDiff(ours.y, ref.y)).toBeLessThan(1e-6);
    expect(ours.grads.length).toBe(ref.grads.length);
    ours.grads.forEach((g, i) => {
      expect(g.length, `gradient ${i}`).toBe(ref.grads[i].length);
      expect(relDiff(g, ref.grads[i]), `gradient ${i}`).toBeLessThan(1e-6);
    });
  });

  it("leaks no tensors and rejects mismatched shapes", async () => {
    await useBackend("wasm");
    const a = tf.ones([3, 4, 5]) as tf.Tensor3D;
    const b = tf.ones([3, 5, 2]) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(bmm(x as tf.Tensor3D, y as tf.Tensor3D)))([a, b])));
    expect(tf.memory().numTensors).toBe(before);
    expect(() => bmm(a, tf.ones([3, 4, 2]) as tf.Tensor3D)).toThrow(/cannot multiply \[3,4,5\] by \[3,4,2\]/);
    expect(() => bmm(a, tf.ones([2, 5, 2]) as tf.Tensor3D)).toThrow(/cannot multiply/);
    expect(() => bmm(a, b, tf.ones([3]))).toThrow(/bias \[3\] does not match 2 outputs/);
  });
});
