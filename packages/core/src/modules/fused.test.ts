import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../backend";
import { addLayerNorm, packedAttention, setFusedKernels } from "./fused";
import type { PackedAttention } from "./fused";
import { joinMemory, multiheadAttention } from "./nn";
import { TensorMap } from "@perfrdiff/hypernet";

// The fused kernels and their backward passes run on WebGPU only (checked against these composed ops and tfjs's
// automatic gradients of them by bench/device-webgpu.mjs, on the device or through SwiftShader). What runs here, on
// cpu: the composed packed attention used for large WebGPU batches, and the checks made before a kernel runs.

const relDiff = (a: tf.Tensor, b: tf.Tensor) => {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i]! - y[i]!));
    den = Math.max(den, Math.abs(y[i]!));
  }
  return num / den;
};

beforeAll(async () => {
  await useBackend("cpu");
});

describe("packed attention (composed path)", () => {
  it("equals torch-style multi-head attention computed from separate projections", () => {
    tf.tidy(() => {
      const [B, L, M, D, H] = [2, 5, 7, 12, 3];
      const w = new TensorMap([
        ["a.in_proj_weight", tf.randomNormal([3 * D, D], 0, 0.3, "float32", 1)],
        ["a.in_proj_bias", tf.randomNormal([3 * D], 0, 0.1, "float32", 2)],
        ["a.out_proj.weight", tf.eye(D)],
        ["a.out_proj.bias", tf.zeros([D])],
      ]);
      const x = tf.randomNormal([B, L, D], 0, 1, "float32", 3);
      const mem = tf.randomNormal([B, M, D], 0, 1, "float32", 4);
      const ref = multiheadAttention(w, "a", x, mem, mem, H); // heads layout on cpu
      // packed: queries from x W_q^T, keys|values from mem [W_k; W_v]^T, split into two sources of 3 + 4 rows
      const Win = w.get("a.in_proj_weight");
      const b = w.get("a.in_proj_bias");
      const q = tf.add(tf.matMul(tf.reshape(x, [B * L, D]), tf.slice(Win, [0, 0], [D, D]), false, true), tf.slice(b, [0], [D]));
      const kv = tf.add(tf.matMul(tf.reshape(mem, [B * M, D]), tf.slice(Win, [D, 0], [2 * D, D]), false, true), tf.slice(b, [D], [2 * D]));
      const kv3 = tf.reshape(kv, [B, M, 2 * D]) as tf.Tensor3D;
      const a: PackedAttention = {
        q: tf.reshape(q, [B, L, D]) as tf.Tensor3D,
        qOffset: 0,
        dim: D,
        heads: H,
        sources: [
          { t: tf.slice(kv3, [0, 0, 0], [B, 3, 2 * D]), kOffset: 0, vOffset: D },
          { t: tf.slice(kv3, [0, 3, 0], [B, M - 3, 2 * D]), kOffset: 0, vOffset: D },
        ],
      };
      expect(relDiff(packedAttention(a), ref)).toBeLessThan(1e-5);
    });
  });
});

describe("input checks", () => {
  it("names a mismatched residual or LayerNorm weight", () => {
    tf.tidy(() => {
      const x = tf.zeros([2, 3, 4]);
      expect(() => addLayerNorm(x, tf.zeros([2, 3, 5]), tf.ones([4]), tf.zeros([4]), 1e-5)).toThrow(/residual \[2,3,5\] does not match input \[2,3,4\]/);
      expect(() => addLayerNorm(x, null, tf.ones([3]), tf.zeros([4]), 1e-5)).toThrow(/do not match input dimension 4/);
      // the composed path normalises: zero mean, unit variance before the affine part
      const y = addLayerNorm(tf.randomNormal([2, 3, 4], 5, 3, "float32", 1), null, tf.ones([4]), tf.zeros([4]), 1e-5);
      const { mean, variance } = tf.moments(y, -1);
      expect(Math.max(...Array.from(tf.abs(mean).dataSync()))).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(tf.abs(tf.sub(variance, 1)).dataSync()))).toBeLessThan(1e-3);
    });
  });
});

describe("switching", () => {
  it("reports the previous setting and refuses to join memories made in different layouts", () => {
    expect(setFusedKernels(false)).toBe(true);
    expect(setFusedKernels(true)).toBe(false);
    const heads = { k: tf.zeros([1, 1, 2, 2]) as tf.Tensor4D, vT: tf.zeros([1, 1, 2, 2]) as tf.Tensor4D };
    const packed = { kv: [tf.zeros([1, 2, 4]) as tf.Tensor3D] };
    expect(() => joinMemory(heads, packed)).toThrow(/different layouts/);
    expect(joinMemory(packed, packed)).toEqual({ kv: [packed.kv[0], packed.kv[0]] });
    tf.dispose([heads.k, heads.vT, ...packed.kv]);
  });
});
