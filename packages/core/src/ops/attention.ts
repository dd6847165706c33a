/**
 * Multi-head attention (torch.nn.MultiheadAttention's core: no masks; dropout on the probabilities in training) as the
 * model code calls it, on any backend. Where the backend has core's fused attention kernels (WebGPU), queries, keys and values stay packed in
 * their projections and one kernel reads the heads in place; elsewhere, and for shapes the kernels do not take,
 * composed tfjs ops attend over heads split out of the projections.
 */
import * as tf from "@tensorflow/tfjs";
import { ATTENTION, ATTENTION_MAX_HEAD_DIM, ATTENTION_MAX_KEYS, ATTENTION_MAX_WORK, SELF_ATTENTION } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";
import { dropout as dropoutOp } from "./dropout";
import { readsInPlace, weightProduct } from "./linear";
import { bmm, plainProductsOnly } from "./matmul";

/** Keys in columns [kOffset, kOffset + dim) and values in [vOffset, vOffset + dim) of t [B, L, C]. */
export interface PackedSource {
  t: tf.Tensor3D;
  kOffset: number;
  vOffset: number;
}

/**
 * Attention on packed projections: queries are columns [qOffset, qOffset + dim) of q [B, Lq, *]; keys and values
 * come from the sources, whose rows form one key sequence.
 */
export interface PackedAttention {
  q: tf.Tensor3D;
  qOffset: number;
  sources: PackedSource[];
  dim: number;
  heads: number;
}

/** How a memory holds its keys and values: packed projections (fused kernels) or heads (k [B,H,L,Dh], vT [B,H,Dh,L]). */
type MemoryLayout = { packed: PackedSource[] } | { k: tf.Tensor4D; vT: tf.Tensor4D };

/** Each memory's layout, out of the users' reach: AttentionMemory is opaque. */
const layouts = new WeakMap<AttentionMemory, MemoryLayout>();

/**
 * Projected keys and values of an attention, made once (e.g. for the condition tokens of a whole sampling chain)
 * and attended many times with {@link multiHeadAttention}. Opaque: it is laid out for the backend that made it.
 * `dispose()` frees the tensors this memory made; a joined memory frees only what joining made, not its parts.
 */
export class AttentionMemory {
  private constructor(
    /** Number of keys. */
    readonly length: number,
    private readonly owned: tf.Tensor[],
  ) {}

  /** @internal */
  static make(layout: MemoryLayout, owned: tf.Tensor[]): AttentionMemory {
    const length = "packed" in layout ? layout.packed.reduce((n, s) => n + s.t.shape[1], 0) : layout.k.shape[2];
    const m = new AttentionMemory(length, owned);
    layouts.set(m, layout);
    return m;
  }

  /** The keys of this memory followed by those of `other`. */
  join(other: AttentionMemory): AttentionMemory {
    const a = layouts.get(this)!;
    const b = layouts.get(other)!;
    if ("packed" in a && "packed" in b) return AttentionMemory.make({ packed: [...a.packed, ...b.packed] }, []);
    if ("k" in a && "k" in b) {
      const k = tf.concat([a.k, b.k], 2) as tf.Tensor4D;
      const vT = tf.concat([a.vT, b.vT], 3) as tf.Tensor4D;
      return AttentionMemory.make({ k, vT }, [k, vT]);
    }
    throw new Error("attention memories of different layouts (made with fused kernels switched on and off)");
  }

  /** Keeps this memory's tensors out of the enclosing tf.tidy. */
  keep(): this {
    this.owned.forEach((t) => tf.keep(t));
    return this;
  }

  dispose(): void {
    tf.dispose(this.owned);
  }
}

/**
 * Softmax over axis 1 of s [N, Lk, Lq] (the keys of transposed scores), with its gradient written out,
 * p (dy - sum(dy p)): the composed gradient would go through the max that keeps exp in range, a comparison over every
 * score (slow on wasm) that contributes exactly nothing.
 */
const softmaxOverKeys = tf.customGrad(((s: tf.Tensor, save: tf.GradSaveFunc) => {
  const e = tf.exp(tf.sub(s, tf.max(s, 1, true)));
  const p = tf.div(e, tf.sum(e, 1, true));
  save([p]);
  return {
    value: p,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [saved]: tf.Tensor[]) => tf.mul(saved!, tf.sub(dy as tf.Tensor, tf.sum(tf.mul(dy as tf.Tensor, saved!), 1, true))),
  };
}) as never) as (s: tf.Tensor) => tf.Tensor;

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

/** Columns [from, from + width) of t [B, L, C]. */
const columns = (t: tf.Tensor3D, from: number, width: number) => (from === 0 && width === t.shape[2] ? t : tf.slice(t, [0, 0, from], [t.shape[0], t.shape[1], width]));

/**
 * Training's dropout on the attention probabilities (torch.nn.MultiheadAttention's `dropout`): the mask of
 * ops/dropout.ts over the probabilities laid out [B, H, Lq, Lk], whichever path computes them.
 */
export interface AttentionDropout {
  rate: number;
  seed: number;
}

/**
 * The fused attention's fallback: scaled dot-product attention in tfjs ops of queries q [B, Lq, H*Dh] over keys
 * k [B, H, Lk, Dh] and values (v [B, H, Lk, Dh] or vT [B, H, Dh, Lk]) -> [B, Lq, H*Dh], heads merged, with
 * training's dropout on the softmax weights.
 */
function composedAttention(q: tf.Tensor, k: tf.Tensor4D, values: { v: tf.Tensor4D } | { vT: tf.Tensor4D }, dropout?: AttentionDropout): tf.Tensor {
  const [B, H, Lk, Dh] = k.shape;
  const Lq = q.shape[1] as number;
  const scale = 1 / Math.sqrt(Dh);
  if (!plainProductsOnly()) {
    const p0 = tf.softmax(tf.mul(tf.matMul(heads(q, H), k, false, true), scale), -1);
    const p = (dropout ? dropoutOp(p0, dropout.rate, dropout.seed) : p0) as tf.Tensor4D;
    const ctx = "v" in values ? tf.matMul(p, values.v) : tf.matMul(p, values.vT, false, true); // [B, H, Lq, Dh]
    return tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B, Lq, H * Dh]);
  }
  // One product per (batch, head) (the batched-product kernel); each product repacks its right operand (~8 ns per
  // element), so the products are transposed to pack the smaller one: scores^T = K Q^T, context^T = V^T P^T.
  const vT = "vT" in values ? values.vT : (tf.transpose(values.v, [0, 1, 3, 2]) as tf.Tensor4D);
  const qT = tf.reshape(headsTransposed(q, H), [B * H, Dh, Lq]) as tf.Tensor3D;
  const sT = tf.mul(bmm(tf.reshape(k, [B * H, Lk, Dh]) as tf.Tensor3D, qT), scale); // [B*H, Lk, Lq]
  const p0T = softmaxOverKeys(sT);
  // the transposed probabilities get the mask of the [B, H, Lq, Lk] layout
  const pT = (dropout ? dropoutOp(p0T, dropout.rate, dropout.seed, { swapLastTwo: true }) : p0T) as tf.Tensor3D;
  const ctxT = bmm(tf.reshape(vT, [B * H, Dh, Lk]) as tf.Tensor3D, pT); // [B*H, Dh, Lq]
  return tf.reshape(tf.transpose(tf.reshape(ctxT, [B, H, Dh, Lq]), [0, 3, 1, 2]), [B, Lq, H * Dh]);
}

/**
 * Attention on packed projections (see {@link PackedAttention}): -> [B, Lq, dim], heads merged. One fused kernel
 * where the backend has it and the shapes fit its limits, else {@link composedAttention} over heads sliced out.
 * `dropout`: training's, on the probabilities (the same mask on both paths).
 */
export function packedAttention(a: PackedAttention, dropout?: AttentionDropout): tf.Tensor3D {
  const lk = a.sources.reduce((n, s) => n + s.t.shape[1], 0);
  const dh = a.dim / a.heads;
  const work = a.q.shape[0] * a.q.shape[1] * lk * a.dim;
  const fits = a.sources.length <= 2 && lk <= ATTENTION_MAX_KEYS && dh <= ATTENTION_MAX_HEAD_DIM && work <= ATTENTION_MAX_WORK;
  // one input when queries, keys and values share a tensor: its gradient is then one kernel, not a sum of two
  const self = a.sources.length === 1 && a.sources[0]!.t === a.q;
  const name = self ? SELF_ATTENTION : ATTENTION[a.sources.length - 1]!;
  if (!fits || !hasKernel(name)) {
    const cat = (ts: tf.Tensor4D[], axis: number) => (ts.length === 1 ? ts[0]! : (tf.concat(ts, axis) as tf.Tensor4D));
    const k = cat(a.sources.map((s) => heads(columns(s.t, s.kOffset, a.dim), a.heads)), 2);
    const v = cat(a.sources.map((s) => heads(columns(s.t, s.vOffset, a.dim), a.heads)), 2);
    return composedAttention(columns(a.q, a.qOffset, a.dim), k, { v }, dropout) as tf.Tensor3D;
  }
  const attrs = { qOffset: a.qOffset, dim: a.dim, heads: a.heads, offsets: a.sources.flatMap((s) => [s.kOffset, s.vOffset]), dropRate: dropout?.rate ?? 0, seed: (dropout?.seed ?? 0) | 0 };
  const inputs: Record<string, tf.Tensor> = { q: a.q };
  if (!self) a.sources.forEach((s, i) => (inputs[`s${i + 1}`] = s.t));
  return runKernel(name, inputs, attrs) as tf.Tensor3D;
}

/** Whether new memories are packed for the fused kernels (else split into heads). */
const packedLayout = () => hasKernel(ATTENTION[0]);

/**
 * Projects keys from x [B, L, D] and values from `value` (default x) with the key and value rows of an in_proj
 * weight [3D, D] and bias [3D] (torch.nn.MultiheadAttention's `in_proj_*`), for `numHeads` heads.
 */
export function projectKeysValues(x: tf.Tensor, inProjWeight: tf.Tensor, inProjBias: tf.Tensor, numHeads: number, value: tf.Tensor = x): AttentionMemory {
  const D = inProjWeight.shape[1] as number;
  if (packedLayout() && value === x) {
    // one product; weights read in place take all rows (the query columns are not read), others only k|v
    const t = weightProduct(x, inProjWeight, inProjBias, readsInPlace(inProjWeight) ? 0 : D, 3 * D) as tf.Tensor3D;
    const C = t.shape[2];
    return AttentionMemory.make({ packed: [{ t, kOffset: C - 2 * D, vOffset: C - D }] }, [t]);
  }
  const k = weightProduct(x, inProjWeight, inProjBias, D, 2 * D);
  const v = weightProduct(value, inProjWeight, inProjBias, 2 * D, 3 * D);
  if (packedLayout()) {
    const t = tf.concat([k, v], 2) as tf.Tensor3D;
    return AttentionMemory.make({ packed: [{ t, kOffset: 0, vOffset: D }] }, [t]);
  }
  const split = { k: heads(k, numHeads), vT: headsTransposed(v, numHeads) };
  return AttentionMemory.make(split, [split.k, split.vT]);
}

/**
 * torch.nn.MultiheadAttention without masks (eval) up to its output projection: query [B, Lq, D] projected with
 * rows [0, D) of the in_proj weight [3D, D] and bias [3D], attending over `keys`: a memory (projected before), or
 * key/value [B, Lk, D] to project here. -> [B, Lq, D], heads merged. `dropout`: training's, on the attention weights.
 */
export function multiHeadAttention(
  query: tf.Tensor,
  inProjWeight: tf.Tensor,
  inProjBias: tf.Tensor,
  numHeads: number,
  keys: AttentionMemory | { key: tf.Tensor; value: tf.Tensor },
  dropout?: AttentionDropout,
): tf.Tensor {
  const D = inProjWeight.shape[1] as number;
  const self = !(keys instanceof AttentionMemory) && query === keys.key && keys.key === keys.value;
  if (self && packedLayout()) {
    // self-attention: queries, keys and values from one product, attended in place
    const qkv = weightProduct(query, inProjWeight, inProjBias) as tf.Tensor3D; // [B, L, 3D]
    return packedAttention({ q: qkv, qOffset: 0, sources: [{ t: qkv, kOffset: D, vOffset: 2 * D }], dim: D, heads: numHeads }, dropout);
  }
  const memory = keys instanceof AttentionMemory ? keys : projectKeysValues(keys.key, inProjWeight, inProjBias, numHeads, keys.value);
  const layout = layouts.get(memory)!;
  if ("packed" in layout) {
    // weights read in place (training): all rows in one product, the fused attention reads the query columns; a
    // slice of W and of its bias would cost four kernels forward and six backward
    const q = weightProduct(query, inProjWeight, inProjBias, 0, readsInPlace(inProjWeight) ? 3 * D : D) as tf.Tensor3D;
    return packedAttention({ q, qOffset: 0, sources: layout.packed, dim: D, heads: numHeads }, dropout);
  }
  return composedAttention(weightProduct(query, inProjWeight, inProjBias, 0, D), layout.k, { vT: layout.vT }, dropout);
}
