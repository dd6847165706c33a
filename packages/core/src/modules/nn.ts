/**
 * Functional building blocks over a {@link WeightSource}: every parameter is read by its official PyTorch name
 * (`<prefix>.weight`, `in_proj_weight`, ...), in PyTorch layout (Linear weight [out, in]). Reading weights at call
 * time is what lets the hypernetwork swap in edited weights without touching the base model.
 * All tensors are batch-first: [batch, length, dim]. Callers wrap calls in tf.tidy.
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";

/**
 * Transposed copies ([in, out]) of PyTorch-layout weights, made once per weight tensor: tfjs-wasm multiplies by a
 * transposed operand ~15x slower than by a plain one (measured: 266 ms vs 18 ms for 1000x512x512), so x W^T is
 * computed as x (W^T) with W^T cached. Entries whose weight was disposed (e.g. a dropped personalisation overlay)
 * are freed on the next miss.
 */
const transposed = new Map<tf.Tensor, tf.Tensor2D[]>();

let caching = true;

/**
 * Runs `fn` with the transpose cache bypassed: needed when gradients must flow into weights that are not
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

export function transposedParts(W: tf.Tensor, parts = 1): tf.Tensor2D[] {
  if (!caching || W instanceof tf.Variable) {
    // inside the graph, so gradients reach W
    return (parts === 1 ? [W as tf.Tensor2D] : (tf.split(W, parts, 0) as tf.Tensor2D[])).map((p) => tf.transpose(p) as tf.Tensor2D);
  }
  const hit = transposed.get(W);
  if (hit && hit.length === parts && !W.isDisposed) return hit;
  for (const [k, v] of transposed) {
    if (k.isDisposed) {
      v.forEach((t) => t.dispose());
      transposed.delete(k);
    }
  }
  if (hit) {
    hit.forEach((t) => t.dispose());
    transposed.delete(W);
  }
  const made = tf.tidy(() => (tf.split(W, parts, 0) as tf.Tensor2D[]).map((p) => tf.keep(tf.transpose(p) as tf.Tensor2D)));
  transposed.set(W, made);
  return made;
}

/** Frees every cached transposed weight (they are re-made on demand). */
export function clearTransposeCache(): void {
  for (const v of transposed.values()) v.forEach((t) => t.dispose());
  transposed.clear();
}

/** y = x W^T + b for x [..., in] -> [..., out]. */
export function linear(w: WeightSource, prefix: string, x: tf.Tensor, bias = true): tf.Tensor {
  const W = w.get(`${prefix}.weight`) as tf.Tensor2D;
  const inDim = W.shape[1];
  if (x.shape[x.shape.length - 1] !== inDim) {
    throw new Error(`${prefix}: input last dimension ${x.shape[x.shape.length - 1]} does not match weight [${W.shape}]`);
  }
  const lead = x.shape.slice(0, -1);
  const x2 = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(x2, transposedParts(W)[0]);
  if (bias) y = tf.add(y, w.get(`${prefix}.bias`));
  return tf.reshape(y, [...lead, W.shape[0]]);
}

/** LayerNorm over the last dimension with weight and bias (torch.nn.LayerNorm). */
export function layerNorm(w: WeightSource, prefix: string, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const xn = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(xn, w.get(`${prefix}.weight`)), w.get(`${prefix}.bias`));
}

/** Exact (erf) GELU, as torch.nn.functional.gelu's default. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** Splits [B, L, H*Dh] into [B, H, L, Dh]. */
function heads(x: tf.Tensor, h: number): tf.Tensor4D {
  const [b, l, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, l, h, d / h]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/**
 * torch.nn.MultiheadAttention (eval: no dropout, no masks) with `in_proj_weight` [3D, D], `in_proj_bias`,
 * `out_proj.*`. query [B, Lq, D], key/value [B, Lk, D] -> [B, Lq, D].
 */
export function multiheadAttention(
  w: WeightSource,
  prefix: string,
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  numHeads: number,
  keyValue?: KeyValueHeads,
): tf.Tensor {
  const Win = w.get(`${prefix}.in_proj_weight`);
  const bin = w.get(`${prefix}.in_proj_bias`);
  const D = Win.shape[1] as number;
  if (D % numHeads !== 0) throw new Error(`${prefix}: model dim ${D} is not divisible by ${numHeads} heads`);
  const [Wq, Wk, Wv] = transposedParts(Win, 3); // [D, D] each, already transposed
  const [bq, bk, bv] = tf.split(bin, 3, 0);
  const proj = (x: tf.Tensor, W: tf.Tensor2D, b: tf.Tensor) => {
    const B = x.shape[0] as number;
    const L = x.shape[1] as number;
    return tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, D]) as tf.Tensor2D, W), b), [B, L, D]);
  };
  const q = heads(proj(query, Wq, bq), numHeads);
  const k = keyValue ? keyValue.k : heads(proj(key, Wk, bk), numHeads);
  const v = keyValue ? keyValue.v : heads(proj(value, Wv, bv), numHeads);
  const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D / numHeads));
  const ctx = tf.matMul(tf.softmax(scores, -1), v); // [B, H, Lq, Dh]
  const B = ctx.shape[0] as number;
  const Lq = ctx.shape[2] as number;
  const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B, Lq, D]);
  return linear(w, `${prefix}.out_proj`, merged);
}

/** Keys and values of an attention, already projected and split into heads: [B, H, L, Dh] each. */
export interface KeyValueHeads {
  k: tf.Tensor4D;
  v: tf.Tensor4D;
}

/** Projects x [B, L, D] with the key and value rows of `<prefix>.in_proj_*` into heads. */
export function keyValueHeads(w: WeightSource, prefix: string, x: tf.Tensor, numHeads: number): KeyValueHeads {
  const Win = w.get(`${prefix}.in_proj_weight`);
  const D = Win.shape[1] as number;
  const [, Wk, Wv] = transposedParts(Win, 3);
  const [, bk, bv] = tf.split(w.get(`${prefix}.in_proj_bias`), 3, 0);
  const B = x.shape[0] as number;
  const L = x.shape[1] as number;
  const x2 = tf.reshape(x, [-1, D]) as tf.Tensor2D;
  const proj = (W: tf.Tensor2D, b: tf.Tensor) => heads(tf.reshape(tf.add(tf.matMul(x2, W), b), [B, L, D]), numHeads);
  return { k: proj(Wk, bk), v: proj(Wv, bv) };
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
  memoryKeyValue?: KeyValueHeads,
): tf.Tensor {
  let x = layerNorm(w, `${prefix}.norm1`, tf.add(tgt, multiheadAttention(w, `${prefix}.self_attn`, tgt, tgt, tgt, numHeads)));
  x = layerNorm(w, `${prefix}.norm2`, tf.add(x, multiheadAttention(w, `${prefix}.multihead_attn`, x, memory, memory, numHeads, memoryKeyValue)));
  const act = activation === "gelu" ? gelu : tf.relu;
  const ff = linear(w, `${prefix}.linear2`, act(linear(w, `${prefix}.linear1`, x)));
  return layerNorm(w, `${prefix}.norm3`, tf.add(x, ff));
}

/** torch.nn.TransformerEncoderLayer (post-norm, batch_first) with the given activation. x [B, L, D]. */
export function encoderLayer(
  w: WeightSource,
  prefix: string,
  x: tf.Tensor,
  numHeads: number,
  activation: "gelu" | "relu",
): tf.Tensor {
  let h = layerNorm(w, `${prefix}.norm1`, tf.add(x, multiheadAttention(w, `${prefix}.self_attn`, x, x, x, numHeads)));
  const act = activation === "gelu" ? gelu : tf.relu;
  h = layerNorm(w, `${prefix}.norm2`, tf.add(h, linear(w, `${prefix}.linear2`, act(linear(w, `${prefix}.linear1`, h)))));
  return h;
}

/** One torch.nn.GRUCell step (gate order r, z, n). x [B, in], h [B, H] -> [B, H]. */
export function gruCell(w: WeightSource, prefix: string, x: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  const gi = tf.add(tf.matMul(x, transposedParts(w.get(`${prefix}.weight_ih`))[0]), w.get(`${prefix}.bias_ih`));
  const gh = tf.add(tf.matMul(h, transposedParts(w.get(`${prefix}.weight_hh`))[0]), w.get(`${prefix}.bias_hh`));
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
