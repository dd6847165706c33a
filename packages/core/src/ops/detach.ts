import * as tf from "@tensorflow/tfjs";

/** x as a constant: the same values, no gradient (torch's `detach()`; tfjs has no stop_gradient). */
export const detach = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor),
})) as never) as (x: tf.Tensor) => tf.Tensor;
