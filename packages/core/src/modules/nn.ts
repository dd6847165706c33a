/**
 * Functional building blocks over a {@link WeightSource}: every parameter is read by its official PyTorch name
 * (`<prefix>.weight`, `in_proj_weight`, ...), in PyTorch layout (Linear weight [out, in]). Reading weights at call
 * time is what lets the hypernetwork swap in edited weights without touching the base model.
 * All tensors are batch-first: [batch, length, dim]. Callers wrap calls in tf.tidy.
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";
import { addLayerNorm, fusedKernelsActive, gelu as fusedGelu, packedAttention } from "./fused";
import { bmm, matmulLast } from "./matmul";

/**
 * Tensors derived from weights, made once per weight tensor: transposed copies ([in, out]) of PyTorch-layout
 * weights, because tfjs-wasm multiplies by a transposed operand ~15x slower than by a plain one (measured: 266 ms vs
 * 18 ms for 1000x512x512), and the q/k/v parts of in_proj biases, because tfjs-wasm caches each product's packed
 * weights by the tensors of its weight and bias: a bias split anew at every call would repack the weights every
 * time. Entries whose weight was disposed (e.g. a dropped personalisation overlay) are freed on the next miss.
 */
const derived = new Map<tf.Tensor, Map<string, tf.Tensor[]>>();

let caching = true;

/**
 * Runs `fn` with the weight cache bypassed: needed when gradients must flow into weights that are not
 * tf.Variables (e.g. training the hypernetwork through edited weights). Variables always bypass the cache.
 */
export function withoutWeightCache<T>(fn: () => T): T {
  const was = caching;
  caching = false;
  try {
    return fn();
  } finally {
    caching = was;
  }
}

function cachedDerived(W: tf.Tensor, kind: string, make: () => tf.Tensor[]): tf.Tensor[] {
  if (!caching || W instanceof tf.Variable) return make(); // inside the graph, so gradients reach W
  const hit = derived.get(W)?.get(kind);
  if (hit && !W.isDisposed) return hit;
  for (const [k, v] of derived) {
    if (k.isDisposed) {
      for (const ts of v.values()) ts.forEach((t) => t.dispose());
      derived.delete(k);
    }
  }
  const made = tf.tidy(() => make().map((t) => tf.keep(t)));
  let entry = derived.get(W);
  if (!entry) derived.set(W, (entry = new Map()));
  entry.set(kind, made);
  return made;
}

/** Whether weightProduct reads W in place (no cached copy): then a product over all of W's rows costs no slicing. */
function readInPlace(W: tf.Tensor): boolean {
  return (!caching || W instanceof tf.Variable) && tf.getBackend() !== "wasm";
}

/**
 * x [..., in] times rows [from, to) of a PyTorch-layout weight W [out, in], transposed, plus the same entries of the
 * bias b: -> [..., to - from]. Cacheable weights use a cached transposed copy of the rows (and a cached bias part).
 * Weights that must stay in the gradient's graph (variables, {@link withoutWeightCache}) are read in place off wasm,
 * by a product with a transposed operand: a copy made per call would cost a transpose kernel forward and another
 * backward (tfjs-wasm needs the copy, see `derived`).
 */
export function weightProduct(x: tf.Tensor, W: tf.Tensor, b: tf.Tensor | undefined, from = 0, to = W.shape[0] as number): tf.Tensor {
  const rows = (t: tf.Tensor) => (from === 0 && to === t.shape[0] ? t : tf.slice(t, from, to - from));
  if (!readInPlace(W)) {
    const Wt = cachedDerived(W, `T${from}:${to}`, () => [tf.transpose(rows(W))])[0] as tf.Tensor2D;
    return matmulLast(x, Wt, b && cachedDerived(b, `S${from}:${to}`, () => [rows(b)])[0]);
  }
  const K = W.shape[1] as number;
  const lead = x.shape.slice(0, -1);
  const a = tf.reshape(x, [lead.reduce((p, q) => p * q, 1), K]) as tf.Tensor2D;
  const y = tf.fused.matMul({ a, b: rows(W) as tf.Tensor2D, transposeB: true, bias: b && rows(b) });
  return tf.reshape(y, [...lead, to - from]);
}

/** Frees every cached derived weight (they are re-made on demand). */
export function clearTransposeCache(): void {
  for (const v of derived.values()) for (const ts of v.values()) ts.forEach((t) => t.dispose());
  derived.clear();
}

/** y = x W^T + b for x [..., in] -> [..., out]. */
export function linear(w: WeightSource, prefix: string, x: tf.Tensor, bias = true): tf.Tensor {
  const W = w.get(`${prefix}.weight`) as tf.Tensor2D;
  const inDim = W.shape[1];
  if (x.shape[x.shape.length - 1] !== inDim) {
    throw new Error(`${prefix}: input last dimension ${x.shape[x.shape.length - 1]} does not match weight [${W.shape}]`);
  }
  return weightProduct(x, W, bias ? w.get(`${prefix}.bias`) : undefined);
}

/**
 * LayerNorm over the last dimension with weight and bias (torch.nn.LayerNorm), of x + residual when a residual is
 * given (one fused kernel on WebGPU). x, residual [..., D] -> [..., D].
 */
export function layerNorm(w: WeightSource, prefix: string, x: tf.Tensor, residual: tf.Tensor | null = null, eps = 1e-5): tf.Tensor {
  return addLayerNorm(x, residual, w.get(`${prefix}.weight`), w.get(`${prefix}.bias`), eps);
}

/** Exact (erf) GELU, as torch.nn.functional.gelu's default. */
export const gelu = fusedGelu;

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** Splits [B, L, H*Dh] into [B, H, L, Dh]. */
function heads(x: tf.Tensor, h: number): tf.Tensor4D {
  const [b, l, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, l, h, d / h]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** Splits [B, L, H*Dh] into transposed heads [B, H, Dh, L]. */
function headsTransposed(x: tf.Tensor, h: number): tf.Tensor4D {
  const [b, l, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, l, h, d / h]), [0, 2, 3, 1]) as tf.Tensor4D;
}

/** Keys and values of an attention, projected and split into heads: k [B, H, L, Dh], values transposed vT [B, H, Dh, L]. */
export interface KeyValueHeads {
  k: tf.Tensor4D;
  vT: tf.Tensor4D;
}

/**
 * Keys and values projected but not split (the fused WebGPU attention reads heads in place): each part [B, L, C]
 * holds keys in columns [C - 2D, C - D) and values in [C - D, C), with C = 2D, or 3D when the product also made
 * (unused) query columns; the parts' rows form one key sequence.
 */
export interface PackedKeyValues {
  kv: tf.Tensor3D[];
}

/** Projected keys and values of an attention, in the layout of the backend's attention (see {@link attentionMemory}). */
export type AttentionMemory = KeyValueHeads | PackedKeyValues;

/** Number of keys in a memory. */
export function memoryLength(m: AttentionMemory): number {
  return "kv" in m ? m.kv.reduce((n, t) => n + t.shape[1], 0) : m.k.shape[2];
}

/** Keys of `a` followed by keys of `b` (same layout). */
export function joinMemory(a: AttentionMemory, b: AttentionMemory): AttentionMemory {
  if ("kv" in a && "kv" in b) return { kv: [...a.kv, ...b.kv] };
  if ("k" in a && "k" in b) return { k: tf.concat([a.k, b.k], 2) as tf.Tensor4D, vT: tf.concat([a.vT, b.vT], 3) as tf.Tensor4D };
  throw new Error("attention memories of different layouts (made with fused kernels switched on and off)");
}

/** The tensors of a memory (to keep or dispose). */
export function memoryTensors(m: AttentionMemory): tf.Tensor[] {
  return "kv" in m ? m.kv : [m.k, m.vT];
}

/** Scaled dot-product attention of queries [B, Lq, H*Dh] -> [B, Lq, H*Dh] (heads merged). */
function attend(q: tf.Tensor, kv: KeyValueHeads): tf.Tensor {
  const [B, H, Lk, Dh] = kv.k.shape;
  const Lq = q.shape[1] as number;
  const scale = 1 / Math.sqrt(Dh);
  if (tf.getBackend() !== "wasm") {
    const p = tf.softmax(tf.mul(tf.matMul(heads(q, H), kv.k, false, true), scale), -1);
    const ctx = tf.matMul(p as tf.Tensor4D, kv.vT, false, true); // [B, H, Lq, Dh]
    return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B, Lq, H * Dh]);
  }
  // tfjs-wasm: one product per (batch, head) (see matmul.ts); each product repacks its right operand (~8 ns per
  // element), so the products are transposed to pack the smaller one: scores^T = K Q^T, context^T = V^T P^T.
  const qT = tf.reshape(headsTransposed(q, H), [B * H, Dh, Lq]) as tf.Tensor3D;
  const sT = tf.mul(bmm(tf.reshape(kv.k, [B * H, Lk, Dh]) as tf.Tensor3D, qT), scale); // [B*H, Lk, Lq]
  const e = tf.exp(tf.sub(sT, tf.max(sT, 1, true))); // softmax over the keys (axis 1)
  const pT = tf.div(e, tf.sum(e, 1, true)) as tf.Tensor3D;
  const ctxT = bmm(tf.reshape(kv.vT, [B * H, Dh, Lk]) as tf.Tensor3D, pT); // [B*H, Dh, Lq]
  return tf.reshape(tf.transpose(tf.reshape(ctxT, [B, H, Dh, Lq]), [0, 3, 1, 2]), [B, Lq, H * Dh]);
}

/**
 * torch.nn.MultiheadAttention (eval: no dropout, no masks) with `in_proj_weight` [3D, D], `in_proj_bias`,
 * `out_proj.*`. query [B, Lq, D], key/value [B, Lk, D] -> [B, Lq, D]; `keyValue` replaces the key/value
 * projections (already made, e.g. cached).
 */
export function multiheadAttention(
  w: WeightSource,
  prefix: string,
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  numHeads: number,
  keyValue?: AttentionMemory,
): tf.Tensor {
  const Win = w.get(`${prefix}.in_proj_weight`);
  const D = Win.shape[1] as number;
  if (D % numHeads !== 0) throw new Error(`${prefix}: model dim ${D} is not divisible by ${numHeads} heads`);
  const bIn = w.get(`${prefix}.in_proj_bias`);
  let ctx: tf.Tensor;
  if (fusedKernelsActive() && !keyValue && query === key && key === value) {
    // self-attention: queries, keys and values from one product, attended in place
    const qkv = weightProduct(query, Win, bIn) as tf.Tensor3D; // [B, L, 3D]
    ctx = packedAttention({ q: qkv, qOffset: 0, sources: [{ t: qkv, kOffset: D, vOffset: 2 * D }], dim: D, heads: numHeads });
  } else {
    // weights read in place (training): all rows in one product, the fused attention reads the query columns; a
    // slice of W and of its bias would cost four kernels forward and six backward
    const q = weightProduct(query, Win, bIn, 0, fusedKernelsActive() && readInPlace(Win) ? 3 * D : D);
    const kv = keyValue ?? attentionMemory(w, prefix, key, numHeads, value);
    if ("kv" in kv) {
      const sources = kv.kv.map((t) => ({ t, kOffset: t.shape[2] - 2 * D, vOffset: t.shape[2] - D }));
      ctx = packedAttention({ q: q as tf.Tensor3D, qOffset: 0, sources, dim: D, heads: numHeads });
    } else {
      ctx = attend(q, kv);
    }
  }
  return linear(w, `${prefix}.out_proj`, ctx);
}

/**
 * Projects x [B, L, D] (keys; `value` for the values, default x) with the key and value rows of
 * `<prefix>.in_proj_*`: packed [B, L, 2D] for the fused WebGPU attention (one product when value is x), else split
 * into heads.
 */
export function attentionMemory(w: WeightSource, prefix: string, x: tf.Tensor, numHeads: number, value: tf.Tensor = x): AttentionMemory {
  const Win = w.get(`${prefix}.in_proj_weight`);
  const bIn = w.get(`${prefix}.in_proj_bias`);
  const D = Win.shape[1] as number;
  if (fusedKernelsActive() && value === x) return { kv: [weightProduct(x, Win, bIn, readInPlace(Win) ? 0 : D, 3 * D) as tf.Tensor3D] };
  const k = weightProduct(x, Win, bIn, D, 2 * D);
  const v = weightProduct(value, Win, bIn, 2 * D, 3 * D);
  if (fusedKernelsActive()) return { kv: [tf.concat([k, v], 2) as tf.Tensor3D] };
  return { k: heads(k, numHeads), vT: headsTransposed(v, numHeads) };
}

/**
 * Post-norm transformer decoder layer (DETR style, the official `TransformerDecoderLayer` with
 * normalize_before False): self-attention, cross-attention to `memory`, feed-forward, each followed by
 * residual + LayerNorm. tgt [B, L, D], memory [B, M, D].
 */
export function decoderLayer(
  w: WeightSource,
  prefix: string,
  tgt: tf.Tensor,
  memory: tf.Tensor,
  numHeads: number,
  activation: "gelu" | "relu",
  memoryKeyValue?: AttentionMemory,
): tf.Tensor {
  let x = layerNorm(w, `${prefix}.norm1`, tgt, multiheadAttention(w, `${prefix}.self_attn`, tgt, tgt, tgt, numHeads));
  x = layerNorm(w, `${prefix}.norm2`, x, multiheadAttention(w, `${prefix}.multihead_attn`, x, memory, memory, numHeads, memoryKeyValue));
  const act = activation === "gelu" ? gelu : tf.relu;
  const ff = linear(w, `${prefix}.linear2`, act(linear(w, `${prefix}.linear1`, x)));
  return layerNorm(w, `${prefix}.norm3`, x, ff);
}

/** torch.nn.TransformerEncoderLayer (post-norm, batch_first) with the given activation. x [B, L, D]. */
export function encoderLayer(
  w: WeightSource,
  prefix: string,
  x: tf.Tensor,
  numHeads: number,
  activation: "gelu" | "relu",
): tf.Tensor {
  let h = layerNorm(w, `${prefix}.norm1`, x, multiheadAttention(w, `${prefix}.self_attn`, x, x, x, numHeads));
  const act = activation === "gelu" ? gelu : tf.relu;
  h = layerNorm(w, `${prefix}.norm2`, h, linear(w, `${prefix}.linear2`, act(linear(w, `${prefix}.linear1`, h))));
  return h;
}

/** One torch.nn.GRUCell step (gate order r, z, n). x [B, in], h [B, H] -> [B, H]. */
export function gruCell(w: WeightSource, prefix: string, x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  const gi = weightProduct(x, w.get(`${prefix}.weight_ih`), w.get(`${prefix}.bias_ih`));
  const gh = weightProduct(h, w.get(`${prefix}.weight_hh`), w.get(`${prefix}.bias_hh`));
  const [ir, iz, inn] = tf.split(gi, 3, 1);
  const [hr, hz, hn] = tf.split(gh, 3, 1);
  const r = tf.sigmoid(tf.add(ir, hr));
  const z = tf.sigmoid(tf.add(iz, hz));
  const n = tf.tanh(tf.add(inn, tf.mul(r, hn)));
  return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as tf.Tensor2D;
}

/** Parameter shapes of common blocks (PyTorch names), for checkpoint validation and complexity counts. */
export const shapes = {
  linear(m: Map<string, number[]>, prefix: string, inDim: number, outDim: number, bias = true): void {
    m.set(`${prefix}.weight`, [outDim, inDim]);
    if (bias) m.set(`${prefix}.bias`, [outDim]);
  },
  layerNorm(m: Map<string, number[]>, prefix: string, d: number): void {
    m.set(`${prefix}.weight`, [d]);
    m.set(`${prefix}.bias`, [d]);
  },
  mha(m: Map<string, number[]>, prefix: string, d: number): void {
    m.set(`${prefix}.in_proj_weight`, [3 * d, d]);
    m.set(`${prefix}.in_proj_bias`, [3 * d]);
    shapes.linear(m, `${prefix}.out_proj`, d, d);
  },
  gru(m: Map<string, number[]>, prefix: string, inDim: number, hidden: number): void {
    m.set(`${prefix}.weight_ih`, [3 * hidden, inDim]);
    m.set(`${prefix}.weight_hh`, [3 * hidden, hidden]);
    m.set(`${prefix}.bias_ih`, [3 * hidden]);
    m.set(`${prefix}.bias_hh`, [3 * hidden]);
  },
};
