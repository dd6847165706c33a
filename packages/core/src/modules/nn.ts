/**
 * Functional building blocks over a {@link WeightSource}: every parameter is read by its official PyTorch name
 * (`<prefix>.weight`, `in_proj_weight`, ...), in PyTorch layout (Linear weight [out, in]). Reading weights at call
 * time is what lets the hypernetwork swap in edited weights without touching the base model.
 * All tensors are batch-first: [batch, length, dim]. Callers wrap calls in tf.tidy.
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";
import { AttentionMemory, multiHeadAttention, projectKeysValues } from "../ops/attention";
import { gelu } from "../ops/gelu";
import { addLayerNorm } from "../ops/layer-norm";
import { weightProduct } from "../ops/linear";
import type { LayerTraining } from "./training-pass";

export { gelu };

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
 * given. x, residual [..., D] -> [..., D].
 */
export function layerNorm(w: WeightSource, prefix: string, x: tf.Tensor, residual: tf.Tensor | null = null, eps = 1e-5): tf.Tensor {
  return addLayerNorm(x, residual, w.get(`${prefix}.weight`), w.get(`${prefix}.bias`), eps);
}

export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/**
 * torch.nn.MultiheadAttention (eval: no dropout, no masks) with `in_proj_weight` [3D, D], `in_proj_bias`,
 * `out_proj.*`. query [B, Lq, D], key/value [B, Lk, D] -> [B, Lq, D]; `memory` replaces the key/value
 * projections (made before, e.g. cached).
 */
export function multiheadAttention(
  w: WeightSource,
  prefix: string,
  query: tf.Tensor,
  key: tf.Tensor,
  value: tf.Tensor,
  numHeads: number,
  memory?: AttentionMemory,
  training?: LayerTraining,
): tf.Tensor {
  const inProj = w.get(`${prefix}.in_proj_weight`);
  const D = inProj.shape[1] as number;
  if (D % numHeads !== 0) throw new Error(`${prefix}: model dim ${D} is not divisible by ${numHeads} heads`);
  // training: torch's MultiheadAttention(dropout=rate) drops attention probabilities
  const dropout = training && training.rate > 0 ? { rate: training.rate, seed: training.pass.nextSeed() } : undefined;
  const ctx = multiHeadAttention(query, inProj, w.get(`${prefix}.in_proj_bias`), numHeads, memory ?? { key, value }, dropout);
  return linear(w, `${prefix}.out_proj`, ctx);
}

/** Keys and values of x [B, L, D] (`value` for the values, default x) projected by `<prefix>.in_proj_*`. */
export function attentionMemory(w: WeightSource, prefix: string, x: tf.Tensor, numHeads: number, value: tf.Tensor = x): AttentionMemory {
  return projectKeysValues(x, w.get(`${prefix}.in_proj_weight`), w.get(`${prefix}.in_proj_bias`), numHeads, value);
}

/**
 * Post-norm transformer decoder layer (DETR style, the official `TransformerDecoderLayer` with
 * normalize_before False): self-attention, cross-attention to `memory`, feed-forward, each followed by
 * residual + LayerNorm. tgt [B, L, D], memory [B, M, D]. With `training`, dropout where torch's layer has it: on
 * each branch before its residual add, inside the feed-forward, and on the attention probabilities.
 */
export function decoderLayer(
  w: WeightSource,
  prefix: string,
  tgt: tf.Tensor,
  memory: tf.Tensor,
  numHeads: number,
  activation: "gelu" | "relu",
  cachedMemory?: AttentionMemory,
  training?: LayerTraining,
): tf.Tensor {
  const drop = (y: tf.Tensor) => (training ? training.pass.dropout(y, training.rate) : y);
  let x = layerNorm(w, `${prefix}.norm1`, tgt, drop(multiheadAttention(w, `${prefix}.self_attn`, tgt, tgt, tgt, numHeads, undefined, training)));
  x = layerNorm(w, `${prefix}.norm2`, x, drop(multiheadAttention(w, `${prefix}.multihead_attn`, x, memory, memory, numHeads, cachedMemory, training)));
  const act = activation === "gelu" ? gelu : tf.relu;
  const ff = linear(w, `${prefix}.linear2`, drop(act(linear(w, `${prefix}.linear1`, x))));
  return layerNorm(w, `${prefix}.norm3`, x, drop(ff));
}

/**
 * torch.nn.TransformerEncoderLayer (post-norm, batch_first) with the given activation. x [B, L, D]. With
 * `training`, dropout where torch's layer has it (branches, feed-forward, attention probabilities).
 */
export function encoderLayer(
  w: WeightSource,
  prefix: string,
  x: tf.Tensor,
  numHeads: number,
  activation: "gelu" | "relu",
  training?: LayerTraining,
): tf.Tensor {
  const drop = (y: tf.Tensor) => (training ? training.pass.dropout(y, training.rate) : y);
  let h = layerNorm(w, `${prefix}.norm1`, x, drop(multiheadAttention(w, `${prefix}.self_attn`, x, x, x, numHeads, undefined, training)));
  const act = activation === "gelu" ? gelu : tf.relu;
  h = layerNorm(w, `${prefix}.norm2`, h, drop(linear(w, `${prefix}.linear2`, drop(act(linear(w, `${prefix}.linear1`, h))))));
  return h;
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
