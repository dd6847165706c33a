/**
 * Official checkpoint -> our weight file. The output is a safetensors file holding exactly the module's
 * parameters (official names, float32) and metadata naming the module and its configuration, so loading it back
 * can check it against the config it is used with.
 */
import type { TensorMap } from "@perfrdiff/hypernet";
import { MODULE_NAMES, checkStateDict, detectModule, moduleParameterShapes, toTensorMap } from "./checkpoints";
import type { ModuleName } from "./checkpoints";
import type { PerFRDiffConfig } from "./config";
import { parseSafetensors, safetensorsF32Header, serializeSafetensors } from "./safetensors";
import type { SafeTensor } from "./safetensors";
import { readTorchStateDict } from "./torch/checkpoint";

export interface ConvertedModule {
  module: ModuleName;
  /** Number of parameters (elements). */
  parameters: number;
  bytes: Uint8Array;
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
  const state = readTorchStateDict(bytes, what);
  let module = options.module ?? detectModule(cfg, state);
  if (!module) {
    // Report against the closest module so the message lists concrete differences.
    let best: ModuleName = "denoiser";
    let bestHits = -1;
    for (const m of MODULE_NAMES) {
      if (m === "hypernet" && !cfg.main_model) continue;
      const hits = [...moduleParameterShapes(cfg, m).keys()].filter((k) => state.has(k)).length;
      if (hits > bestHits) [best, bestHits] = [m, hits];
    }
    module = best;
  }
  const expected = moduleParameterShapes(cfg, module);
  checkStateDict(state, expected, `${what} (as ${module})`);
  const tensors = new Map<string, SafeTensor>();
  let parameters = 0;
  for (const name of expected.keys()) {
    const t = state.get(name)!;
    if (!(t.data instanceof Float32Array)) throw new Error(`${what}: '${name}' is ${t.dtype}, expected a floating-point tensor`);
    tensors.set(name, { dtype: "F32", shape: t.shape, data: t.data });
    parameters += t.data.length;
  }
  const bytesOut = serializeSafetensors(tensors, { format: "perfrdiff", module, source: what });
  return { module, parameters, bytes: bytesOut };
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
  const { openTorchCheckpoint } = await import("./torch/file");
  const { open, unlink } = await import("node:fs/promises");
  const f = await openTorchCheckpoint(inPath);
  try {
    let module = options.module ?? detectModule(cfg, f.tensors);
    if (!module) {
      let bestHits = -1;
      for (const m of MODULE_NAMES) {
        if (m === "hypernet" && !cfg.main_model) continue;
        const hits = [...moduleParameterShapes(cfg, m).keys()].filter((k) => f.tensors.has(k)).length;
        if (hits > bestHits) [module, bestHits] = [m, hits];
      }
    }
    const m = module!;
    const expected = moduleParameterShapes(cfg, m);
    checkStateDict(f.tensors, expected, `${inPath} (as ${m})`);
    const entries = [...expected].map(([name, shape]) => ({ name, shape }));
    const outPath = typeof out === "string" ? out : out(m);
    let fh;
    try {
      fh = await open(outPath, options.overwrite ? "w" : "wx");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${outPath} exists; pass --force to overwrite`);
      throw err;
    }
    let parameters = 0;
    try {
      await fh.write(safetensorsF32Header(entries, { format: "perfrdiff", module: m, source: inPath }));
      for (const { name } of entries) {
        const t = await f.load(name);
        if (!(t.data instanceof Float32Array)) throw new Error(`${inPath}: '${name}' is ${t.dtype}, expected a floating-point tensor`);
        await fh.write(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        parameters += t.data.length;
      }
    } catch (err) {
      await fh.close();
      await unlink(outPath).catch(() => undefined); // no half-written weight files
      throw err;
    }
    await fh.close();
    return { module: m, parameters, path: outPath };
  } finally {
    await f.close();
  }
}

/** Loads one of our weight files for `module`, checking names and shapes against the configuration. */
export function loadWeightFile(cfg: PerFRDiffConfig, module: ModuleName, bytes: Uint8Array, what = `${module} weights`): TensorMap {
  const { tensors, metadata } = parseSafetensors(bytes);
  if (metadata.module && metadata.module !== module) {
    throw new Error(`${what} holds the ${metadata.module} module, not ${module}`);
  }
  return toTensorMap(tensors, moduleParameterShapes(cfg, module), what);
}

/**
 * Loads one of our weight files from disk (Node) tensor by tensor, so files above Node's 2 GiB readFile limit
 * (the full-rank PWSG: 6.5 GB) load; names and shapes are checked against the configuration.
 */
export async function loadWeightFileFromPath(cfg: PerFRDiffConfig, module: ModuleName, path: string): Promise<TensorMap> {
  const { open } = await import("node:fs/promises");
  const fh = await open(path, "r").catch(() => {
    throw new Error(`cannot open weight file ${path}`);
  });
  try {
    const size = (await fh.stat()).size;
    const read = async (offset: number, length: number) => {
      const out = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await fh.read(out, done, Math.min(length - done, 1 << 30), offset + done);
        if (bytesRead === 0) throw new Error(`${path}: unexpected end of file`);
        done += bytesRead;
      }
      return out;
    };
    if (size < 8) throw new Error(`${path}: too short for a weight file`);
    const hlen = Number(new DataView((await read(0, 8)).buffer).getBigUint64(0, true));
    if (hlen > size - 8) throw new Error(`${path}: header length ${hlen} exceeds the file size`);
    // Parse the header alone (tensor bytes follow it), then read each tensor into its own buffer.
    const header = JSON.parse(new TextDecoder().decode(await read(8, hlen))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const meta = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
    if (meta.module && meta.module !== module) throw new Error(`${path} holds the ${meta.module} module, not ${module}`);
    const state = new Map<string, SafeTensor>();
    for (const [name, e] of Object.entries(header)) {
      if (name === "__metadata__") continue;
      if (e.dtype !== "F32") throw new Error(`${path}: '${name}' is ${e.dtype}; weight files hold F32`);
      const [b0, b1] = e.data_offsets;
      if (b1 - b0 !== e.shape.reduce((a, b) => a * b, 1) * 4 || 8 + hlen + b1 > size) {
        throw new Error(`${path}: '${name}' data_offsets do not match its shape or the file size`);
      }
      state.set(name, { dtype: "F32", shape: e.shape, data: new Float32Array((await read(8 + hlen + b0, b1 - b0)).buffer) });
    }
    return toTensorMap(state, moduleParameterShapes(cfg, module), path);
  } finally {
    await fh.close();
  }
}

/** Serialises a module's live weights (e.g. after training) into our format (async: reads back from any backend). */
export async function saveWeightFile(module: ModuleName, weights: TensorMap): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of weights.tensors) tensors.set(name, { dtype: "F32", shape: t.shape, data: (await t.data()) as Float32Array });
  return serializeSafetensors(tensors, { format: "perfrdiff", module });
}
