import * as tf from "@tensorflow/tfjs";
import type { NoiseSchedule } from "./schedule";

/**
 * Model output parameterisations and conversions between them.
 *
 * With ᾱ = ᾱ_t, x_t = √ᾱ·x0 + √(1−ᾱ)·ε and v = √ᾱ·ε − √(1−ᾱ)·x0 (Salimans & Ho 2022).
 * Every function takes the noise level as ᾱ: a number (one t for the whole batch, as in sampling) or a per-example
 * vector (`[batch]` tensor/array, as in training), broadcast over the trailing dimensions of x.
 * All tensors have the same shape `[batch, ...]`; results are float32.
 */
export type Prediction = "x0" | "eps" | "v";
export const PREDICTIONS: readonly Prediction[] = ["x0", "eps", "v"];

/** ᾱ for one timestep (number) or one per batch element. */
export type AlphaBar = number | ArrayLike<number> | tf.Tensor1D;

export function checkPrediction(p: string): Prediction {
  if (!(PREDICTIONS as readonly string[]).includes(p)) {
    throw new RangeError(`unknown prediction type '${p}'; expected one of ${PREDICTIONS.join(", ")} (official PerFRDiff: x0)`);
  }
  return p as Prediction;
}

/** Coefficient f(ᾱ) as a scalar, or a `[batch, 1, …, 1]` float32 tensor broadcastable against `like`. */
function coef(alphaBar: AlphaBar, f: (a: number) => number, like: tf.Tensor): number | tf.Tensor {
  if (typeof alphaBar === "number") return f(alphaBar);
  const vals = alphaBar instanceof tf.Tensor ? alphaBar.dataSync() : alphaBar;
  if (vals.length !== like.shape[0]) {
    throw new RangeError(`per-example alpha-bar has ${vals.length} entries but x has batch ${like.shape[0]} (shape [${like.shape}])`);
  }
  const c = Float32Array.from({ length: vals.length }, (_, i) => f(vals[i]));
  return tf.tensor(c, [vals.length, ...like.shape.slice(1).map(() => 1)], "float32");
}

function sameShape(a: tf.Tensor, b: tf.Tensor, an: string, bn: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${an} has shape [${a.shape}] but ${bn} has shape [${b.shape}]`);
  }
}

/** a·x + b·y with a, b from ᾱ (float64 math, float32 tensors). */
function lin(alphaBar: AlphaBar, fa: (a: number) => number, x: tf.Tensor, fb: (a: number) => number, y: tf.Tensor) {
  return tf.tidy(() => tf.add(tf.mul(x, coef(alphaBar, fa, x)), tf.mul(y, coef(alphaBar, fb, x))));
}

/** x0 = (x_t − √(1−ᾱ)·ε)/√ᾱ, computed as √(1/ᾱ)·x_t − √(1/ᾱ−1)·ε like the official `_predict_xstart_from_eps`. */
export function x0FromEps(xt: tf.Tensor, eps: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  sameShape(xt, eps, "x_t", "eps");
  return lin(alphaBar, (a) => Math.sqrt(1 / a), xt, (a) => -Math.sqrt(1 / a - 1), eps);
}

/** ε = (√(1/ᾱ)·x_t − x0)/√(1/ᾱ−1) (official `_predict_eps_from_xstart`). */
export function epsFromX0(xt: tf.Tensor, x0: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  sameShape(xt, x0, "x_t", "x0");
  return tf.tidy(() => {
    const num = tf.sub(tf.mul(xt, coef(alphaBar, (a) => Math.sqrt(1 / a), xt)), x0);
    return tf.div(num, coef(alphaBar, (a) => Math.sqrt(1 / a - 1), xt));
  });
}

/** v = √ᾱ·ε − √(1−ᾱ)·x0. */
export function vFromX0Eps(x0: tf.Tensor, eps: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  sameShape(x0, eps, "x0", "eps");
  return lin(alphaBar, (a) => Math.sqrt(a), eps, (a) => -Math.sqrt(1 - a), x0);
}

/** x0 = √ᾱ·x_t − √(1−ᾱ)·v. */
export function x0FromV(xt: tf.Tensor, v: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  sameShape(xt, v, "x_t", "v");
  return lin(alphaBar, (a) => Math.sqrt(a), xt, (a) => -Math.sqrt(1 - a), v);
}

/** ε = √(1−ᾱ)·x_t + √ᾱ·v. */
export function epsFromV(xt: tf.Tensor, v: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  sameShape(xt, v, "x_t", "v");
  return lin(alphaBar, (a) => Math.sqrt(1 - a), xt, (a) => Math.sqrt(a), v);
}

/** v = (√ᾱ·x_t − x0)/√(1−ᾱ) from x_t and x0. */
export function vFromX0(xt: tf.Tensor, x0: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  sameShape(xt, x0, "x_t", "x0");
  return tf.tidy(() => {
    const num = tf.sub(tf.mul(xt, coef(alphaBar, (a) => Math.sqrt(a), xt)), x0);
    return tf.div(num, coef(alphaBar, (a) => Math.sqrt(1 - a), xt));
  });
}

/** The x0 implied by a model output of the given parameterisation. */
export function predictX0(prediction: Prediction, modelOutput: tf.Tensor, xt: tf.Tensor, alphaBar: AlphaBar): tf.Tensor {
  switch (prediction) {
    case "x0":
      sameShape(xt, modelOutput, "x_t", "model output");
      return tf.clone(modelOutput);
    case "eps":
      return x0FromEps(xt, modelOutput, alphaBar);
    case "v":
      return x0FromV(xt, modelOutput, alphaBar);
  }
}

/** Convert a model output from one parameterisation to another at noise level ᾱ. */
export function convertPrediction(
  from: Prediction, to: Prediction, modelOutput: tf.Tensor, xt: tf.Tensor, alphaBar: AlphaBar,
): tf.Tensor {
  checkPrediction(from);
  checkPrediction(to);
  if (from === to) return tf.clone(modelOutput);
  return tf.tidy(() => {
    const x0 = predictX0(from, modelOutput, xt, alphaBar);
    if (to === "x0") return x0;
    const eps = from === "eps" ? modelOutput : epsFromX0(xt, x0, alphaBar);
    return to === "eps" ? tf.clone(eps) : vFromX0Eps(x0, eps, alphaBar);
  });
}

/** ᾱ values for integer timesteps of a schedule (float64). Throws on t outside [0, T). */
export function alphaBarAt(schedule: NoiseSchedule, t: ArrayLike<number> | tf.Tensor1D): Float64Array {
  const ts = t instanceof tf.Tensor ? t.dataSync() : t;
  const out = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) {
    const v = ts[i];
    if (!Number.isInteger(v) || v < 0 || v >= schedule.numTimesteps) {
      throw new RangeError(`timestep ${v} is outside [0, ${schedule.numTimesteps}) of schedule '${schedule.name}'`);
    }
    out[i] = schedule.alphasCumprod[v];
  }
  return out;
}
