// Public API of @perfrdiff/diffusion.
export type { Denoiser } from "./types";
export {
  SCHEDULE_NAMES, TIMESTEP_SPACINGS, betasForAlphaBar, cosineBetas, cosineSchedule, inferenceTimesteps, linearBetas,
  linearSchedule, linspace, makeSchedule, respace, roundHalfEven, scaledLinearBetas, scaledLinearSchedule,
  scheduleFromBetas, spaceTimesteps,
} from "./schedule";
export type { NoiseSchedule, ScheduleName, TimestepSpacing } from "./schedule";
export { SeededRandom, philox4x32 } from "./random";
export {
  PREDICTIONS, alphaBarAt, checkPrediction, convertPrediction, epsFromV, epsFromX0, predictX0, vFromX0, vFromX0Eps,
  x0FromEps, x0FromV,
} from "./prediction";
export type { AlphaBar, Prediction } from "./prediction";
export { diffusionLoss, qSample, sampleTimesteps, trainingTarget } from "./forward";
export type { DiffusionLossOptions, Timesteps } from "./forward";
export {
  applyConditionDropout, checkGuidance, classifierFreeGuidance, concatConditions, conditionDropoutMask,
  conditionTensors, guidedDenoiser, nullCondition,
} from "./guidance";
export type { Condition, GuidanceOptions } from "./guidance";
export { DDIMSampler, DDPMSampler, DPMSolverPP2MSampler, Sampler } from "./samplers";
export type {
  Chain, DDIMOptions, DDPMOptions, DPMSolverOptions, FinalAlpha, ProgressInfo, SampleOptions, SamplerOptions, StepInput,
  StepResult, VarianceType,
} from "./samplers";
export {
  PERFRDIFF_OFFICIAL, SAMPLER_NAMES, officialDDPMSampler, officialSample, officialSampler, officialSchedule, perfrdiffSampler,
} from "./presets";
export type { PerfrdiffSamplerOptions, SamplerName } from "./presets";
