/**
 * What the three attention programs share (forward, score gradients, input gradients): where queries, keys and values
 * sit inside packed projection tensors, and the uniforms that say so. Queries are columns [qOffset, qOffset + dim) of
 * q [B, Lq, Cq]; keys and values are columns [kOffset, +dim) and [vOffset, +dim) of each source [B, Li, Ci], the
 * sources' rows forming one key sequence (at most two sources).
 */
import type * as tf from "@tensorflow/tfjs";
import { ints, floats, type Uniform } from "./program";

/** Queries per workgroup of the forward kernel: each key and value row read serves this many queries. */
export const QB = 8;
/**
 * Lanes sharing one key's dot products (each takes every LANES-th element: adjacent lanes read adjacent floats). The
 * forward score reduction pairs one invocation with each (key of a pass, query): WG / LANES keys per pass times QB = WG.
 */
export const LANES = 8;

/** Attributes of the attention kernels. */
export interface AttentionAttrs {
  qOffset: number;
  dim: number;
  heads: number;
  /** kOffset, vOffset of each source */
  offsets: number[];
  /** training's dropout on the attention probabilities (0 or absent: none), and its seed */
  dropRate?: number;
  seed?: number;
}

/**
 * WGSL: start of key (`off` "k") or value ("v") row j of head h, batch b, in source 1 or 2 ([B, L, C], columns at an
 * offset; key j counts across both sources), for the uniforms below.
 */
export function sourceRow(src: 1 | 2, j: string, off: "k" | "v"): string {
  return src === 1 ? `(b * uniforms.l1 + ${j}) * uniforms.c1 + uniforms.${off}1 + h * DH` : `(b * uniforms.l2 + ${j} - uniforms.l1) * uniforms.c2 + uniforms.${off}2 + h * DH`;
}

/** Uniforms of the attention programs: query geometry, each source's rows, columns and offsets, the score scale. */
export const ATTENTION_UNIFORMS = "lq : i32, heads : i32, cq : i32, qOff : i32, l1 : i32, c1 : i32, k1 : i32, v1 : i32, l2 : i32, c2 : i32, k2 : i32, v2 : i32, scale : f32, seed : i32, drop : f32, keepScale : f32,";

export function attentionUniforms(q: tf.TensorInfo, srcs: tf.TensorInfo[], a: AttentionAttrs): Uniform[] {
  const geom = (i: number) => (srcs[i] ? [srcs[i]!.shape[1]!, srcs[i]!.shape[2]!, a.offsets[2 * i]!, a.offsets[2 * i + 1]!] : [0, 1, 0, 0]);
  const rate = a.dropRate ?? 0;
  return [
    ...ints(q.shape[1]!, a.heads, q.shape[2]!, a.qOffset, ...geom(0), ...geom(1)),
    ...floats(1 / Math.sqrt(a.dim / a.heads)),
    ...ints((a.seed ?? 0) | 0),
    ...floats(rate, rate > 0 ? 1 / (1 - rate) : 1),
  ];
}

/**
 * WGSL: the dropout multiplier of attention probability (row `row` = (b * heads + h) * lq + i, key j): 0 or
 * 1 / (1 - rate), from the DROPOUT kernel's hash of the element's index in [B, H, Lq, Lk]; 1 without dropout.
 */
export function dropMultiplier(row: string, j: string): string {
  return `select(select(0.0, uniforms.keepScale, uniform01(u32(uniforms.seed), u32((${row}) * lk + ${j})) >= uniforms.drop), 1.0, uniforms.drop <= 0.0)`;
}

/** The packed tensors of an attention kernel's inputs: the query tensor and the sources (a self-attention's are one). */
export function attentionOperands(inputs: tf.NamedTensorInfoMap): { q: tf.TensorInfo; srcs: tf.TensorInfo[] } {
  const q = inputs.q!;
  return { q, srcs: inputs.s1 ? [inputs.s1, ...(inputs.s2 ? [inputs.s2] : [])] : [q] };
}
