import * as tf from "@tensorflow/tfjs";
import { alphaBarAt, checkPrediction, vFromX0Eps, type Prediction } from "./prediction";
import type { SeededRandom } from "./random";
import type { NoiseSchedule } from "./schedule";
import type { Denoiser } from "./types";

/** Timesteps given as a `[batch]` int tensor or array. */
export type Timesteps = ArrayLike<number> | tf.Tensor1D;

function toInt32(t: Timesteps): Int32Array {
  return Int32Array.from(t instanceof tf.Tensor ? t.dataSync() : t);
}

function perExample(values: Float64Array, f: (a: number) => number, x: tf.Tensor): tf.Tensor {
  if (values.length !== x.shape[0]) {
    throw new RangeError(`got ${values.length} timesteps for x of shape [${x.shape}] (batch ${x.shape[0]})`);
  }
  return tf.tensor(Float32Array.from(values, f), [values.length, ...x.shape.slice(1).map(() => 1)], "float32");
}

/**
 * Forward process q(x_t | x0): √ᾱ_t·x0 + √(1−ᾱ_t)·ε (official `q_sample`).
 * @param x0 `[batch, ...]` clean data.
 * @param t `[batch]` integer timesteps in [0, T).
 * @param noise `[batch, ...]` standard normal noise, same shape as x0.
 */
export function qSample(schedule: NoiseSchedule, x0: tf.Tensor, t: Timesteps, noise: tf.Tensor): tf.Tensor {
  if (x0.shape.join() !== noise.shape.join()) {
    throw new RangeError(`qSample: x0 has shape [${x0.shape}] but noise has shape [${noise.shape}]`);
  }
  const ab = alphaBarAt(schedule, toInt32(t));
  return tf.tidy(() =>
    tf.add(tf.mul(x0, perExample(ab, Math.sqrt, x0)), tf.mul(noise, perExample(ab, (a) => Math.sqrt(1 - a), x0))),
  );
}

/**
 * What a model of the given parameterisation should output for (x0, ε, t): x0, ε, or v = √ᾱ·ε − √(1−ᾱ)·x0.
 * Shapes as {@link qSample}.
 */
export function trainingTarget(
  prediction: Prediction, schedule: NoiseSchedule, x0: tf.Tensor, noise: tf.Tensor, t: Timesteps,
): tf.Tensor {
  checkPrediction(prediction);
  if (prediction === "x0") return tf.clone(x0);
  if (prediction === "eps") return tf.clone(noise);
  return vFromX0Eps(x0, noise, alphaBarAt(schedule, toInt32(t)));
}

/** `n` training timesteps uniform in [0, T) (the official `UniformSampler`, all weights 1). */
export function sampleTimesteps(n: number, T: number, rng: SeededRandom): Int32Array {
  return rng.integers(n, T);
}

export interface DiffusionLossOptions {
  schedule: NoiseSchedule;
  prediction: Prediction;
  /** `[batch, ...]` clean data. */
  x0: tf.Tensor;
  /** `[batch]` timesteps. */
  t: Timesteps;
  /** `[batch, ...]` standard normal noise. */
  noise: tf.Tensor;
  /** Passed to the denoiser unchanged (apply {@link applyConditionDropout} first for CFG training). */
  cond?: unknown;
  /** `"mse"` (official) or `"l1"`; averaged over every element. */
  loss?: "mse" | "l1";
}

/**
 * One training loss: x_t = qSample(x0, t, ε), out = denoiser(x_t, t, cond), mean((out − target)²).
 * Differentiable w.r.t. the denoiser's variables (use inside `optimizer.minimize`). Returns a scalar.
 */
export function diffusionLoss(denoiser: Denoiser, o: DiffusionLossOptions): tf.Scalar {
  const ts = toInt32(o.t);
  return tf.tidy(() => {
    const xt = qSample(o.schedule, o.x0, ts, o.noise);
    const out = denoiser(xt, tf.tensor1d(ts, "int32"), o.cond);
    if (out.shape.join() !== o.x0.shape.join()) {
      throw new RangeError(`denoiser returned shape [${out.shape}] for x_t of shape [${o.x0.shape}]`);
    }
    const target = trainingTarget(o.prediction, o.schedule, o.x0, o.noise, ts);
    const d = tf.sub(out, target);
    return (o.loss ?? "mse") === "l1" ? tf.mean(tf.abs(d)) : tf.mean(tf.square(d));
  }) as tf.Scalar;
}
