import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../backend";
import { addLayerNorm, layerNormGradients, packedAttention, packedAttentionGradients, setFusedKernels } from "./fused";
import type { PackedAttention } from "./fused";
import { joinMemory, multiheadAttention } from "./nn";
import { TensorMap } from "@perfrdiff/hypernet";

// The fused kernels themselves run on WebGPU only (checked against these composed ops by bench/device-webgpu.mjs, on
// the device or through SwiftShader). What runs here, on cpu: the composed packed attention used for large WebGPU
// batches, and the hand-written backward passes the WebGPU kernels register, against tfjs's automatic gradients.

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

  it("hand-written gradients equal tfjs's automatic ones (self-attention in one packed tensor, and two sources)", () => {
    tf.tidy(() => {
      const [B, L, D, H] = [2, 6, 8, 2];
      const qkv = tf.randomNormal([B, L, 3 * D], 0, 1, "float32", 5) as tf.Tensor3D;
      const s2 = tf.randomNormal([B, 4, 2 * D + 3], 0, 1, "float32", 6) as tf.Tensor3D; // keys at 3, values at 3 + D
      const dy = tf.randomNormal([B, L, D], 0, 1, "float32", 7);
      const loss = (x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(
          tf.mul(
            packedAttention({
              q: x as tf.Tensor3D,
              qOffset: 0,
              dim: D,
              heads: H,
              sources: [
                { t: x as tf.Tensor3D, kOffset: D, vOffset: 2 * D },
                { t: y as tf.Tensor3D, kOffset: 3, vOffset: 3 + D },
              ],
            }),
            dy,
          ),
        );
      const [autoX, autoY] = tf.grads(loss)([qkv, s2]);
      const a: PackedAttention = {
        q: qkv,
        qOffset: 0,
        dim: D,
        heads: H,
        sources: [
          { t: qkv, kOffset: D, vOffset: 2 * D },
          { t: s2, kOffset: 3, vOffset: 3 + D },
        ],
      };
      const [dq, dSelf, dS2] = packedAttentionGradients(dy, a);
      // qkv is both the query input and the first source: its gradient is the sum
      expect(relDiff(tf.add(dq!, dSelf!), autoX!)).toBeLessThan(1e-5);
      expect(relDiff(dS2!, autoY!)).toBeLessThan(1e-5);
      // columns no key or value reads get no gradient
      expect(tf.sum(tf.abs(tf.slice(dS2!, [0, 0, 0], [B, 4, 3]))).dataSync()[0]).toBe(0);
    });
  });
});

describe("fused LayerNorm backward", () => {
  it("equals tfjs's automatic gradients of the composed LayerNorm(x + r)", () => {
    tf.tidy(() => {
      const [R, D] = [6, 10];
      const x = tf.randomNormal([2, R / 2, D], 0, 2, "float32", 8);
      const r = tf.randomNormal([2, R / 2, D], 1, 1, "float32", 9);
      const g = tf.randomNormal([D], 1, 0.2, "float32", 10);
      const beta = tf.randomNormal([D], 0, 0.2, "float32", 11);
      const dy = tf.randomNormal([2, R / 2, D], 0, 1, "float32", 12);
      const f = (a: tf.Tensor, b: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => {
        const s = tf.add(a, b);
        const { mean, variance } = tf.moments(s, -1, true);
        return tf.sum(tf.mul(tf.add(tf.mul(tf.mul(tf.sub(s, mean), tf.rsqrt(tf.add(variance, 1e-5))), gg), bb), dy));
      };
      const [dx, dr, dg, db] = tf.grads(f)([x, r, g, beta]);
      const ours = layerNormGradients(dy, x, r, g, 1e-5);
      expect(relDiff(ours.x, dx!)).toBeLessThan(1e-5);
      expect(relDiff(ours.x, dr!)).toBeLessThan(1e-5);
      expect(relDiff(ours.gamma, dg!)).toBeLessThan(1e-5);
      expect(relDiff(ours.beta, db!)).toBeLessThan(1e-6);
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
