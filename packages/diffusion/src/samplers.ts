import * as tf from "@tensorflow/tfjs";
import {
  checkGuidance, classifierFreeGuidance, concatConditions, conditionTensors, nullCondition, type GuidanceOptions,
} from "./guidance";
import { checkPrediction, epsFromX0, predictX0, type Prediction } from "./prediction";
import { SeededRandom } from "./random";
import { inferenceTimesteps, TIMESTEP_SPACINGS, type NoiseSchedule, type TimestepSpacing } from "./schedule";
import type { Denoiser } from "./types";

/**
 * Where the last step lands: `"one"`: on clean data (ᾱ = 1; improved-DDPM respacing, diffusers
 * `set_alpha_to_one=True`); `"first"`: on ᾱ_0 = alphasCumprod[0], i.e. the last step's previous timestep is 0, as in
 * the official PerFRDiff DDIM loop (there the last step, t = 0 → 0, returns its input unchanged).
 */
export type FinalAlpha = "one" | "first";

export interface SamplerOptions {
  /**
   * The training schedule (T steps); inference timesteps are a subset of it. A respaced schedule (from `respace`)
   * works too: its indices are sampled and the denoiser is fed `schedule.timestepMap[index]`.
   */
  schedule: NoiseSchedule;
  /** What the denoiser outputs. Default "eps"; official PerFRDiff "x0". */
  prediction?: Prediction;
  /** Clamp the predicted x0 to [lo, hi] before using it (official: [-1, 1], `clip_denoised=True`). Default none. */
  clip?: readonly [number, number] | null;
  /** Inference timestep spacing (default "leading", the official one). */
  spacing?: TimestepSpacing;
}

/** Arguments of one sampler step. `t`/`tPrev` are original training timesteps; tPrev = −1 means clean data (ᾱ = 1). */
export interface StepInput {
  /** Denoiser output at (x, t), `[batch, ...]` (guidance already applied). */
  modelOutput: tf.Tensor;
  /** Current sample x_t, `[batch, ...]`. */
  x: tf.Tensor;
  t: number;
  tPrev: number;
  /** Standard normal noise `[batch, ...]`, for stochastic steps. */
  noise?: tf.Tensor;
}

/** Result of a step; the caller owns (and disposes) both tensors. */
export interface StepResult {
  /** x_{tPrev}, `[batch, ...]`. */
  prevSample: tf.Tensor;
  /** The (clipped) x0 prediction used, `[batch, ...]`. */
  predX0: tf.Tensor;
}

export interface ProgressInfo {
  /** 0-based step index. */
  step: number;
  totalSteps: number;
  t: number;
  tPrev: number;
  /** Sample after this step (valid only during the callback). */
  x: tf.Tensor;
  /** x0 prediction of this step (valid only during the callback). */
  predX0: tf.Tensor;
}

export interface SampleOptions extends GuidanceOptions {
  /** Number of inference steps (default: the sampler's default, e.g. 50). Must be ≤ T. */
  steps?: number;
  /** Explicit visiting order of timesteps (descending); overrides steps/spacing. */
  timesteps?: ArrayLike<number>;
  /**
   * Seed of the counter-based generator: x_T is SeededRandom(seed, 0).normal(shape), the noise of step i is
   * SeededRandom(seed, i + 1).normal(shape). Default 0.
   */
  seed?: number;
  /** Start from this x_T `[shape]` instead of seeded noise. */
  xT?: tf.Tensor;
  /** Alias of `scale` (guidance scale). */
  guidance?: number;
  /** Called after every step; may return a promise (awaited). */
  onProgress?: (info: ProgressInfo) => void | Promise<void>;
  /**
   * Check after every step that the sample is finite and throw naming the step otherwise (one device read per step;
   * default false).
   */
  checkFinite?: boolean;
}

function checkShape(shape: readonly number[]): number[] {
  if (!Array.isArray(shape) || shape.length < 1 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`sample shape must be a non-empty list of positive integers, got [${shape}]`);
  }
  return [...shape];
}

/** One sampling chain's steps, in order; `dispose` frees what the chain kept between steps. */
export interface Chain {
  step(s: StepInput): StepResult;
  dispose?(): void;
}

/** Shared machinery: timestep plans, x0 extraction, the sampling loop. */
export abstract class Sampler {
  readonly schedule: NoiseSchedule;
  readonly prediction: Prediction;
  readonly clip: readonly [number, number] | null;
  readonly spacing: TimestepSpacing;
  abstract readonly finalAlpha: FinalAlpha;
  /** Default number of inference steps. */
  defaultSteps = 50;

  constructor(o: SamplerOptions) {
    if (!o || !o.schedule) throw new TypeError("sampler options need a schedule (e.g. makeSchedule('cosine', 1000))");
    this.schedule = o.schedule;
    this.prediction = checkPrediction(o.prediction ?? "eps");
    if (o.clip != null && !(o.clip.length === 2 && o.clip[0] < o.clip[1])) {
      throw new RangeError(`clip must be [lo, hi] with lo < hi, got [${o.clip}]`);
    }
    this.clip = o.clip ?? null;
    this.spacing = o.spacing ?? "leading";
    if (!TIMESTEP_SPACINGS.includes(this.spacing)) {
      throw new RangeError(`unknown timestep spacing '${this.spacing}'; expected one of ${TIMESTEP_SPACINGS.join(", ")}`);
    }
  }

  /** Visiting order for `steps` steps (descending original timesteps). */
  timesteps(steps: number = this.defaultSteps): Int32Array {
    return inferenceTimesteps(this.schedule.numTimesteps, steps, this.spacing);
  }

  /** The timestep step i goes to: the next one in the plan, then 0 (finalAlpha "first") or −1 (clean). */
  prevTimestep(plan: ArrayLike<number>, i: number): number {
    return i + 1 < plan.length ? plan[i + 1] : this.finalAlpha === "first" ? 0 : -1;
  }

  /** ᾱ_t, with ᾱ_{−1} = 1. */
  alphaBar(t: number): number {
    if (t === -1) return 1;
    if (!Number.isInteger(t) || t < 0 || t >= this.schedule.numTimesteps) {
      throw new RangeError(`timestep ${t} is outside [0, ${this.schedule.numTimesteps}) (use -1 for clean data)`);
    }
    return this.schedule.alphasCumprod[t];
  }

  protected checkStep(s: StepInput): void {
    if (s.modelOutput.shape.join() !== s.x.shape.join()) {
      throw new RangeError(`model output has shape [${s.modelOutput.shape}] but x has shape [${s.x.shape}]`);
    }
    if (s.noise && s.noise.shape.join() !== s.x.shape.join()) {
      throw new RangeError(`noise has shape [${s.noise.shape}] but x has shape [${s.x.shape}]`);
    }
    if (s.tPrev >= s.t && !(s.t === 0 && s.tPrev === 0)) {
      throw new RangeError(`a step must go down in time: t = ${s.t}, tPrev = ${s.tPrev}`);
    }
  }

  /** x0 implied by the model output at t, clamped if `clip` is set (official `process_xstart`). */
  predX0(modelOutput: tf.Tensor, x: tf.Tensor, t: number): tf.Tensor {
    return tf.tidy(() => {
      const x0 = predictX0(this.prediction, modelOutput, x, this.alphaBar(t));
      return this.clip ? tf.clipByValue(x0, this.clip[0], this.clip[1]) : x0;
    });
  }

  /** Whether step i (t → tPrev) consumes noise. */
  protected abstract needsNoise(t: number, tPrev: number, o: SampleOptions): boolean;

  /**
   * The steps of one sampling chain: a fresh {@link Chain} per `sample` call, holding what a multistep sampler
   * carries from step to step.
   */
  protected abstract startChain(o: SampleOptions): Chain;

  /**
   * Draw samples of `shape` = `[batch, ...]` from x_T ~ N(0, I) (seeded) by calling `denoiser` once per step (on a
   * doubled batch when guidance ≠ 1). Returns the final sample `[batch, ...]` (caller disposes).
   */
  async sample(denoiser: Denoiser, shape: readonly number[], options: SampleOptions = {}): Promise<tf.Tensor> {
    const shp = checkShape(shape);
    const rng = new SeededRandom(options.seed ?? 0, 0);
    const scale = checkGuidance({ ...options, scale: options.guidance ?? options.scale ?? 1 });
    const plan = options.timesteps ? Int32Array.from(options.timesteps) : this.timesteps(options.steps ?? this.defaultSteps);
    for (let i = 0; i < plan.length; i++) {
      this.alphaBar(plan[i]);
      if (i > 0 && plan[i] >= plan[i - 1]) throw new RangeError(`timesteps must be strictly descending, got ${Array.from(plan)}`);
    }
    if (options.xT && options.xT.shape.join() !== shp.join()) throw new RangeError(`xT has shape [${options.xT.shape}] but shape is [${shp}]`);
    // Batch [uncond; cond] once for all steps (the condition does not change along the chain).
    let batched: unknown;
    const owned: tf.Tensor[] = [];
    if (scale !== 1) {
      let uncond = options.uncond;
      if (uncond === undefined) {
        uncond = nullCondition(options.cond);
        owned.push(...conditionTensors(uncond));
      }
      try {
        batched = options.batchConditions ? options.batchConditions(uncond, options.cond) : concatConditions(uncond, options.cond);
      } catch (e) {
        tf.dispose(owned);
        throw e;
      }
      if (!options.batchConditions) owned.push(...conditionTensors(batched));
    }
    // (uncond: null so that classifierFreeGuidance builds no null condition of its own each step)
    const guidance: GuidanceOptions = { scale, cond: options.cond, uncond: null, batchConditions: () => batched };
    let x: tf.Tensor = options.xT ? tf.clone(options.xT) : rng.normal(shp);
    const chain = this.startChain(options);
    const batch = shp[0];
    try {
      for (let i = 0; i < plan.length; i++) {
        const t = plan[i];
        const tPrev = this.prevTimestep(plan, i);
        const res = tf.tidy(() => {
          // A respaced schedule (see respace) feeds the model the original training timestep, as SpacedDiffusion.
          const tt = tf.fill([batch], this.schedule.timestepMap[t], "int32") as tf.Tensor1D;
          const modelOutput = classifierFreeGuidance(denoiser, x, tt, guidance);
          const noise = this.needsNoise(t, tPrev, options) ? rng.fork(i + 1).normal(shp) : undefined;
          const r = chain.step({ modelOutput, x, t, tPrev, noise });
          return { prevSample: r.prevSample, predX0: r.predX0 };
        });
        x.dispose();
        x = res.prevSample;
        if (options.checkFinite) {
          const flag = tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(res.prevSample))));
          const bad = (await flag.data())[0]; // asynchronous: WebGPU in Node cannot read back synchronously
          flag.dispose();
          if (bad) {
            res.predX0.dispose();
            throw new RangeError(`step ${i} (t ${t} -> ${tPrev}) produced NaN or Infinity; check the denoiser output`);
          }
        }
        try {
          if (options.onProgress) await options.onProgress({ step: i, totalSteps: plan.length, t, tPrev, x, predX0: res.predX0 });
        } finally {
          res.predX0.dispose();
        }
      }
    } catch (e) {
      x.dispose();
      throw e;
    } finally {
      chain.dispose?.();
      tf.dispose(owned);
    }
    return x;
  }
}

/** DDPM ancestral-sampler variance: β'_t (fixed-large, official default) or the posterior variance (fixed-small). */
export type VarianceType = "fixed_large" | "fixed_small";

export interface DDPMOptions extends SamplerOptions {
  variance?: VarianceType;
}

/**
 * DDPM ancestral sampling (Ho et al. 2020), official `p_sample`, on the full schedule or any subset of timesteps with
 * improved-DDPM respacing: a step t → tPrev uses β' = 1 − ᾱ_t/ᾱ_tPrev and the posterior q(x_tPrev | x_t, x0):
 *   mean = β'√ᾱ_tPrev/(1−ᾱ_t)·x0 + (1−ᾱ_tPrev)√(1−β')/(1−ᾱ_t)·x_t,
 *   x_tPrev = mean + σ·z,  σ² = β' (fixed-large) or β'(1−ᾱ_tPrev)/(1−ᾱ_t) (fixed-small); no noise on the last step.
 * With tPrev = t − 1 this is exactly the official 1000-step `p_sample`; with a subset it equals `p_sample` of
 * `respace(schedule, timesteps)`. Always ends on clean data.
 */
export class DDPMSampler extends Sampler {
  readonly finalAlpha: FinalAlpha = "one";
  readonly variance: VarianceType;

  constructor(o: DDPMOptions) {
    super(o);
    this.variance = o.variance ?? "fixed_large";
    if (this.variance !== "fixed_large" && this.variance !== "fixed_small") {
      throw new RangeError(`unknown DDPM variance '${this.variance as string}'; expected fixed_large or fixed_small`);
    }
  }

  /** Float64 coefficients of the step t → tPrev: [posterior mean coef on x0, on x_t, noise std]. */
  coefficients(t: number, tPrev: number): { c1: number; c2: number; std: number } {
    const abT = this.alphaBar(t);
    const abP = this.alphaBar(tPrev);
    const beta = 1 - abT / abP;
    const alpha = 1 - beta;
    const c1 = (beta * Math.sqrt(abP)) / (1 - abT);
    const c2 = ((1 - abP) * Math.sqrt(alpha)) / (1 - abT);
    const variance = this.variance === "fixed_large" ? beta : (beta * (1 - abP)) / (1 - abT);
    return { c1, c2, std: tPrev === -1 ? 0 : Math.sqrt(variance) };
  }

  /** One ancestral step t → tPrev. `noise` is required unless tPrev = −1 (the last step). */
  step(s: StepInput): StepResult {
    this.checkStep(s);
    if (s.tPrev === 0 && s.t === 0) throw new RangeError("DDPM: t = 0 can only step to clean data (tPrev = -1)");
    const { c1, c2, std } = this.coefficients(s.t, s.tPrev);
    if (std > 0 && !s.noise) throw new RangeError(`DDPM step ${s.t} -> ${s.tPrev} needs noise`);
    const predX0 = this.predX0(s.modelOutput, s.x, s.t);
    const prevSample = tf.tidy(() => {
      const mean = tf.add(tf.mul(predX0, c1), tf.mul(s.x, c2));
      return std > 0 ? tf.add(mean, tf.mul(s.noise!, std)) : mean;
    });
    return { prevSample, predX0 };
  }

  protected needsNoise(_t: number, tPrev: number): boolean {
    return tPrev !== -1;
  }
  protected startChain(): Chain {
    return { step: (s) => this.step(s) };
  }
}

export interface DDIMOptions extends SamplerOptions {
  /** η: 0 = deterministic DDIM (official), 1 = DDPM-like. Can be overridden per call. */
  eta?: number;
  finalAlpha?: FinalAlpha;
}

/**
 * DDIM (Song et al. 2021), official `ddim_sample` with an explicit previous timestep:
 *   ε = (√(1/ᾱ_t)·x_t − x0)/√(1/ᾱ_t − 1)  (re-derived from the clipped x0),
 *   σ = η·√((1−ᾱ_prev)/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev),
 *   x_prev = √ᾱ_prev·x0 + √(1 − ᾱ_prev − σ²)·ε + [t ≠ 0]·σ·z.
 */
export class DDIMSampler extends Sampler {
  readonly finalAlpha: FinalAlpha;
  readonly eta: number;

  constructor(o: DDIMOptions) {
    super(o);
    this.eta = o.eta ?? 0;
    if (!(this.eta >= 0)) throw new RangeError(`DDIM eta must be >= 0, got ${this.eta}`);
    this.finalAlpha = o.finalAlpha ?? "one";
    if (this.finalAlpha !== "one" && this.finalAlpha !== "first") {
      throw new RangeError(`finalAlpha must be 'one' or 'first', got '${this.finalAlpha as string}'`);
    }
  }

  sigma(t: number, tPrev: number, eta = this.eta): number {
    const abT = this.alphaBar(t);
    const abP = this.alphaBar(tPrev);
    return eta * Math.sqrt((1 - abP) / (1 - abT)) * Math.sqrt(1 - abT / abP);
  }

  /** One DDIM step t → tPrev (tPrev = −1: clean). `noise` is required when σ > 0 and t ≠ 0. */
  step(s: StepInput & { eta?: number }): StepResult {
    this.checkStep(s);
    const eta = s.eta ?? this.eta;
    const abT = this.alphaBar(s.t);
    const abP = this.alphaBar(s.tPrev);
    const sigma = this.sigma(s.t, s.tPrev, eta);
    const noisy = sigma > 0 && s.t !== 0;
    if (noisy && !s.noise) throw new RangeError(`DDIM step ${s.t} -> ${s.tPrev} with eta ${eta} needs noise`);
    const predX0 = this.predX0(s.modelOutput, s.x, s.t);
    const prevSample = tf.tidy(() => {
      const eps = epsFromX0(s.x, predX0, abT);
      const mean = tf.add(tf.mul(predX0, Math.sqrt(abP)), tf.mul(eps, Math.sqrt(1 - abP - sigma * sigma)));
      return noisy ? tf.add(mean, tf.mul(s.noise!, sigma)) : mean;
    });
    return { prevSample, predX0 };
  }

  protected needsNoise(t: number, tPrev: number, o: SampleOptions & { eta?: number }): boolean {
    return t !== 0 && this.sigma(t, tPrev, o.eta ?? this.eta) > 0;
  }
  protected startChain(o: SampleOptions & { eta?: number }): Chain {
    const eta = o.eta ?? this.eta;
    return { step: (s) => this.step({ ...s, eta }) };
  }

  /** As {@link Sampler.sample}, plus `eta` per call. */
  override async sample(denoiser: Denoiser, shape: readonly number[], o: SampleOptions & { eta?: number } = {}): Promise<tf.Tensor> {
    if (o.eta !== undefined && !(o.eta >= 0)) throw new RangeError(`DDIM eta must be >= 0, got ${o.eta}`);
    return super.sample(denoiser, shape, o);
  }
}

export interface DPMSolverOptions extends SamplerOptions {
  finalAlpha?: FinalAlpha;
}

/**
 * DPM-Solver++(2M) (Lu et al. 2022, multistep, data prediction, midpoint variant as in diffusers'
 * `DPMSolverMultistepScheduler` with `algorithm_type="dpmsolver++"`, `solver_order=2`). With α = √ᾱ, σ = √(1−ᾱ),
 * λ = log α − log σ, h = λ_tPrev − λ_t and D0 = x0 at t:
 *   first order (first step, and the last step when it lands on clean data):  x = (σ_prev/σ_t)·x_t − α_prev(e^{−h}−1)·D0
 *   second order (with x0' from the previous step at t', r = (λ_t − λ_t')/h, D1 = (D0 − x0')/r):
 *       x = (σ_prev/σ_t)·x_t − α_prev(e^{−h}−1)·D0 − ½·α_prev(e^{−h}−1)·D1.
 * Deterministic; 10–20 steps are typically enough.
 */
export class DPMSolverPP2MSampler extends Sampler {
  readonly finalAlpha: FinalAlpha;

  constructor(o: DPMSolverOptions) {
    super(o);
    this.defaultSteps = 20;
    this.finalAlpha = o.finalAlpha ?? "one";
    if (this.finalAlpha !== "one" && this.finalAlpha !== "first") {
      throw new RangeError(`finalAlpha must be 'one' or 'first', got '${this.finalAlpha as string}'`);
    }
  }

  private lambda(t: number): number {
    const ab = this.alphaBar(t);
    return 0.5 * Math.log(ab) - 0.5 * Math.log(1 - ab);
  }

  /**
   * One step t → tPrev. `prev` = the x0 prediction of the previous step and its timestep; without it (first step),
   * or when tPrev = −1, the step is first order.
   */
  step(s: StepInput & { prev?: { predX0: tf.Tensor; t: number } }): StepResult {
    this.checkStep(s);
    if (s.t === s.tPrev) {
      // Only 0 -> 0 passes checkStep (finalAlpha "first" with a plan ending at 0): h = 0, the step is the identity,
      // as the official DDIM loop's last step.
      return { prevSample: tf.clone(s.x), predX0: this.predX0(s.modelOutput, s.x, s.t) };
    }
    const abT = this.alphaBar(s.t);
    const abP = this.alphaBar(s.tPrev);
    const sigT = Math.sqrt(1 - abT);
    const sigP = Math.sqrt(1 - abP);
    const alphaP = Math.sqrt(abP);
    const lamT = this.lambda(s.t);
    const lamP = s.tPrev === -1 ? Infinity : this.lambda(s.tPrev);
    const h = lamP - lamT;
    const em1 = Math.exp(-h) - 1; // e^{-h} − 1 (−1 when landing on clean data)
    const predX0 = this.predX0(s.modelOutput, s.x, s.t);
    const prevSample = tf.tidy(() => {
      let out = tf.sub(tf.mul(s.x, sigP / sigT), tf.mul(predX0, alphaP * em1));
      if (s.prev && s.tPrev !== -1) {
        if (s.prev.t <= s.t) throw new RangeError(`previous step timestep ${s.prev.t} must be above t = ${s.t}`);
        const r = (lamT - this.lambda(s.prev.t)) / h;
        const d1 = tf.div(tf.sub(predX0, s.prev.predX0), r);
        out = tf.sub(out, tf.mul(d1, 0.5 * alphaP * em1));
      }
      return out;
    });
    return { prevSample, predX0 };
  }

  protected needsNoise(): boolean {
    return false;
  }
  /** The multistep chain: each step keeps its x0 prediction for the next one's second-order term. */
  protected startChain(): Chain {
    let prev: { predX0: tf.Tensor; t: number } | undefined;
    return {
      step: (s) => {
        const r = this.step({ ...s, prev });
        prev?.predX0.dispose();
        // Keep a copy for the next step (the loop disposes r.predX0 after onProgress).
        prev = { predX0: tf.keep(tf.clone(r.predX0)), t: s.t };
        return r;
      },
      dispose: () => prev?.predX0.dispose(),
    };
  }
}
