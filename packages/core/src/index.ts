export { ConfigError, configFromObject, loadConfig, parseConfig } from "./config";
export type {
  DenoiserConfig,
  DiffusionPriorConfig,
  LatentEmbedderConfig,
  MainModelConfig,
  PerFRDiffConfig,
  PersonSpecificConfig,
  SchedulerConfig,
} from "./config";
export { PickleError, PickleGlobal, PickleObject, unpickle } from "./torch/pickle";
export { TorchCheckpointError, extractStateDict, readTorchFile, readTorchStateDict } from "./torch/checkpoint";
export type { TorchDtype, TorchTensor } from "./torch/checkpoint";
export { SafetensorsError, parseSafetensors, safetensorsF32Header, serializeSafetensors } from "./safetensors";
export type { SafeDtype, SafeTensor } from "./safetensors";
export { TransformerDenoiser, denoiserParameterShapes, timestepFeatures } from "./modules/denoiser";
export type { ConditionCache, Timesteps } from "./modules/denoiser";
export type { DenoiserConditions } from "./modules/denoiser";
export { DiffusionPrior, priorParameterShapes } from "./modules/prior";
export type { PriorConditions } from "./modules/prior";
export { PersonSpecificEncoder, psslParameterShapes, sinusoidalTable } from "./modules/pssl";
export { EmotionVAE, emotionVaeParameterShapes } from "./modules/emotionVae";
export {
  MODULE_NAMES,
  WeightMismatchError,
  checkStateDict,
  detectModule,
  hypernetTargets,
  moduleParameterShapes,
  officialCheckpointPath,
  pwsgConfig,
  toTensorMap,
} from "./checkpoints";
export type { ModuleName } from "./checkpoints";
// Re-exported so users need one import for personalisation.
export { EditedWeights, PWSG, TensorMap } from "@perfrdiff/hypernet";
export type { WeightSource } from "@perfrdiff/hypernet";
export { convertTorchCheckpoint, convertTorchCheckpointFile, loadWeightFile, loadWeightFileFromPath, saveWeightFile } from "./convert";
export type { ConvertedModule } from "./convert";
export { complexity, denoiserWindowFlops, priorWindowFlops } from "./complexity";
export type { ComplexityOptions, ComplexityRow } from "./complexity";
export { OFFICIAL_MODEL_YAML, officialConfig } from "./config";
export { useBackend } from "./backend";
export type { BackendName, BackendOptions } from "./backend";
/** The tfjs instance core uses: build input tensors with it so backends and tensors are shared. */
export * as tf from "@tensorflow/tfjs";
export { ReactionGenerator, createReactionGenerator } from "./generator";
export type { GenerateOptions, GeneratedReactions, GenerationProgress, ModuleWeights, ReactionGeneratorOptions, SamplerName, SpeakerClip } from "./generator";
export { randomWeights } from "./random-weights";
export { clearTransposeCache, withoutWeightCache } from "./modules/nn";
export type { AttentionMemory, KeyValueHeads, PackedKeyValues } from "./modules/nn";
export { setFusedKernels } from "./modules/fused";
export { listZipEntries, openTorchArchive, openTorchCheckpoint, readTorchStateDictFile } from "./torch/file";
export type { RandomAccess, TorchCheckpointFile } from "./torch/file";
export type { LazyTorchTensor } from "./torch/checkpoint";
export { AdamW, AdamWError } from "./adamw";
export type { AdamWOptions } from "./adamw";
