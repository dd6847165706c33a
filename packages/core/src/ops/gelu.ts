import * as tf from "@tensorflow/tfjs";
import { GELU } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";

/** Exact GELU, x * Phi(x), as torch.nn.functional.gelu's default. Any shape. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (hasKernel(GELU)) return runKernel(GELU, { x });
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}
