import * as tf from "@tensorflow/tfjs";

/** Runs a registered kernel by name on the active backend (tfjs's engine call, typed for our kernels). */
export function runKernel(name: string, inputs: Record<string, tf.Tensor>, attrs: object = {}): tf.Tensor {
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
}
