/**
 * Matrix products of the model code. Where the active backend has core's batched-product kernel (tfjs-wasm, whose
 * own batched and transposed products are 10-40x slower than its plain one; see kernels/wasm/batch-matmul.ts), they
 * run through it; elsewhere through tf.matMul / tf.fused.matMul.
 */
import * as tf from "@tensorflow/tfjs";
import { BATCH_MATMUL } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";

/**
 * Whether products run through the batched-product kernel, which takes plain (untransposed) operands only: callers
 * then prefer layouts that need no transposed operand.
 */
export function plainProductsOnly(): boolean {
  return hasKernel(BATCH_MATMUL);
}

/**
 * Batched product a [Ba, M, K] x b [Bb, K, N] (+ bias [N]) -> [B, M, N], where a batch of 1 is shared by every
 * product (Ba and Bb are equal or one of them is 1).
 */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D, bias?: tf.Tensor): tf.Tensor3D {
  const [Ba, M, K] = a.shape;
  const [Bb, K2, N] = b.shape;
  if (a.rank !== 3 || b.rank !== 3 || K !== K2 || (Ba !== Bb && Ba !== 1 && Bb !== 1)) {
    throw new Error(`bmm: cannot multiply [${a.shape}] by [${b.shape}]`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) throw new Error(`bmm: bias [${bias.shape}] does not match ${N} outputs`);
  if (plainProductsOnly() && a.dtype === "float32" && b.dtype === "float32") {
    return runKernel(BATCH_MATMUL, bias ? { a, b, bias } : { a, b }) as tf.Tensor3D;
  }
  return tf.tidy(() => {
    const B = Math.max(Ba, Bb);
    // a shared right operand is one 2-D product, with the bias fused in (one kernel on webgpu instead of two)
    if (Bb === 1) return tf.reshape(tf.fused.matMul({ a: tf.reshape(a, [Ba * M, K]) as tf.Tensor2D, b: tf.reshape(b, [K, N]) as tf.Tensor2D, bias }), [Ba, M, N]) as tf.Tensor3D;
    const y = tf.matMul(Ba === B ? a : tf.tile(a, [B, 1, 1]), b);
    return (bias ? tf.add(y, bias) : y) as tf.Tensor3D;
  });
}

/** x [..., K] times a matrix [K, N] (+ bias [N]) -> [..., N]: the products of linear layers. */
export function matmulLast(x: tf.Tensor, w: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor {
  const K = w.shape[0];
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((p, q) => p * q, 1);
  const y = bmm(tf.reshape(x, [1, rows, K]) as tf.Tensor3D, tf.reshape(w, [1, K, w.shape[1]]) as tf.Tensor3D, bias);
  return tf.reshape(y, [...lead, w.shape[1]]);
}
