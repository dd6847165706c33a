/**
 * One loader for a model's weights wherever they are: a folder of ours (`<module>.safetensors` + `config.yaml`, as
 * `perfrdiff import-torch` and training write it), the official PyTorch checkpoints in their official layout, or
 * tensors/bytes given directly (the browser's way). It loads only the modules asked for (the full-rank PWSG alone is
 * 6.5 GB) and checks each against the configuration before use.
 */
import type { TensorMap } from "@perfrdiff/hypernet";
import { officialConfig, parseConfig } from "../config";
import type { PerFRDiffConfig } from "../config";
import { loadWeightFile, loadWeightFileFromPath } from "./files";
import { checkStateDict, moduleParameterShapes, officialCheckpointPath, requiredModules, toTensorMap } from "./modules";
import type { ModuleName } from "./modules";
import type { TorchTensor } from "../torch/checkpoint";

/** Module weights: live tensors, or our weight-file bytes. */
export type ModuleWeights = Partial<Record<ModuleName, TensorMap | Uint8Array>>;

/**
 * Where weights come from: a folder of ours (Node), `{ official: ROOT }` for the official checkpoints under ROOT
 * at the paths the configuration gives (Node), or the modules' weights directly.
 */
export type CheckpointSource = string | { official: string } | ModuleWeights;

export interface LoadModelOptions {
  /** Default: the folder's config.yaml when there is one, else the official configuration. */
  config?: PerFRDiffConfig;
  /**
   * Also load PSSL and the hypernetwork (true: they must be there), or not (false); default: when the source has
   * them.
   */
  personalise?: boolean;
  /** Called after each module is loaded. */
  onModule?: (module: ModuleName, done: number, total: number) => void;
}

export interface LoadedModel {
  config: PerFRDiffConfig;
  /** Where the configuration came from: a file path, or "official (built in)" / "given". */
  configSource: string;
  weights: Partial<Record<ModuleName, TensorMap>>;
}

const join = async (...parts: string[]) => (await import("node:path")).join(...parts);
const exists = async (path: string) => (await import("node:fs/promises")).access(path).then(() => true, () => false);

/** Why a module is needed, for error messages. */
const why = (m: ModuleName) => (m === "pssl" || m === "hypernet" ? " (needed to personalise)" : "");

/** A module's weights, or why there are none (to name in an error). */
type Found = TensorMap | { missing: string };

async function fromOurFolder(dir: string, cfg: PerFRDiffConfig, m: ModuleName): Promise<Found> {
  const p = await join(dir, `${m}.safetensors`);
  if (!(await exists(p))) return { missing: `${dir} has no ${m}.safetensors${why(m)}; convert the official checkpoint with perfrdiff import-torch` };
  return loadWeightFileFromPath(cfg, m, p);
}

async function fromOfficialLayout(root: string, cfg: PerFRDiffConfig, m: ModuleName): Promise<Found> {
  const p = await join(root, officialCheckpointPath(cfg, m));
  if (!(await exists(p))) return { missing: `no ${m} checkpoint at ${p}${why(m)} (paths as in the configuration, relative to ${root})` };
  const { openTorchCheckpoint } = await import("../torch/file");
  const f = await openTorchCheckpoint(p);
  try {
    const expected = moduleParameterShapes(cfg, m);
    checkStateDict(f.tensors, expected, p); // names and shapes before any tensor is read
    const state = new Map<string, TorchTensor>();
    for (const name of expected.keys()) state.set(name, await f.load(name));
    return toTensorMap(state, expected, p);
  } finally {
    await f.close();
  }
}

function fromGiven(given: ModuleWeights, cfg: PerFRDiffConfig, m: ModuleName): Found {
  const src = given[m];
  if (!src) return { missing: `the given weights have no ${m} module${why(m)}` };
  if (src instanceof Uint8Array) return loadWeightFile(cfg, m, src);
  // live tensors: names and shapes checked as for files
  checkStateDict(src.tensors, moduleParameterShapes(cfg, m), `${m} weights`);
  return src;
}

/**
 * The configuration of a checkpoint: `given` when there is one, else a folder's config.yaml, else the official
 * configuration; with where it came from (a file path, "given" or "official (built in)").
 */
export async function loadModelConfig(source: CheckpointSource, given?: PerFRDiffConfig): Promise<{ config: PerFRDiffConfig; configSource: string }> {
  if (typeof source === "string" && !(await exists(source))) throw new Error(`no checkpoint folder ${source}`);
  if (given) return { config: given, configSource: "given" };
  if (typeof source === "string") {
    const p = await join(source, "config.yaml");
    if (await exists(p)) return { config: parseConfig(await (await import("node:fs/promises")).readFile(p, "utf8")), configSource: p };
  }
  return { config: officialConfig(), configSource: "official (built in)" };
}

const isWeights = (f: Found): f is TensorMap => !("missing" in f);

const find = (source: CheckpointSource, cfg: PerFRDiffConfig, m: ModuleName): Promise<Found> | Found =>
  typeof source === "string"
    ? fromOurFolder(source, cfg, m)
    : "official" in source && typeof source.official === "string"
      ? fromOfficialLayout(source.official, cfg, m)
      : fromGiven(source as ModuleWeights, cfg, m);

/** One module's weights from a source, checked against the configuration; null when the source does not have it. */
export async function loadModuleWeights(source: CheckpointSource, cfg: PerFRDiffConfig, module: ModuleName): Promise<TensorMap | null> {
  const found = await find(source, cfg, module);
  return isWeights(found) ? found : null;
}

/** Loads the weights a generation needs (see {@link requiredModules}) and its configuration. */
export async function loadModel(source: CheckpointSource, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const { config: cfg, configSource } = await loadModelConfig(source, options.config);
  const load = async (m: ModuleName) => find(source, cfg, m);
  const needed = requiredModules(cfg, { personalise: options.personalise === true });
  const optional: ModuleName[] = options.personalise === undefined && cfg.main_model ? ["pssl", "hypernet"] : [];
  const weights: Partial<Record<ModuleName, TensorMap>> = {};
  try {
    for (const [i, m] of needed.entries()) {
      const w = await load(m);
      if (!isWeights(w)) throw new Error(w.missing);
      weights[m] = w;
      options.onModule?.(m, i + 1, needed.length);
    }
    // personalisation when available: both modules, or neither
    const extra = await Promise.all(optional.map((m) => load(m)));
    if (extra.every(isWeights)) optional.forEach((m, i) => (weights[m] = extra[i] as TensorMap));
    else extra.forEach((w) => isWeights(w) && w.dispose());
  } catch (err) {
    // free what was loaded here; tensors the caller gave stay theirs
    const given = typeof source === "object" && !("official" in source) ? Object.values(source) : [];
    for (const w of Object.values(weights)) if (!given.includes(w)) w?.dispose();
    throw err;
  }
  return { config: cfg, configSource, weights };
}
