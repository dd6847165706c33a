/**
 * Official checkpoint -> our weight file. The output is a safetensors file holding exactly the module's
 * parameters (official names, float32) and metadata naming the module and its source (see weights/files.ts).
 */
import type { PerFRDiffConfig } from "../config";
import { checkStateDict, closestModule, moduleParameterShapes, nonFiniteValues } from "../weights/modules";
import type { ModuleName } from "../weights/modules";
import { weightFileMetadata } from "../weights/files";
import { safetensorsF32Header, serializeSafetensors } from "../weights/safetensors";
import type { SafeTensor } from "../weights/safetensors";
import { openAtomicFile } from "../io/atomic-file";
import { openTorchStateDict } from "./checkpoint";
import type { TorchTensor } from "./checkpoint";

export interface ConvertedModule {
  module: ModuleName;
  /** Number of parameters (elements). */
  parameters: number;
  bytes: Uint8Array;
}

/** The float32 data of a checkpoint tensor, or an error naming it. */
function floatData(t: TorchTensor, name: string, what: string): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`${what}: '${name}' is ${t.dtype}, expected a floating-point tensor`);
  const bad = nonFiniteValues(t.data);
  if (bad.count > 0) throw new Error(`${what}: '${name}' holds ${bad.count} NaN or infinite values (the first at element ${bad.first}): a diverged or corrupt checkpoint`);
  return t.data;
}

/**
 * Converts one official `torch.save` checkpoint. The module is detected from its parameter names unless given.
 * @throws naming the missing / unexpected / mis-shaped tensors when it matches no module of the configuration.
 */
export function convertTorchCheckpoint(
  cfg: PerFRDiffConfig,
  bytes: Uint8Array,
  options: { module?: ModuleName; what?: string } = {},
): ConvertedModule {
  const what = options.what ?? "checkpoint";
  const state = openTorchStateDict(bytes, what);
  const module = options.module ?? closestModule(cfg, state.tensors);
  const expected = moduleParameterShapes(cfg, module);
  checkStateDict(state.tensors, expected, `${what} (as ${module})`); // before any tensor is read
  const tensors = new Map<string, SafeTensor>();
  let parameters = 0;
  for (const name of expected.keys()) {
    const t = state.load(name);
    tensors.set(name, { dtype: "F32", shape: t.shape, data: floatData(t, name, what) });
    parameters += t.data.length;
  }
  return { module, parameters, bytes: serializeSafetensors(tensors, weightFileMetadata(module, what)) };
}

/**
 * Converts an official checkpoint file into our weight file, streaming tensor by tensor (Node): works for
 * checkpoints larger than memory allows to hold twice, such as the 6.5 GB full-rank PWSG.
 */
export async function convertTorchCheckpointFile(
  cfg: PerFRDiffConfig,
  inPath: string,
  out: string | ((module: ModuleName) => string),
  options: { module?: ModuleName; overwrite?: boolean } = {},
): Promise<{ module: ModuleName; parameters: number; path: string }> {
  const { openTorchCheckpoint } = await import("./file");
  const f = await openTorchCheckpoint(inPath);
  try {
    const m = options.module ?? closestModule(cfg, f.tensors);
    const expected = moduleParameterShapes(cfg, m);
    checkStateDict(f.tensors, expected, `${inPath} (as ${m})`);
    const entries = [...expected].map(([name, shape]) => ({ name, shape }));
    const outPath = typeof out === "string" ? out : out(m);
    // a temporary file renamed into place: a failed conversion leaves an earlier good file as it was
    const file = await openAtomicFile(outPath, { overwrite: options.overwrite, exists: `${outPath} exists; pass --force to overwrite` });
    let parameters = 0;
    try {
      await file.write(safetensorsF32Header(entries, weightFileMetadata(m, inPath)));
      for (const { name } of entries) {
        const data = floatData(await f.load(name), name, inPath);
        await file.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        parameters += data.length;
      }
      await file.commit();
    } catch (err) {
      await file.abort();
      throw err;
    }
    return { module: m, parameters, path: outPath };
  } finally {
    await f.close();
  }
}
