import * as tf from "@tensorflow/tfjs";
import { ADD_LAYER_NORM, LAYER_NORM } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";

/**
 * LayerNorm(x + residual) over the last axis with weight `gamma` and bias `beta` [dim] (torch.nn.LayerNorm after a
 * residual add; no residual: plain LayerNorm). x, residual [..., dim] -> [..., dim]. One kernel where the backend has
 * it, else composed tfjs ops.
 */
export function addLayerNorm(x: tf.Tensor, residual: tf.Tensor | null, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const dim = x.shape[x.rank - 1];
  if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) throw new Error(`LayerNorm: residual [${residual.shape}] does not match input [${x.shape}]`);
  if (gamma.size !== dim || beta.size !== dim) throw new Error(`LayerNorm: weight [${gamma.shape}] / bias [${beta.shape}] do not match input dimension ${dim}`);
  const kernel = residual ? ADD_LAYER_NORM : LAYER_NORM;
  if (hasKernel(kernel)) return runKernel(kernel, residual ? { x, r: residual, gamma, beta } : { x, gamma, beta }, { eps });
  const s = residual ? tf.add(x, residual) : x;
  const { mean, variance } = tf.moments(s, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(s, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}
