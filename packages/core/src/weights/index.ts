// @perfrdiff/core/weights: module names and shapes, official paths, our weight files (safetensors), random weights.
export {
  MODULE_NAMES,
  WeightMismatchError,
  checkStateDict,
  closestModule,
  detectModule,
  hypernetTargets,
  moduleParameterShapes,
  officialCheckpointPath,
  pwsgConfig,
  requiredModules,
  toTensorMap,
} from "./modules";
export type { ModuleName } from "./modules";
export { loadWeightFile, loadWeightFileFromPath, saveWeightFile, weightFileMetadata } from "./files";
export { loadModel, loadModelConfig, loadModuleWeights } from "./loader";
export type { CheckpointSource, LoadModelOptions, LoadedModel, ModuleWeights } from "./loader";
export {
  SafetensorsError,
  decodeSafetensor,
  parseSafetensors,
  parseSafetensorsHeader,
  safetensorsF32Header,
  safetensorsHeaderLength,
  serializeSafetensors,
} from "./safetensors";
export type { SafeDtype, SafeTensor, SafetensorsEntry, SafetensorsHeader } from "./safetensors";
export { randomWeights } from "./random";
export { DEFAULT_CHECKPOINT, defaultCheckpoint, isDefaultCheckpoint } from "./default-model";
