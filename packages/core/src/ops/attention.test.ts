import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { TensorMap } from "@perfrdiff/hypernet";
import { useBackend } from "../backend";
import { setFusedKernels } from "../kernels/registry";
import { multiheadAttention } from "../modules/nn";
import { multiHeadAttention, packedAttention, projectKeysValues } from "./attention";
import type { AttentionMemory, PackedAttention } from "./attention";
import { relError } from "../../test/rel-error";
import { addLayerNorm } from "./layer-norm";
import { releaseDerivedWeights, withoutWeightCache } from "./linear";

// The fused kernels and their backward passes run on WebGPU only (checked against these composed ops and tfjs's
// automatic gradients of them by src/webgpu.test.ts, on SwiftShader or the GPU machine). What runs here, on cpu:
// the composed packed attention used for large WebGPU batches, attention memories, and the checks made before a
// kernel runs.

const relDiff = (a: tf.Tensor, b: tf.Tensor) => relError(a.dataSync(), b.dataSync());

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

  it("drops the same probabilities on the wasm path (transposed scores) as on cpu, and the gradients agree", async () => {
    const [B, L, D, H] = [2, 6, 12, 3];
    const make = () => ({ qkv: tf.randomNormal([B, L, 3 * D], 0, 1, "float32", 11), weight: tf.randomNormal([B, L, D], 0, 1, "float32", 12) });
    const run = async (backend: "cpu" | "wasm") => {
      await useBackend(backend);
      const { qkv, weight } = make();
      const dropout = { rate: 0.3, seed: 4242 };
      const packed = (t: tf.Tensor): PackedAttention => ({ q: t as tf.Tensor3D, qOffset: 0, dim: D, heads: H, sources: [{ t: t as tf.Tensor3D, kOffset: D, vOffset: 2 * D }] });
      const out = packedAttention(packed(qkv), dropout);
      const grad = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(packedAttention(packed(t)), weight)))(qkv);
      const dropped = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(packedAttention(packed(t), dropout), weight)))(qkv);
      const res = { out: await out.data(), grad: await grad.data(), dropped: await dropped.data(), plain: await packedAttention(packed(qkv)).data() };
      tf.dispose([qkv, weight, out, grad, dropped]);
      return res;
    };
    const cpu = await run("cpu");
    const wasm = await run("wasm");
    await useBackend("cpu");
    expect(relError(wasm.out, cpu.out)).toBeLessThan(1e-5);
    expect(relError(wasm.dropped, cpu.dropped)).toBeLessThan(1e-5);
    // dropout changed something (30% of the weights are zeroed), and is off without it
    expect(relError(cpu.out, cpu.plain)).toBeGreaterThan(0.05);
    expect(relError(cpu.dropped, cpu.grad)).toBeGreaterThan(0.05);
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

describe("attention memories", () => {
  const [B, L, M1, M2, D, H] = [2, 4, 3, 5, 12, 3];
  const W = () => tf.randomNormal([3 * D, D], 0, 0.3, "float32", 1);
  const b = () => tf.randomNormal([3 * D], 0, 0.1, "float32", 2);

  it("attending a projected memory equals projecting the keys in the call; a joined memory equals the concatenated keys", () => {
    tf.tidy(() => {
      const [w, bias] = [W(), b()];
      const q = tf.randomNormal([B, L, D], 0, 1, "float32", 3);
      const m1 = tf.randomNormal([B, M1, D], 0, 1, "float32", 4);
      const m2 = tf.randomNormal([B, M2, D], 0, 1, "float32", 5);
      const direct = multiHeadAttention(q, w, bias, H, { key: m1, value: m1 });
      const first = projectKeysValues(m1, w, bias, H);
      expect(first.length).toBe(M1);
      expect(relDiff(multiHeadAttention(q, w, bias, H, first), direct)).toBeLessThan(1e-6);
      const joined = first.join(projectKeysValues(m2, w, bias, H));
      expect(joined.length).toBe(M1 + M2);
      const all = tf.concat([m1, m2], 1);
      expect(relDiff(multiHeadAttention(q, w, bias, H, joined), multiHeadAttention(q, w, bias, H, { key: all, value: all }))).toBeLessThan(1e-5);
    });
  });

  it("keep() holds a memory past its tidy; dispose() frees what it made and a joined one only what joining made", () => {
    const [w, bias, x] = [W(), b(), tf.randomNormal([B, M1, D], 0, 1, "float32", 6)];
    releaseDerivedWeights(); // cached weight copies would blur the count
    const before = tf.memory().numTensors;
    let kept!: AttentionMemory;
    withoutWeightCache(() =>
      tf.tidy(() => {
        kept = projectKeysValues(x, w, bias, H).keep();
      }),
    );
    const made = tf.memory().numTensors - before;
    expect(made).toBeGreaterThan(0);
    const joined = kept.join(kept);
    expect(tf.memory().numTensors - before).toBe(2 * made);
    joined.dispose();
    expect(tf.memory().numTensors - before).toBe(made);
    kept.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, bias, x]);
  });

  it("setFusedKernels reports the previous setting", () => {
    expect(setFusedKernels(false)).toBe(true);
    expect(setFusedKernels(true)).toBe(false);
  });
});
