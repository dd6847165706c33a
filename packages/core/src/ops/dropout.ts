import * as tf from "@tensorflow/tfjs";
import { DROPOUT } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";

/**
 * Inverted dropout (torch.nn.Dropout in training): each element kept with probability 1 - rate and scaled by
 * 1 / (1 - rate), zeroed otherwise. The mask is a function of `seed` alone (a 32-bit integer): the same seed gives the
 * same mask on a backend, so a training step can be recomputed exactly. Any shape; rate in [0, 1).
 */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  if (hasKernel(DROPOUT)) return runKernel(DROPOUT, { x }, { rate, seed: seed | 0 });
  // The mask made here from a hash of (seed, index), as the kernel does, and applied by one product: tfjs's
  // randomUniform + greaterEqual + cast took ~5x as long on wasm (its comparison is not vectorised).
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  const s = seed >>> 0;
  for (let i = 0; i < mask.length; i++) mask[i] = hash01(s, i) >= rate ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, "float32")));
}

/** murmur3's 32-bit finaliser. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A uniform number in [0, 1) from (seed, index): the index hashed, mixed with the seed, hashed again. */
function hash01(seed: number, index: number): number {
  return fmix32(fmix32(index) ^ seed) / 4294967296;
}
