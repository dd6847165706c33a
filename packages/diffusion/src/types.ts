import type * as tf from "@tensorflow/tfjs";

/**
 * A model-agnostic denoiser: given x_t `[batch, ...]` (float32), timesteps t `[batch]` (int32, original training
 * timesteps in [0, T)) and an optional condition (any structure the model understands), returns the model output of
 * the same shape as x_t, in the parameterisation the sampler is told about (x0, eps or v).
 * It must not dispose its inputs; samplers dispose what they create.
 */
export type Denoiser = (xT: tf.Tensor, t: tf.Tensor1D, cond?: unknown) => tf.Tensor;
