import * as tf from "@tensorflow/tfjs";
import { DROPOUT } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";

/**
 * Inverted dropout (torch.nn.Dropout in training): each element kept with probability 1 - rate and scaled by
 * 1 / (1 - rate), zeroed otherwise. The mask is a function of `seed` (a 32-bit integer) and the element's index
 * alone, the same on every backend (the WebGPU kernel computes the same hash): a training step can be recomputed
 * exactly, and backends compared. Any shape; rate in [0, 1).
 */
export function dropout(x: tf.Tensor, rate: number, seed: number, options: DropoutOptions = {}): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  const swap = options.swapLastTwo ?? false;
  if (swap && x.rank < 2) throw new Error(`dropout swapLastTwo needs a tensor of rank >= 2, got [${x.shape}]`);
  if (hasKernel(DROPOUT)) return runKernel(DROPOUT, { x }, { rate, seed: seed | 0, swap: swap ? 1 : 0 });
  // The mask made here, as the kernel does, and applied by one product: tfjs's randomUniform + greaterEqual + cast
  // took ~5x as long on wasm (its comparison is not vectorised). The kernel compares in float32.
  const scale = 1 / (1 - rate);
  const threshold = Math.fround(rate);
  const mask = new Float32Array(x.size);
  const s = seed >>> 0;
  if (!swap) for (let i = 0; i < mask.length; i++) mask[i] = uniform01(s, i) >= threshold ? scale : 0;
  else {
    const [R, C] = x.shape.slice(-2) as [number, number];
    for (let i = 0; i < mask.length; i++) mask[i] = uniform01(s, swappedIndex(i, R, C)) >= threshold ? scale : 0;
  }
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, "float32")));
}

export interface DropoutOptions {
  /**
   * Hash each element by its index in the tensor with the last two axes swapped: x [..., R, C] gets the mask that
   * x^T [..., C, R] would, transposed (for a transposed layout of attention probabilities).
   */
  swapLastTwo?: boolean;
}

/** The index of element i of [..., R, C] in the same tensor with its last two axes swapped ([..., C, R]). */
function swappedIndex(i: number, R: number, C: number): number {
  const m = R * C;
  const within = i % m;
  const r = Math.floor(within / C);
  return i - within + (within - r * C) * R + r;
}

/** The PCG hash of a 32-bit integer (kernels/webgpu/dropout.ts's pcgHash, in 32-bit arithmetic). */
function pcgHash(v: number): number {
  const state = (Math.imul(v, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** A uniform number in [0, 1) from (seed, index), 24 bits: the index hashed, mixed with the seed, hashed again. */
export function uniform01(seed: number, index: number): number {
  return (pcgHash((pcgHash(index) ^ seed) >>> 0) >>> 8) / 16777216;
}
