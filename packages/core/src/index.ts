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
export { SafetensorsError, parseSafetensors, serializeSafetensors } from "./safetensors";
export type { SafeDtype, SafeTensor } from "./safetensors";
