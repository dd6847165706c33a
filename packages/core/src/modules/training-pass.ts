/**
 * The randomness of one training forward pass: dropout masks and condition-dropout draws, every one derived from the
 * pass's seed and the order of the draws, so a step recomputes exactly (resuming a run gives the same weights).
 */
import type * as tf from "@tensorflow/tfjs";
import { dropout } from "../ops/dropout";

/** A 32-bit hash of two integers (splitmix32's finaliser over their mix). */
export function mix32(a: number, b: number): number {
  let z = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(b + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

export class TrainingPass {
  private draws = 0;

  constructor(readonly seed: number) {}

  /** The next 32-bit seed of this pass. */
  nextSeed(): number {
    return mix32(this.seed, this.draws++);
  }

  /** Inverted dropout of x at `rate` (x itself when rate is 0). */
  dropout(x: tf.Tensor, rate: number): tf.Tensor {
    return rate > 0 ? dropout(x, rate, this.nextSeed()) : x;
  }

  /** n draws of 1 with probability p, else 0 (condition dropout per batch element). */
  bernoulli(n: number, p: number): Float32Array {
    const out = new Float32Array(n);
    if (p <= 0) return out;
    const s = this.nextSeed();
    for (let i = 0; i < n; i++) out[i] = mix32(s, i) / 4294967296 < p ? 1 : 0;
    return out;
  }

  /** A uniform draw in [0, 1). */
  uniform(): number {
    return this.nextSeed() / 4294967296;
  }

  /** A uniform whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p;
  }

  /** n standard normal draws (Box-Muller over the pass's hash stream), e.g. the VAE's reparameterisation. */
  normal(n: number): Float32Array {
    const out = new Float32Array(n);
    const s = this.nextSeed();
    for (let i = 0; i < n; i += 2) {
      const u1 = (mix32(s, i) + 1) / 4294967297; // (0, 1]
      const u2 = mix32(s, i + 1) / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    return out;
  }
}

/** What a layer needs to train: the pass's randomness and the dropout rate of the layer's sites. */
export interface LayerTraining {
  pass: TrainingPass;
  /** torch's `dropout` of the layer: residual branches, feed-forward, attention probabilities. */
  rate: number;
}
