/**
 * @perfrdiff/core: PerFRDiff in tfjs. The front door is generation: load a model, (personalise,) generate K
 * reactions. The rest sits behind sub-paths: `@perfrdiff/core/modules` (the networks), `/weights` (names, shapes,
 * weight files), `/torch` (official checkpoints), `/training` (AdamW), `/ops` and `/kernels` (backend-neutral ops,
 * core's kernels), `/complexity` (parameters and FLOPs).
 */
export { createReactionGenerator } from "./generator";
export type {
  GenerateOptions,
  GeneratedReactions,
  GenerationProgress,
  GenerationSettings,
  ReactionGenerator,
  ReactionGeneratorOptions,
  SpeakerClip,
} from "./generator";
export { SAMPLER_NAMES } from "@perfrdiff/diffusion";
export type { SamplerName } from "@perfrdiff/diffusion";
export { samplerFromConfig } from "./sampling";
export { loadModel, loadModelConfig } from "./weights/loader";
export { DEFAULT_CHECKPOINT, defaultCheckpoint, isDefaultCheckpoint } from "./weights/default-model";
export type { CheckpointSource, LoadModelOptions, LoadedModel, ModuleWeights } from "./weights/loader";
export { MODULE_NAMES, requiredModules } from "./weights/modules";
export type { ModuleName } from "./weights/modules";
export { ConfigError, OFFICIAL_MODEL_YAML, PRESETS, SMALL_MODEL_YAML, configFromObject, loadConfig, officialConfig, parseConfig, presetConfig } from "./config";
export type {
  DenoiserConfig,
  DiffusionPriorConfig,
  LatentEmbedderConfig,
  EmbedderTraining,
  GafrgTraining,
  MainModelConfig,
  PerFRDiffConfig,
  PersonSpecificConfig,
  PresetName,
  PsslTraining,
  PwsgTraining,
  SchedulerConfig,
  TrainingConfig,
} from "./config";
export { BACKEND_NAMES, useBackend } from "./backend";
export type { BackendName, BackendOptions } from "./backend";
/** The tfjs instance core uses: build input tensors with it so backends and tensors are shared. */
export * as tf from "@tensorflow/tfjs";
