/**
 * Our weight files: one safetensors file per module (official parameter names, float32) whose metadata names the
 * module, so loading checks it against the configuration it is used with.
 */
import type { TensorMap } from "@perfrdiff/hypernet";
import type { PerFRDiffConfig } from "../config";
import { openFileAccess } from "../io/random-access";
import { moduleParameterShapes, toTensorMap } from "./modules";
import type { ModuleName } from "./modules";
import {
  SafetensorsError,
  decodeSafetensor,
  parseSafetensors,
  parseSafetensorsHeader,
  safetensorsHeaderLength,
  serializeSafetensors,
} from "./safetensors";
import type { SafeTensor } from "./safetensors";

/** The metadata our files carry: `format: perfrdiff`, the module, and where it came from. */
export function weightFileMetadata(module: ModuleName, source?: string): Record<string, string> {
  return source === undefined ? { format: "perfrdiff", module } : { format: "perfrdiff", module, source };
}

function checkModule(metadata: Record<string, string>, module: ModuleName, what: string): void {
  if (metadata.module && metadata.module !== module) throw new Error(`${what} holds the ${metadata.module} module, not ${module}`);
}

/** Loads one of our weight files for `module` from bytes, checking names and shapes against the configuration. */
export function loadWeightFile(cfg: PerFRDiffConfig, module: ModuleName, bytes: Uint8Array, what = `${module} weights`): TensorMap {
  const { tensors, metadata } = parseSafetensors(bytes);
  checkModule(metadata, module, what);
  return toTensorMap(tensors, moduleParameterShapes(cfg, module), what);
}

/**
 * Loads one of our weight files from disk (Node) tensor by tensor, so files above Node's 2 GiB readFile limit
 * (the full-rank PWSG: 6.5 GB) load; names and shapes are checked against the configuration.
 */
export async function loadWeightFileFromPath(cfg: PerFRDiffConfig, module: ModuleName, path: string): Promise<TensorMap> {
  const file = await openFileAccess(path, (m) => new SafetensorsError(m));
  try {
    const where = (err: unknown) => new SafetensorsError(`${path}: ${(err as Error).message}`);
    let header;
    try {
      const hlen = safetensorsHeaderLength(await file.read(0, Math.min(8, file.size)), file.size);
      header = parseSafetensorsHeader(await file.read(8, hlen), file.size);
    } catch (err) {
      throw where(err);
    }
    checkModule(header.metadata, module, path);
    const state = new Map<string, SafeTensor>();
    for (const e of header.entries) {
      if (e.dtype !== "F32") throw new SafetensorsError(`${path}: '${e.name}' is ${e.dtype}; weight files hold F32`);
      state.set(e.name, decodeSafetensor(e, await file.read(header.dataStart + e.begin, e.end - e.begin), true));
    }
    return toTensorMap(state, moduleParameterShapes(cfg, module), path);
  } finally {
    await file.close?.();
  }
}

/** Serialises a module's live weights (e.g. after training) into our format (async: reads back from any backend). */
export async function saveWeightFile(module: ModuleName, weights: TensorMap): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of weights.tensors) tensors.set(name, { dtype: "F32", shape: t.shape, data: (await t.data()) as Float32Array });
  return serializeSafetensors(tensors, weightFileMetadata(module));
}
