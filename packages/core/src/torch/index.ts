// @perfrdiff/core/torch: official `torch.save` checkpoints without Python: a safe unpickler, in-memory and
// file-backed (zip64, lazy storages) readers, and conversion to our weight files.
export { DEFAULT_PICKLE_LIMITS, PickleError, PickleGlobal, PickleObject, describePickleValue, unpickle } from "./pickle";
export type { PickleLimits, UnpickleHooks } from "./pickle";
export { MAX_DEFLATE_RATIO, TorchCheckpointError, extractStateDict, openTorchStateDict, readTorchFile, readTorchStateDict } from "./checkpoint";
export type { LazyTorchTensor, TorchDtype, TorchStateDict, TorchTensor } from "./checkpoint";
export { listZipEntries, openTorchArchive, openTorchCheckpoint, readTorchStateDictFile } from "./file";
export type { TorchCheckpointFile } from "./file";
export type { RandomAccess } from "../io/random-access";
export { convertTorchCheckpoint, convertTorchCheckpointFile } from "./convert";
export type { ConvertedModule } from "./convert";
