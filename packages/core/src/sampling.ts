/**
 * The samplers of a configuration: @perfrdiff/diffusion's PerFRDiff samplers with a scheduler block's schedule,
 * prediction, spacing and variance, and its number of inference steps as the default (DPM-Solver++ keeps its own,
 * 20: the configured 50 are the DDIM loop's).
 */
import { makeSchedule, perfrdiffSampler } from "@perfrdiff/diffusion";
import type { Sampler, SamplerName } from "@perfrdiff/diffusion";
import { SCHEDULER_PREDICTIONS } from "./config";
import type { SchedulerConfig } from "./config";

export function samplerFromConfig(scheduler: SchedulerConfig, name: SamplerName): Sampler {
  const sampler = perfrdiffSampler(name, {
    schedule: makeSchedule(scheduler.noise_schedule, scheduler.num_train_timesteps),
    prediction: SCHEDULER_PREDICTIONS[scheduler.predict],
    spacing: scheduler.timestep_spacing,
    variance: scheduler.var_type,
  });
  if (name !== "dpm-solver++") sampler.defaultSteps = scheduler.num_inference_timesteps;
  return sampler;
}
