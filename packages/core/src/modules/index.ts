// @perfrdiff/core/modules: the PerFRDiff networks with the official parameter names, batch-first tensors.
export { TransformerDenoiser, denoiserParameterShapes, timestepFeatures } from "./denoiser";
export type { ConditionCache, DenoiserConditions, Timesteps } from "./denoiser";
export { DiffusionPrior, priorParameterShapes } from "./prior";
export type { PriorConditions } from "./prior";
export { PersonSpecificEncoder, psslParameterShapes, sinusoidalTable } from "./pssl";
export { EmotionVAE, emotionVaeParameterShapes } from "./emotionVae";
// Re-exported so users need one import for personalisation.
export { EditedWeights, PWSG, TensorMap } from "@perfrdiff/hypernet";
export type { WeightSource } from "@perfrdiff/hypernet";
export { TrainingPass, mix32 } from "./training-pass";
export type { LayerTraining } from "./training-pass";
