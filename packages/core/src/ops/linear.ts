/**
 * Products with PyTorch-layout weights (Linear weight [out, in]): x W^T + b, over all rows of W or a range of them
 * (the q, k, v parts of an attention's in_proj).
 */
import * as tf from "@tensorflow/tfjs";
import { matmulLast, plainProductsOnly } from "./matmul";

/**
 * Tensors derived from weights, made once per weight tensor: transposed copies ([in, out]) of PyTorch-layout
 * weights, because tfjs-wasm multiplies by a transposed operand ~15x slower than by a plain one (measured: 266 ms vs
 * 18 ms for 1000x512x512), and the q/k/v parts of in_proj biases, because tfjs-wasm caches each product's packed
 * weights by the tensors of its weight and bias: a bias split anew at every call would repack the weights every
 * time. Entries whose weight was disposed (e.g. a dropped personalisation overlay) are freed on the next miss, or at
 * once by {@link releaseDerivedWeights}.
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

function freeEntry(weight: tf.Tensor): void {
  const entry = derived.get(weight);
  if (!entry) return;
  for (const ts of entry.values()) ts.forEach((t) => t.dispose());
  derived.delete(weight);
}

function cachedDerived(W: tf.Tensor, kind: string, make: () => tf.Tensor[]): tf.Tensor[] {
  if (!caching || W instanceof tf.Variable) return make(); // inside the graph, so gradients reach W
  const hit = derived.get(W)?.get(kind);
  if (hit && !W.isDisposed) return hit;
  for (const k of [...derived.keys()]) if (k.isDisposed) freeEntry(k);
  const made = tf.tidy(() => make().map((t) => tf.keep(t)));
  let entry = derived.get(W);
  if (!entry) derived.set(W, (entry = new Map()));
  entry.set(kind, made);
  return made;
}

/**
 * Whether a product reads W in place (no cached copy): weights that must stay in the gradient's graph, on backends
 * whose products take a transposed operand at full speed. Then a product over all of W's rows costs no slicing.
 */
export function readsInPlace(W: tf.Tensor): boolean {
  return (!caching || W instanceof tf.Variable) && !plainProductsOnly();
}

/**
 * x [..., in] times rows [from, to) of a PyTorch-layout weight W [out, in], transposed, plus the same entries of the
 * bias b: -> [..., to - from]. Cacheable weights use a cached transposed copy of the rows (and a cached bias part).
 * Weights that must stay in the gradient's graph (variables, {@link withoutWeightCache}) are read in place where
 * products take transposed operands, by a product with a transposed operand: a copy made per call would cost a
 * transpose kernel forward and another backward.
 */
export function weightProduct(x: tf.Tensor, W: tf.Tensor, b: tf.Tensor | undefined, from = 0, to = W.shape[0] as number): tf.Tensor {
  const rows = (t: tf.Tensor) => (from === 0 && to === t.shape[0] ? t : tf.slice(t, from, to - from));
  if (!readsInPlace(W)) {
    const Wt = cachedDerived(W, `T${from}:${to}`, () => [tf.transpose(rows(W))])[0] as tf.Tensor2D;
    return matmulLast(x, Wt, b && cachedDerived(b, `S${from}:${to}`, () => [rows(b)])[0]);
  }
  const K = W.shape[1] as number;
  const lead = x.shape.slice(0, -1);
  const a = tf.reshape(x, [lead.reduce((p, q) => p * q, 1), K]) as tf.Tensor2D;
  const y = tf.fused.matMul({ a, b: rows(W) as tf.Tensor2D, transposeB: true, bias: b && rows(b) });
  return tf.reshape(y, [...lead, to - from]);
}

/**
 * Frees the tensors derived from these weights (all of them when none are given) and those of weights already
 * disposed (a dropped personalisation's, otherwise freed only at the next miss); they are re-made on demand.
 */
export function releaseDerivedWeights(weights?: Iterable<tf.Tensor>): void {
  for (const w of weights ?? [...derived.keys()]) freeEntry(w);
  for (const k of [...derived.keys()]) if (k.isDisposed) freeEntry(k);
}
