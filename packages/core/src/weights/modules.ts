/**
 * Official checkpoint <-> module mapping. Every module keeps the official PyTorch parameter names (so the mapping
 * is the identity on names, checked exhaustively here), and loading refuses any missing, unexpected or mis-shaped
 * tensor with a message that names it.
 */
import * as tf from "@tensorflow/tfjs";
import { TensorMap, pwsgParameterShapes } from "@perfrdiff/hypernet";
import type { EditTarget, PWSGConfig } from "@perfrdiff/hypernet";
import type { PerFRDiffConfig } from "../config";
import { denoiserParameterShapes } from "../modules/denoiser";
import { emotionVaeParameterShapes } from "../modules/emotionVae";
import { priorParameterShapes } from "../modules/prior";
import { psslParameterShapes } from "../modules/pssl";
import type { SafeTensor } from "./safetensors";
import type { TorchTensor } from "../torch/checkpoint";

/** The modules of PerFRDiff that have weights. */
export type ModuleName = "denoiser" | "prior" | "pssl" | "emotion_vae" | "hypernet";
export const MODULE_NAMES: ModuleName[] = ["denoiser", "prior", "pssl", "emotion_vae", "hypernet"];

/** Where the official code keeps each checkpoint, relative to the checkpoints root (`./checkpoints`). */
export function officialCheckpointPath(cfg: PerFRDiffConfig, m: ModuleName): string {
  const dir = cfg.trainer.checkpoint_dir.replace(/\/+$/, "");
  switch (m) {
    case "denoiser":
      return `${dir}/TransformerDenoiser/checkpoint.pth`;
    case "prior":
      return `${dir}/DiffusionPriorNetwork/checkpoint.pth`;
    case "hypernet":
      return `${dir}/ModifierNetwork/checkpoint.pth`;
    case "pssl":
      return cfg.person_specific.checkpoint_path ?? "./checkpoints/person_specific/checkpoint.pth";
    case "emotion_vae":
      return cfg.latent_embedder.checkpoint_path ?? "./checkpoints/embedder_latent/checkpoint.pth";
  }
}

/**
 * The weights PWSG edits, as names in the denoiser's weight source, from the official module paths in
 * `main_model.args.modified_layers` (`diffusion_decoder.model.<module>`: attention in_proj or Linear weight).
 */
export function hypernetTargets(cfg: PerFRDiffConfig): EditTarget[] {
  const mm = cfg.main_model?.args;
  if (!mm) throw new Error("config has no main_model section (use rewrite_weight.yaml)");
  if (mm.modify !== "all" && mm.modify !== "kv") throw new Error(`main_model.args.modify '${mm.modify}' must be 'all' or 'kv'`);
  const denoiserShapes = denoiserParameterShapes(cfg.diffusion_decoder.args);
  return mm.modified_layers.map((path) => {
    const prefix = "diffusion_decoder.model.";
    if (!path.startsWith(prefix)) throw new Error(`modified layer '${path}' is not inside diffusion_decoder.model`);
    const mod = path.slice(prefix.length);
    const name = /(multihead_attn|self_attn)$/.test(mod) ? `${mod}.in_proj_weight` : `${mod}.weight`;
    const shape = denoiserShapes.get(name);
    if (!shape || shape.length !== 2) throw new Error(`modified layer '${path}' has no 2-d weight '${name}' in the denoiser`);
    if (mm.modify === "kv" && name.endsWith("multihead_attn.in_proj_weight")) {
      // official: the branch makes the key/value rows (2/3 of in_proj) and a zero block is prepended for the query
      const q = Math.floor(shape[0] / 3);
      return { name, shape: [shape[0] - q, shape[1]] as [number, number], padTop: q };
    }
    return { name, shape: [shape[0], shape[1]] as [number, number] };
  });
}

/** The PWSG configuration of a configuration's main_model (its rank unless `rank` overrides it). */
export function pwsgConfig(cfg: PerFRDiffConfig, rank?: number): PWSGConfig {
  const mm = cfg.main_model?.args;
  if (!mm) throw new Error("config has no main_model section (use rewrite_weight.yaml)");
  return {
    inputDim: mm.input_dim,
    latentDim: mm.latent_dim,
    numSharedLayers: mm.num_shared_layers,
    targets: hypernetTargets(cfg),
    predict: mm.predict,
    rank: rank ?? mm.rank ?? undefined,
  };
}

/** Expected official parameter names and shapes of one module under a configuration. */
export function moduleParameterShapes(cfg: PerFRDiffConfig, m: ModuleName): Map<string, number[]> {
  switch (m) {
    case "denoiser":
      return denoiserParameterShapes(cfg.diffusion_decoder.args);
    case "prior":
      return priorParameterShapes(cfg.diffusion_prior.args);
    case "pssl":
      return psslParameterShapes(cfg.person_specific.args);
    case "emotion_vae":
      return emotionVaeParameterShapes(cfg.latent_embedder.args);
    case "hypernet":
      return pwsgParameterShapes(pwsgConfig(cfg));
  }
}

export class WeightMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WeightMismatchError";
  }
}

/** Anything with a shape: checking names and shapes needs no data (lazy file-backed tensors qualify). */
type AnyTensor = { shape: number[] } | TorchTensor | SafeTensor;

const list = (xs: string[]) => (xs.length > 6 ? `${xs.slice(0, 6).join(", ")} and ${xs.length - 6} more` : xs.join(", "));

/** Checks a state dict against the expected shapes; throws naming every missing / unexpected / mis-shaped entry. */
export function checkStateDict(state: Map<string, AnyTensor>, expected: Map<string, number[]>, what: string): void {
  const missing = [...expected.keys()].filter((k) => !state.has(k));
  const unexpected = [...state.keys()].filter((k) => !expected.has(k));
  const bad: string[] = [];
  for (const [k, shape] of expected) {
    const t = state.get(k);
    if (t && (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))) {
      bad.push(`${k} is [${t.shape}], expected [${shape}]`);
    }
  }
  const problems: string[] = [];
  if (missing.length) problems.push(`missing ${missing.length}: ${list(missing)}`);
  if (unexpected.length) problems.push(`unexpected ${unexpected.length}: ${list(unexpected)}`);
  if (bad.length) problems.push(`wrong shape: ${list(bad)}`);
  if (problems.length) throw new WeightMismatchError(`${what} does not match the configuration: ${problems.join("; ")}`);
}

/** The modules a configuration can hold (the hypernetwork only with a main_model section). */
const modulesOf = (cfg: PerFRDiffConfig) => MODULE_NAMES.filter((m) => m !== "hypernet" || !!cfg.main_model);

/** Which module a state dict belongs to: the one whose expected names match exactly (null when none does). */
export function detectModule(cfg: PerFRDiffConfig, names: { has(name: string): boolean; size: number }): ModuleName | null {
  for (const m of modulesOf(cfg)) {
    const exp = moduleParameterShapes(cfg, m);
    if (exp.size === names.size && [...exp.keys()].every((k) => names.has(k))) return m;
  }
  return null;
}

/**
 * The module a state dict belongs to, or when it matches none exactly the one sharing most parameter names, so that
 * checking against it lists concrete differences.
 */
export function closestModule(cfg: PerFRDiffConfig, names: { has(name: string): boolean; size: number }): ModuleName {
  const exact = detectModule(cfg, names);
  if (exact) return exact;
  let best: ModuleName = "denoiser";
  let bestHits = -1;
  for (const m of modulesOf(cfg)) {
    const hits = [...moduleParameterShapes(cfg, m).keys()].filter((k) => names.has(k)).length;
    if (hits > bestHits) [best, bestHits] = [m, hits];
  }
  return best;
}

/**
 * The modules a generation needs under a configuration: the denoiser and the emotion VAE (it encodes the speaker's
 * emotion windows and regresses face coefficients), the prior only when the configuration feeds its output to the
 * denoiser (the official one drops it: l_latent_embed_drop_prob = 1), PSSL and the hypernetwork to personalise.
 */
export function requiredModules(cfg: PerFRDiffConfig, options: { personalise?: boolean } = {}): ModuleName[] {
  const need: ModuleName[] = ["denoiser", "emotion_vae"];
  if (cfg.diffusion_decoder.args.l_latent_embed_drop_prob < 1) need.push("prior");
  if (options.personalise) need.push("pssl", "hypernet");
  return need;
}

/** How many values of `data` are NaN or infinite, and the index of the first (-1 when none). */
export function nonFiniteValues(data: Float32Array): { count: number; first: number } {
  let count = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      if (count === 0) first = i;
      count++;
    }
  }
  return { count, first };
}

/** Validates and uploads a state dict as float32 tfjs tensors under the official names. */
export function toTensorMap(state: Map<string, TorchTensor | SafeTensor>, expected: Map<string, number[]>, what: string): TensorMap {
  checkStateDict(state, expected, what);
  const out = new TensorMap();
  for (const name of expected.keys()) {
    const t = state.get(name)!;
    if (!(t.data instanceof Float32Array)) throw new WeightMismatchError(`${what}: parameter '${name}' is not a floating-point tensor`);
    if (nonFiniteValues(t.data).count > 0) throw new WeightMismatchError(`${what}: parameter '${name}' contains NaN or infinity`);
    out.set(name, tf.tensor(t.data, t.shape, "float32"));
  }
  return out;
}
