import * as tf from "@tensorflow/tfjs";
import { SeededRandom } from "./random";
import type { Denoiser } from "./types";

/**
 * Classifier-free guidance (Ho & Salimans 2022) the way the official PerFRDiff `forward_with_cond_scale` does it:
 * one forward pass over the doubled batch [uncond; cond] (unconditional half first), the "null" condition being
 * zeros of the condition's shape, then out = out_uncond + s·(out_cond − out_uncond).
 *
 * Conditions are batched automatically when they are a tf.Tensor (batch on axis 0), an array of conditions, or a plain
 * object of conditions (e.g. `{ audio: [B, 50, 78], emotion: [B, 50, 25] }`); `null`/`undefined` leaves stay as they
 * are. Anything else needs a `batchConditions` function.
 */

/** Tensors with the batch on axis 0, possibly nested in arrays/plain objects. */
export type Condition = tf.Tensor | null | undefined | readonly Condition[] | { readonly [key: string]: Condition };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

function mapCondition(c: unknown, f: (t: tf.Tensor, path: string) => tf.Tensor, path = "cond"): unknown {
  if (c === null || c === undefined) return c;
  if (c instanceof tf.Tensor) return f(c, path);
  if (Array.isArray(c)) return c.map((v, i) => mapCondition(v, f, `${path}[${i}]`));
  if (isPlainObject(c)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c)) out[k] = mapCondition(v, f, `${path}.${k}`);
    return out;
  }
  throw new TypeError(
    `${path}: cannot batch a condition of type ${Object.prototype.toString.call(c)}; pass tensors (or arrays/objects of ` +
      "tensors), or give batchConditions",
  );
}

/** The official null condition: zeros shaped like every tensor of `cond`. */
export function nullCondition<C>(cond: C): C {
  return mapCondition(cond, (t) => tf.zerosLike(t)) as C;
}

/** Every tensor of a condition structure (for disposal). */
export function conditionTensors(c: unknown): tf.Tensor[] {
  const out: tf.Tensor[] = [];
  mapCondition(c, (t) => {
    out.push(t);
    return t;
  });
  return out;
}

/** Concatenate two conditions of the same structure along the batch axis: [a; b]. */
export function concatConditions<C>(a: C, b: C, path = "cond"): C {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return a;
  if (a instanceof tf.Tensor && b instanceof tf.Tensor) {
    if (a.shape.slice(1).join() !== b.shape.slice(1).join() || a.dtype !== b.dtype) {
      throw new RangeError(`${path}: uncond has shape [${a.shape}] (${a.dtype}) but cond has shape [${b.shape}] (${b.dtype})`);
    }
    return tf.concat([a, b], 0) as C;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) throw new RangeError(`${path}: uncond has ${a.length} entries, cond has ${b.length}`);
    return a.map((v, i) => concatConditions(v, b[i], `${path}[${i}]`)) as C;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).sort().join();
    const kb = Object.keys(b).sort().join();
    if (ka !== kb) throw new RangeError(`${path}: uncond has keys {${ka}} but cond has keys {${kb}}`);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(b)) out[k] = concatConditions(a[k], b[k], `${path}.${k}`);
    return out as C;
  }
  throw new TypeError(`${path}: uncond and cond differ in structure or are not tensors/arrays/objects; give batchConditions`);
}

export interface GuidanceOptions {
  /** Guidance scale s; 1 = plain conditional model (one pass, no uncond needed). Official PerFRDiff: 7.5. */
  scale?: number;
  /** The condition for the guided (conditional) half. Required when scale ≠ 1. */
  cond?: unknown;
  /** The unconditional input; default {@link nullCondition}(cond) = zeros, as the official code. */
  uncond?: unknown;
  /** Batch [uncond; cond] yourself for condition types this module cannot concatenate. */
  batchConditions?: (uncond: unknown, cond: unknown) => unknown;
}

/** Validate a guidance configuration; throws a message naming the problem. */
export function checkGuidance(o: GuidanceOptions): number {
  const s = o.scale ?? 1;
  if (!Number.isFinite(s)) throw new RangeError(`guidance scale must be a finite number, got ${s}`);
  if (s !== 1 && (o.cond === undefined || o.cond === null)) {
    throw new RangeError(`guidance scale ${s} needs a condition: pass cond (and optionally uncond), or use scale 1`);
  }
  return s;
}

/**
 * Guided model output for x_t `[batch, ...]` at timesteps t `[batch]`: one denoiser call on the doubled batch
 * `[2·batch, ...]` with conditions [uncond; cond]; returns `[batch, ...]` = uncond + s·(cond − uncond).
 * With s = 1 it is one plain call `denoiser(x, t, cond)`.
 */
export function classifierFreeGuidance(denoiser: Denoiser, x: tf.Tensor, t: tf.Tensor1D, o: GuidanceOptions): tf.Tensor {
  const s = checkGuidance(o);
  if (s === 1) return denoiser(x, t, o.cond);
  const created: tf.Tensor[] = [];
  try {
    let uncond = o.uncond;
    if (uncond === undefined) {
      uncond = nullCondition(o.cond);
      created.push(...conditionTensors(uncond));
    }
    const both = o.batchConditions ? o.batchConditions(uncond, o.cond) : concatConditions(uncond, o.cond);
    if (!o.batchConditions) created.push(...conditionTensors(both));
    return tf.tidy(() => {
      const out = denoiser(tf.concat([x, x], 0), tf.concat([t, t], 0) as tf.Tensor1D, both);
      const b = x.shape[0];
      if (out.shape[0] !== 2 * b) {
        throw new RangeError(`denoiser returned batch ${out.shape[0]} for a guided batch of ${2 * b} (shape [${out.shape}])`);
      }
      const [u, c] = tf.split(out, 2, 0);
      return tf.add(u, tf.mul(tf.sub(c, u), s));
    });
  } finally {
    tf.dispose(created);
  }
}

/** Wrap a denoiser with guidance: `(x, t) => classifierFreeGuidance(denoiser, x, t, o)`. */
export function guidedDenoiser(denoiser: Denoiser, o: GuidanceOptions): (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor {
  checkGuidance(o);
  return (x, t) => classifierFreeGuidance(denoiser, x, t, o);
}

/**
 * Condition-dropout mask for CFG training: `[batch]` float32, 0 where the condition is dropped (probability p,
 * official 0.2 per condition) and 1 where it is kept. Drawn from SeededRandom(seed, stream): example i is dropped
 * iff u_i < p (the official code: `bernoulli(p)`, 1 → null condition).
 */
export function conditionDropoutMask(batch: number, p: number, seed: number | SeededRandom, stream = 0): tf.Tensor1D {
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`conditionDropoutMask: batch must be an integer >= 1, got ${batch}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`conditionDropoutMask: drop probability must be in [0, 1], got ${p}`);
  const rng = typeof seed === "number" ? new SeededRandom(seed, stream) : seed;
  const u = rng.uniform(batch);
  return tf.tensor1d(Float32Array.from(u, (v) => (v < p ? 0 : 1)), "float32");
}

/**
 * Replace dropped examples' conditions by the null condition (zeros): every tensor `[batch, ...]` of `cond` is
 * multiplied by `keep` `[batch]` broadcast over its trailing axes. Returns new tensors (caller disposes).
 */
export function applyConditionDropout<C>(cond: C, keep: tf.Tensor1D): C {
  return mapCondition(cond, (t, path) => {
    if (t.shape[0] !== keep.shape[0]) {
      throw new RangeError(`${path} has shape [${t.shape}] but the dropout mask has batch ${keep.shape[0]}`);
    }
    return tf.tidy(() => tf.mul(t, tf.reshape(tf.cast(keep, t.dtype), [keep.shape[0], ...t.shape.slice(1).map(() => 1)])));
  }) as C;
}
