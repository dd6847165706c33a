import * as tf from "@tensorflow/tfjs";

/**
 * Seeded, counter-based randomness: Philox4x32-10 (Salmon et al., SC'11; the generator behind cuRAND, JAX and
 * TensorFlow's stateless ops) + Box–Muller, computed in plain JS float64 and handed to tfjs as a Float32Array.
 *
 * Why not `tf.randomNormal`: unseeded it uses Math.random; seeded it draws from a per-call seedrandom stream whose
 * values are tied to tfjs internals and cannot be reproduced outside tfjs. Here value n of stream (seed, stream) is a
 * pure function of (seed, stream, n), so noise is identical on every tfjs backend (cpu, wasm, webgl, webgpu, node),
 * in any batch composition that asks for the same counters, and in NumPy (test/make_fixtures.py re-implements it and
 * the fixtures check the first values bit for bit). JS engines' Math.log/cos are not required to be correctly
 * rounded, so another engine may differ in the last float64 bit, which vanishes on rounding to float32 except in
 * vanishingly rare ties.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32 (exact: partial products stay below 2^53). */
function mulhi(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (aH * bH + Math.floor(lh / 65536) + Math.floor(hl / 65536) + Math.floor(mid / 65536)) >>> 0;
}

/** Philox4x32-10 block: 4 uint32 counter words, 2 uint32 key words -> 4 uint32 written to `out[o..o+3]`. */
export function philox4x32(
  c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array, o = 0,
): void {
  let x0 = c0 >>> 0, x1 = c1 >>> 0, x2 = c2 >>> 0, x3 = c3 >>> 0;
  let key0 = k0 >>> 0, key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[o] = x0;
  out[o + 1] = x1;
  out[o + 2] = x2;
  out[o + 3] = x3;
}

const TWO32 = 4294967296;

/**
 * Stream of uniform and normal numbers keyed by a seed (uint32) and a stream id (uint32, e.g. one per purpose).
 * Block n (n = the counter) is Philox(counter = [n mod 2^32, ⌊n / 2^32⌋, stream, 0], key = [seed, 0x5eed]) and yields
 * 4 uniforms u = (w + 0.5) / 2^32 ∈ (0, 1), or 4 normals by Box–Muller on the pairs (u0,u1), (u2,u3):
 * r·cos(2πu1), r·sin(2πu1), r'·cos(2πu3), r'·sin(2πu3) with r = √(−2 ln u0).
 * Each call consumes whole blocks, so the counter after a call is deterministic: ceil(n / 4) blocks per n values.
 */
export class SeededRandom {
  readonly seed: number;
  readonly stream: number;
  private counter = 0;
  private readonly buf = new Uint32Array(4);

  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO32) {
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
    }
    if (!Number.isInteger(stream) || stream < 0 || stream >= TWO32) {
      throw new RangeError(`stream must be an integer in [0, 2^32), got ${stream}`);
    }
    this.seed = seed;
    this.stream = stream;
  }

  /** Blocks consumed so far. */
  get position(): number {
    return this.counter;
  }
  /** Jump to block `n` (random access: the point of a counter-based generator). */
  seek(n: number): this {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`seek: block index must be a non-negative integer, got ${n}`);
    this.counter = n;
    return this;
  }
  /** An independent generator with the same seed and another stream id. */
  fork(stream: number): SeededRandom {
    return new SeededRandom(this.seed, stream);
  }

  private block(): Uint32Array {
    const n = this.counter++;
    philox4x32(n % TWO32, Math.floor(n / TWO32), this.stream, 0, this.seed, 0x5eed, this.buf);
    return this.buf;
  }

  /** `n` uniforms in (0, 1), float64. */
  uniform(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 4) {
      const b = this.block();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (b[j] + 0.5) / TWO32;
    }
    return out;
  }

  /** `n` standard normals, float64. */
  normal64(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i += 4) {
      const b = this.block();
      for (let p = 0; p < 2; p++) {
        const u0 = (b[2 * p] + 0.5) / TWO32;
        const u1 = (b[2 * p + 1] + 0.5) / TWO32;
        const r = Math.sqrt(-2 * Math.log(u0));
        const a = 2 * Math.PI * u1;
        if (i + 2 * p < n) out[i + 2 * p] = r * Math.cos(a);
        if (i + 2 * p + 1 < n) out[i + 2 * p + 1] = r * Math.sin(a);
      }
    }
    return out;
  }

  /** Standard normal float32 tensor of `shape` (row-major fill). */
  normal(shape: number[], std = 1): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = this.normal64(n);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = v[i] * std;
    return tf.tensor(f, shape, "float32");
  }

  /** `n` integers uniform in [0, high) (for training timesteps). */
  integers(n: number, high: number): Int32Array {
    if (!Number.isInteger(high) || high < 1) throw new RangeError(`integers: high must be an integer >= 1, got ${high}`);
    return Int32Array.from(this.uniform(n), (u) => Math.min(high - 1, Math.floor(u * high)));
  }
}
