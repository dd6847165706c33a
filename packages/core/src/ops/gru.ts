/**
 * GRU steps (torch.nn.GRUCell, gate order r, z, n) as the emotion VAE runs them: one composed step, and a whole
 * sequence from the input side's pre-activations of every step, which a frozen GRU (no gradient: the VAE encoding
 * conditions for the diffusion models) runs as one kernel per step where the backend has core's GRU kernel (WebGPU).
 */
import * as tf from "@tensorflow/tfjs";
import { GRU_STEP } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";
import { weightProduct } from "./linear";

/**
 * One GRUCell step from the input side's gate pre-activations gi = x W_ih^T + b_ih [B, 3H], the hidden state h
 * [B, H] and the hidden side's weights W_hh [3H, H], b_hh [3H]. r and z share one sigmoid (fewer kernels per step:
 * at the small preset a step's kernels cost more than their arithmetic). -> [B, H].
 */
export function gruStep(gi: tf.Tensor2D, h: tf.Tensor2D, whh: tf.Tensor, bhh: tf.Tensor): tf.Tensor2D {
  const H = h.shape[1];
  const gh = weightProduct(h, whh, bhh);
  const [irz, inn] = tf.split(gi, [2 * H, H], 1);
  const [hrz, hn] = tf.split(gh, [2 * H, H], 1);
  const [r, z] = tf.split(tf.sigmoid(tf.add(irz!, hrz!)), 2, 1);
  const n = tf.tanh(tf.add(inn!, tf.mul(r!, hn!)));
  return tf.add(tf.mul(tf.sub(1, z!), n), tf.mul(z!, h)) as tf.Tensor2D;
}

/**
 * The last hidden state of a GRU run from h = 0 over T steps, given the input side's pre-activations of all steps
 * gates [B, T, 3H] (one product x W_ih^T + b_ih). `frozen`: no gradient will be taken through it, so core's GRU
 * kernel may run the steps (one dispatch each on WebGPU). -> [B, H].
 */
export function gruLastHidden(gates: tf.Tensor3D, whh: tf.Tensor, bhh: tf.Tensor, frozen: boolean): tf.Tensor2D {
  const [B, T, G] = gates.shape;
  const H = G / 3;
  let h = tf.zeros([B, H]) as tf.Tensor2D;
  if (frozen && hasKernel(GRU_STEP)) {
    for (let t = 0; t < T; t++) h = runKernel(GRU_STEP, { gi: gates, h, whh, bhh }, { t }) as tf.Tensor2D;
    return h;
  }
  const steps = tf.unstack(gates, 1) as tf.Tensor2D[];
  for (let t = 0; t < T; t++) h = gruStep(steps[t]!, h, whh, bhh);
  return h;
}
