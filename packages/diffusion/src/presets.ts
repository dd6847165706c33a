import type { Prediction } from "./prediction";
import { DDIMSampler, DDPMSampler, DPMSolverPP2MSampler, type FinalAlpha, type SampleOptions, type Sampler, type VarianceType } from "./samplers";
import { makeSchedule, type NoiseSchedule, type ScheduleName, type TimestepSpacing } from "./schedule";
import type { Denoiser } from "./types";
import type * as tf from "@tensorflow/tfjs";

/**
 * The official PerFRDiff diffusion configuration (`configs/diffusion_model.yaml`, both the prior and the decoder
 * `scheduler` blocks, and how `model/diffusion/gaussian_diffusion.py` + `matchers.py` use them):
 * - cosine schedule, 1000 training steps, uniform training timesteps, MSE on x0 (`predict: start_x`);
 * - sampling: the DDIM loop (η = 0) over 50 `leading` timesteps 980, 960, …, 20, 0, each step's previous timestep
 *   being the next one and the last step's being 0 (so the final step 0 → 0 is the identity and the output is the
 *   sample reached at t = 0, not the last x0 prediction); predicted x0 clamped to [−1, 1] (`clip_denoised=True`);
 * - classifier-free guidance 7.5 in one batched pass [null; cond] with zeros as the null condition; condition dropout
 *   0.2 per speaker condition (audio, 3DMM, emotion latent) during training;
 * - `var_type: fixed_large` (only used by the ancestral DDPM sampler; the official DDIM loop has η = 0).
 */
export const PERFRDIFF_OFFICIAL = Object.freeze({
  schedule: "cosine" as ScheduleName,
  numTrainTimesteps: 1000,
  inferenceSteps: 50,
  spacing: "leading" as TimestepSpacing,
  prediction: "x0" as Prediction,
  variance: "fixed_large" as VarianceType,
  clip: Object.freeze([-1, 1] as const),
  eta: 0,
  finalAlpha: "first" as FinalAlpha,
  guidanceScale: 7.5,
  condDropProb: 0.2,
  /** Reactions sampled per speaker clip (K); the samplers take any batch. */
  k: 10,
});

/** Cosine, 1000 steps. */
export function officialSchedule(): NoiseSchedule {
  return makeSchedule(PERFRDIFF_OFFICIAL.schedule, PERFRDIFF_OFFICIAL.numTrainTimesteps);
}

/** The samplers PerFRDiff models run with: the official DDIM loop, ancestral DDPM, and DPM-Solver++(2M). */
export type SamplerName = "ddim" | "ddpm" | "dpm-solver++";
export const SAMPLER_NAMES: readonly SamplerName[] = ["ddim", "ddpm", "dpm-solver++"];

/** What a model configuration may set for its samplers (core passes a configuration's scheduler block). */
export interface PerfrdiffSamplerOptions {
  schedule?: NoiseSchedule;
  prediction?: Prediction;
  spacing?: TimestepSpacing;
  /** DDPM only. */
  variance?: VarianceType;
}

/**
 * A sampler with the official settings for what the options leave out: DDIM as the official loop (η = 0, last step to
 * timestep 0), DDPM with the official variance, DPM-Solver++(2M) ending on clean data (its own default of 20 steps);
 * all with the official x0 clipping to [−1, 1].
 */
export function perfrdiffSampler(name: SamplerName, o: PerfrdiffSamplerOptions = {}): Sampler {
  const p = PERFRDIFF_OFFICIAL;
  const base = { schedule: o.schedule ?? officialSchedule(), prediction: o.prediction ?? p.prediction, clip: [p.clip[0], p.clip[1]] as const, spacing: o.spacing ?? p.spacing };
  switch (name) {
    case "ddim":
      return new DDIMSampler({ ...base, eta: p.eta, finalAlpha: p.finalAlpha });
    case "ddpm":
      return new DDPMSampler({ ...base, variance: o.variance ?? p.variance });
    case "dpm-solver++":
      return new DPMSolverPP2MSampler(base);
    default:
      throw new RangeError(`unknown sampler '${String(name)}'; expected one of ${SAMPLER_NAMES.join(", ")}`);
  }
}

/** The official sampler: DDIM η = 0, leading spacing, x0 prediction, clip [−1, 1], last step to timestep 0. */
export function officialSampler(schedule: NoiseSchedule = officialSchedule()): DDIMSampler {
  return perfrdiffSampler("ddim", { schedule }) as DDIMSampler;
}

/** Ancestral DDPM with the official schedule, prediction, clipping and fixed-large variance. */
export function officialDDPMSampler(schedule: NoiseSchedule = officialSchedule()): DDPMSampler {
  return perfrdiffSampler("ddpm", { schedule }) as DDPMSampler;
}

/**
 * Sample like the official model: 50 DDIM steps with guidance 7.5 (one doubled-batch denoiser call per step).
 * @param shape `[batch, ...]`, e.g. `[B·K, 50, 25]` for the decoder's emotion windows.
 */
export function officialSample(
  denoiser: Denoiser, shape: readonly number[], o: SampleOptions & { cond: unknown },
): Promise<tf.Tensor> {
  return officialSampler().sample(denoiser, shape, {
    steps: PERFRDIFF_OFFICIAL.inferenceSteps, guidance: PERFRDIFF_OFFICIAL.guidanceScale, ...o,
  });
}
