/**
 * Configuration objects mirroring the official YAML files (`configs/diffusion_model.yaml`,
 * `configs/rewrite_weight.yaml`). Field names keep the official snake_case so a YAML file maps 1:1; defaults are
 * the ones the official constructors use when a key is absent (e.g. `s_audio_scale` = latent_dim^-0.5).
 */
import { parse as parseYaml } from "yaml";
import { SCHEDULE_NAMES, TIMESTEP_SPACINGS } from "@perfrdiff/diffusion";
import type { Prediction, ScheduleName, TimestepSpacing, VarianceType } from "@perfrdiff/diffusion";

export interface PersonSpecificConfig {
  in_features: number;
  embed_dim: number;
  num_heads: number;
  num_layers: number;
  mlp_dim: number;
  seq_len: number;
  proj_dim: number;
  proj_head: "mlp" | "linear" | "none";
  /** input dropout (on the embedded tokens), in training */
  drop_prob: number;
  /**
   * Ours: the encoder layers' dropout in training. The official PSSL builds torch.nn.TransformerEncoderLayer without
   * a dropout argument, so torch's default 0.1 applies.
   */
  layer_drop_prob: number;
  max_len: number;
  pos_encoding: "absolute" | "learnable";
  embed_layer: "linear" | "none";
}

export interface LatentEmbedderConfig {
  emotion_dim: number;
  coeff_3dmm_dim: number;
  emb_dims: number[];
  num_layers: number;
  hidden_dim: number;
  z_dim: number;
  rnn_type: "gru";
  dropout: number;
  window_size: number;
  seq_len: number;
}

/** The official names of what the denoiser predicts, and ours (@perfrdiff/diffusion's). */
export const SCHEDULER_PREDICTIONS: Readonly<Record<SchedulerConfig["predict"], Prediction>> = { start_x: "x0", epsilon: "eps", eps: "eps", v: "v" };

export interface SchedulerConfig {
  noise_schedule: ScheduleName;
  timestep_spacing: TimestepSpacing;
  num_train_timesteps: number;
  num_inference_timesteps: number;
  /** What the denoiser predicts: the official `start_x` (x0), `epsilon`, or `v`. */
  predict: "start_x" | "epsilon" | "eps" | "v";
  /** The ancestral (DDPM) sampler's variance. */
  var_type: VarianceType;
  rescale_timesteps: boolean;
  noise_std: number;
  k: number;
}

export interface DiffusionPriorConfig {
  emb_preprocessing: string;
  audio_dim: number;
  window_size: number;
  token_len: number;
  _3dmm_dim: number;
  speaker_emb_dim: number;
  latent_dim: number;
  depth: number;
  num_time_layers: number;
  num_time_embeds: number;
  num_time_emb_channels: number;
  time_last_act: boolean;
  use_learned_query: boolean;
  s_audio_cond_drop_prob: number;
  s_latentemb_cond_drop_prob: number;
  s_3dmm_cond_drop_prob: number;
  guidance_scale: number;
  dim_head: number;
  heads: number;
  ff_mult: number;
  norm_in: boolean;
  norm_out: boolean;
  attn_dropout: number;
  ff_dropout: number;
  final_proj: boolean;
  normformer: boolean;
  rotary_emb: boolean;
}

export interface DenoiserConfig {
  emb_preprocessing: string;
  window_size: number;
  token_len: number;
  encode_emotion: boolean;
  encode_3dmm: boolean;
  nfeats: number;
  latent_dim: number;
  ff_size: number;
  num_layers: number;
  num_heads: number;
  dropout: number;
  normalize_before: boolean;
  activation: "gelu" | "relu";
  flip_sin_to_cos: boolean;
  position_embedding: "learned" | "sine";
  arch: "trans_dec";
  freq_shift: number;
  time_encoded_dim: number;
  s_audio_dim: number;
  s_audio_scale: number;
  s_emotion_dim: number;
  l_embed_dim: number;
  s_embed_dim: number;
  personal_emb_dim: number;
  s_3dmm_dim: number;
  condition_concat: "token_concat";
  guidance_scale: number;
  l_latent_embed_drop_prob: number;
  l_personal_embed_drop_prob: number;
  s_audio_enc_drop_prob: number;
  s_latent_embed_drop_prob: number;
  s_3dmm_enc_drop_prob: number;
  s_emotion_enc_drop_prob: number;
  past_l_emotion_drop_prob: number;
  use_past_frames: boolean;
}

export interface MainModelConfig {
  input_dim: number;
  latent_dim: number;
  embed_dim: number;
  num_shared_layers: number;
  /** Official module paths, e.g. `diffusion_decoder.model.decoder.layers.4.multihead_attn`. */
  modified_layers: string[];
  predict: "shift" | "offset" | "weight";
  modify: "all" | "kv";
  /** The official regulariser: regular_w x the sum of the L2 norms of the predicted edits, when true. */
  regularization: boolean;
  regular_w: number;
  /** Ours: the edits' rank (low-rank PWSG); null is the official full rank. */
  rank: number | null;
}

/** The emotion VAE's training (the official code ships none; our choices, see the core README). */
export interface EmbedderTraining {
  epochs: number;
  /** windows of window_size frames per step */
  batch_size: number;
  lr: number;
  weight_decay: number;
  betas: [number, number];
  /** the official MSELoss_AE_v2's weights: reconstruction, KL, coefficient regression */
  w_mse: number;
  w_kld: number;
  w_coeff: number;
}

/** GAFRG (prior + denoiser), as the official train_diffusion.py with configs/diffusion_model.yaml. */
export interface GafrgTraining {
  epochs: number;
  /** speaker clips per step */
  batch_size: number;
  /** appropriate listener reactions per speaker clip (replicated at random when fewer exist) */
  k_appro: number;
  lr: number;
  weight_decay: number;
  betas: [number, number];
  /** clip_grad_norm_ to max_grad_norm when true */
  clip_grad: boolean;
  max_grad_norm: number;
  /** "cosine_annealing": CosineAnnealingLR stepped once per epoch from the end of epoch `cosine_start_epoch` */
  scheduler: "cosine_annealing" | "none";
  /** the cosine's period in epochs; null: the official T_max = len(data_loader), the steps of an epoch */
  cosine_t_max: number | null;
  cosine_start_epoch: number;
  /** DiffusionLoss multipliers: [the prior's latent MSE, the decoded MSE] */
  losses_multipliers: [number, number];
  temporal_loss_w: number;
}

/** PSSL with the supervised contrastive loss (no official script; the paper's settings). */
export interface PsslTraining {
  epochs: number;
  /**
   * How a step's samples are drawn. `appropriate` (the paper's): batch_size speaker clips, every appropriate
   * reaction of each a sample. `listeners` (ours): batch_size listeners, clips_per_listener distinct clips of each,
   * so that every sample has positives (in the paper's batches a listener's only positives are their reactions to
   * the other speaker clips drawn, often none, while the reactions of other listeners to the same speaker clip look
   * alike; on our synthetic corpus that batch trains PSSL to tell speaker clips apart, not listeners).
   */
  sampling: "appropriate" | "listeners";
  /** `appropriate`: speaker clips per step; `listeners`: listeners per step. Samples are labelled by their listener. */
  batch_size: number;
  /** `listeners` sampling: distinct clips of each listener per step (listeners with fewer clips give all they have) */
  clips_per_listener: number;
  lr: number;
  weight_decay: number;
  betas: [number, number];
  /** cosine annealing over `cosine_t_max` epochs (null: all of them), stepped at the end of every epoch */
  scheduler: "cosine_annealing" | "none";
  cosine_t_max: number | null;
  temperature: number;
  base_temperature: number;
}

/** PWSG with GAFRG and PSSL frozen, as the official train_rewrite_weight.py. */
export interface PwsgTraining {
  epochs: number;
  batch_size: number;
  k_appro: number;
  lr: number;
  momentum: number;
  weight_decay: number;
}

export interface TrainingConfig {
  seed: number;
  /** frames of a clip the loaders use (the official clip_length) */
  clip_length: number;
  embedder: EmbedderTraining;
  gafrg: GafrgTraining;
  pssl: PsslTraining;
  pwsg: PwsgTraining;
}

export interface PerFRDiffConfig {
  person_specific: { args: PersonSpecificConfig; checkpoint_path: string | null };
  latent_embedder: { args: LatentEmbedderConfig; checkpoint_path: string | null };
  diffusion_prior: { args: DiffusionPriorConfig; scheduler: SchedulerConfig };
  diffusion_decoder: { args: DenoiserConfig; scheduler: SchedulerConfig };
  /** Present in rewrite_weight.yaml only. */
  main_model?: { args: MainModelConfig };
  trainer: { checkpoint_dir: string; [k: string]: unknown };
  /** How each stage trains (`perfrdiff train`); the official settings unless the YAML says otherwise. */
  training: TrainingConfig;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const DEFAULT_PSSL: PersonSpecificConfig = {
  in_features: 58, embed_dim: 512, num_heads: 4, num_layers: 4, mlp_dim: 1024, seq_len: 750, proj_dim: 512,
  proj_head: "mlp", drop_prob: 0.1, layer_drop_prob: 0.1, max_len: 5000, pos_encoding: "absolute", embed_layer: "linear",
};
const DEFAULT_VAE: LatentEmbedderConfig = {
  emotion_dim: 25, coeff_3dmm_dim: 58, emb_dims: [128, 128], num_layers: 2, hidden_dim: 512, z_dim: 512,
  rnn_type: "gru", dropout: 0, window_size: 50, seq_len: 750,
};
const DEFAULT_SCHED: SchedulerConfig = {
  noise_schedule: "cosine", timestep_spacing: "leading", num_train_timesteps: 1000, num_inference_timesteps: 50,
  predict: "start_x", var_type: "fixed_large", rescale_timesteps: false, noise_std: 1, k: 10,
};
// Defaults of PriorLatentMatcher's init_params (cfg.get(key, default)).
const DEFAULT_PRIOR: DiffusionPriorConfig = {
  emb_preprocessing: "normalize", audio_dim: 78, window_size: 50, token_len: 750, _3dmm_dim: 58, speaker_emb_dim: 512,
  latent_dim: 512, depth: 6, num_time_layers: 2, num_time_embeds: 1, num_time_emb_channels: 64, time_last_act: false,
  use_learned_query: true, s_audio_cond_drop_prob: 0.5, s_latentemb_cond_drop_prob: 0.5, s_3dmm_cond_drop_prob: 0.5,
  guidance_scale: 7.5, dim_head: 64, heads: 8, ff_mult: 4, norm_in: false, norm_out: true, attn_dropout: 0,
  ff_dropout: 0, final_proj: true, normformer: false, rotary_emb: true,
};
// Defaults of DecoderLatentMatcher's init_params.
const DEFAULT_DENOISER: Omit<DenoiserConfig, "s_audio_scale"> = {
  emb_preprocessing: "normalize", window_size: 50, token_len: 750, encode_emotion: false, encode_3dmm: false,
  nfeats: 25, latent_dim: 512, ff_size: 1024, num_layers: 6, num_heads: 4, dropout: 0.1, normalize_before: false,
  activation: "gelu", flip_sin_to_cos: true, position_embedding: "learned", arch: "trans_dec", freq_shift: 0,
  time_encoded_dim: 64, s_audio_dim: 78, s_emotion_dim: 25, l_embed_dim: 512, s_embed_dim: 512, personal_emb_dim: 512,
  s_3dmm_dim: 58, condition_concat: "token_concat", guidance_scale: 7.5, l_latent_embed_drop_prob: 0.2,
  l_personal_embed_drop_prob: 0.2, s_audio_enc_drop_prob: 0.2, s_latent_embed_drop_prob: 0.2, s_3dmm_enc_drop_prob: 0.2,
  s_emotion_enc_drop_prob: 0.2, past_l_emotion_drop_prob: 0.2, use_past_frames: false,
};

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

function section(root: Obj, key: string, required: boolean): Obj | undefined {
  const s = root[key];
  if (s === undefined || s === null) {
    if (required) throw new ConfigError(`config has no '${key}' section`);
    return undefined;
  }
  if (!isObj(s)) throw new ConfigError(`config section '${key}' is not a mapping`);
  return s;
}

/** Overlays YAML args on defaults, checking that each given value has the default's type. */
function merge<T extends object>(defaults: T, given: unknown, where: string): T {
  if (given !== undefined && given !== null && !isObj(given)) throw new ConfigError(`${where} is not a mapping`);
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries((given as Obj) ?? {})) {
    const d = (defaults as Record<string, unknown>)[k];
    if (d !== undefined && d !== null && v !== null && typeof d !== typeof v && !(Array.isArray(d) && Array.isArray(v))) {
      throw new ConfigError(`${where}.${k}: expected a ${typeof d}, got ${JSON.stringify(v)}`);
    }
    out[k] = v;
  }
  return out as T;
}

/** Checks that a string setting is one of the values it can take. */
function oneOf<T extends string>(value: T, allowed: readonly string[], where: string): T {
  if (!allowed.includes(value)) throw new ConfigError(`${where} '${value}' is not supported; expected one of ${allowed.join(", ")}`);
  return value;
}

/** A scheduler block over the defaults, its string values checked. */
function scheduler(given: unknown, where: string): SchedulerConfig {
  const s = merge(DEFAULT_SCHED, given, where);
  oneOf(s.noise_schedule, SCHEDULE_NAMES, `${where}.noise_schedule`);
  oneOf(s.timestep_spacing, TIMESTEP_SPACINGS, `${where}.timestep_spacing`);
  oneOf(s.predict, Object.keys(SCHEDULER_PREDICTIONS), `${where}.predict`);
  oneOf(s.var_type, ["fixed_large", "fixed_small"], `${where}.var_type`);
  for (const k of ["num_train_timesteps", "num_inference_timesteps"] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new ConfigError(`${where}.${k} must be a whole number >= 1, got ${s[k]}`);
  }
  return s;
}

/** The official training settings, and ours where the official code has no training script (embedder, PSSL). */
const DEFAULT_TRAINING: TrainingConfig = {
  seed: 1234,
  clip_length: 750,
  embedder: { epochs: 50, batch_size: 64, lr: 1e-3, weight_decay: 1e-4, betas: [0.9, 0.999], w_mse: 1, w_kld: 1e-4, w_coeff: 1 },
  gafrg: {
    epochs: 500, batch_size: 4, k_appro: 10, lr: 1e-4, weight_decay: 1e-4, betas: [0.9, 0.999], clip_grad: false,
    max_grad_norm: 5, scheduler: "cosine_annealing", cosine_t_max: null, cosine_start_epoch: 5, losses_multipliers: [1, 1], temporal_loss_w: 0,
  },
  pssl: {
    epochs: 50, sampling: "appropriate", batch_size: 3, clips_per_listener: 3, lr: 1e-4, weight_decay: 1e-4, betas: [0.9, 0.999], scheduler: "cosine_annealing", cosine_t_max: null, temperature: 0.07,
    base_temperature: 0.07,
  },
  pwsg: { epochs: 100, batch_size: 1, k_appro: 1, lr: 1e-3, momentum: 0.9, weight_decay: 1e-4 },
};

/**
 * The training settings: the defaults, then what an official YAML says in its own sections (diffusion_model.yaml's
 * optimizer / loss / dataset / trainer for GAFRG; rewrite_weight.yaml's, recognised by main_model.optimizer_hypernet,
 * for PWSG), then our `training` section.
 */
function trainingConfig(root: Obj): TrainingConfig {
  const t: TrainingConfig = JSON.parse(JSON.stringify(DEFAULT_TRAINING));
  const get = (path: string[]): unknown => path.reduce<unknown>((o, k) => (isObj(o) ? o[k] : undefined), root);
  const num = (path: string[]) => {
    const v = get(path);
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" ? Number(v) : v; // YAML 1.2 reads 1e-4 as a string
    if (typeof n !== "number" || !Number.isFinite(n)) throw new ConfigError(`${path.join(".")}: expected a number, got ${JSON.stringify(v)}`);
    return n;
  };
  const assign = <T extends object>(target: T, key: keyof T, value: unknown) => {
    if (value !== undefined) (target as Record<string, unknown>)[key as string] = value;
  };
  const rewrite = isObj(get(["main_model", "optimizer_hypernet"]));
  if (rewrite) {
    assign(t.pwsg, "lr", num(["main_model", "optimizer_hypernet", "args", "lr"]));
    assign(t.pwsg, "momentum", num(["main_model", "optimizer_hypernet", "args", "momentum"]));
    assign(t.pwsg, "weight_decay", num(["main_model", "optimizer_hypernet", "args", "weight_decay"]));
    assign(t.pwsg, "epochs", num(["trainer", "epochs"]));
    assign(t.pwsg, "batch_size", num(["dataset", "batch_size"]));
    assign(t.pwsg, "k_appro", num(["dataset", "k_appro"]));
  } else if (isObj(get(["optimizer"]))) {
    const g = t.gafrg;
    assign(g, "lr", num(["optimizer", "args", "lr"]));
    assign(g, "weight_decay", num(["optimizer", "args", "weight_decay"]));
    const beta = get(["optimizer", "args", "beta"]);
    if (Array.isArray(beta)) g.betas = [Number(beta[0]), Number(beta[1])];
    assign(g, "scheduler", get(["optimizer", "scheduler"]) ?? undefined);
    assign(g, "epochs", num(["trainer", "epochs"]));
    assign(g, "clip_grad", get(["trainer", "clip_grad"]) ?? undefined);
    assign(g, "batch_size", num(["dataset", "batch_size"]));
    assign(g, "k_appro", num(["dataset", "k_appro"]));
    const mult = get(["loss", "args", "losses_multipliers"]);
    if (Array.isArray(mult)) g.losses_multipliers = [Number(mult[0]), Number(mult[1])];
    assign(g, "temporal_loss_w", num(["loss", "args", "temporal_loss_w"]));
  }
  assign(t, "seed", num(["trainer", "seed"]));
  assign(t, "clip_length", num(["dataset", "clip_length"]));
  const ours = root.training;
  if (ours !== undefined && ours !== null) {
    if (!isObj(ours)) throw new ConfigError("training is not a mapping");
    for (const [k, v] of Object.entries(ours)) {
      if (k === "seed" || k === "clip_length") (t as unknown as Record<string, unknown>)[k] = v;
      else if (k in t) (t as unknown as Record<string, unknown>)[k] = merge((t as unknown as Record<string, object>)[k]!, v, `training.${k}`);
      else throw new ConfigError(`training.${k} is not a training stage (embedder, gafrg, pssl, pwsg)`);
    }
  }
  for (const [stage, v] of Object.entries(t)) {
    if (!isObj(v)) continue;
    for (const k of ["epochs", "batch_size", "k_appro", "clips_per_listener"]) {
      const n = (v as Record<string, unknown>)[k];
      if (n !== undefined && (!Number.isInteger(n) || (n as number) < 1)) throw new ConfigError(`training.${stage}.${k} must be a whole number >= 1, got ${JSON.stringify(n)}`);
    }
  }
  oneOf(t.gafrg.scheduler, ["cosine_annealing", "none"], "training.gafrg.scheduler");
  oneOf(t.pssl.scheduler, ["cosine_annealing", "none"], "training.pssl.scheduler");
  oneOf(t.pssl.sampling, ["appropriate", "listeners"], "training.pssl.sampling");
  return t;
}

/** `over` laid on `base`: mappings merged key by key (recursively), anything else replaced. */
function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(out[k]) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

/**
 * Builds a typed config from a parsed YAML object, filling the official defaults. A top-level `extends: <preset>`
 * (official or small) lays the rest of the mapping over that preset, so a YAML can hold only what it changes.
 */
export function configFromObject(root: unknown): PerFRDiffConfig {
  if (!isObj(root)) throw new ConfigError("config is not a YAML mapping");
  if (root.extends !== undefined) {
    const { extends: name, ...rest } = root;
    if (typeof name !== "string" || !Object.hasOwn(PRESETS, name)) {
      throw new ConfigError(`extends: ${JSON.stringify(name)} is not a preset; expected one of ${Object.keys(PRESETS).join(", ")}`);
    }
    return configFromObject(deepMerge(parseYaml(PRESETS[name as PresetName]) as Obj, rest));
  }
  const ps = section(root, "person_specific", true)!;
  const le = section(root, "latent_embedder", true)!;
  const pr = section(root, "diffusion_prior", true)!;
  const de = section(root, "diffusion_decoder", true)!;
  const mm = section(root, "main_model", false);
  const tr = section(root, "trainer", false) ?? {};
  const prArgs = merge(DEFAULT_PRIOR, pr.args, "diffusion_prior.args");
  if (prArgs.heads !== 8) {
    // PriorLatentMatcher does not forward `heads`: the official prior always runs CausalTransformer's default 8.
    throw new ConfigError(`diffusion_prior.args.heads is ${prArgs.heads}, but the official code always uses 8 heads`);
  }
  const deArgs = merge({ ...DEFAULT_DENOISER, s_audio_scale: NaN }, de.args, "diffusion_decoder.args");
  if (Number.isNaN(deArgs.s_audio_scale)) deArgs.s_audio_scale = deArgs.latent_dim ** -0.5;
  if (deArgs.arch !== "trans_dec") throw new ConfigError(`diffusion_decoder.args.arch '${deArgs.arch}' is not supported (only trans_dec, the official setting)`);
  if (deArgs.condition_concat !== "token_concat") throw new ConfigError(`diffusion_decoder.args.condition_concat '${deArgs.condition_concat}' is not supported (only token_concat)`);
  const cfg: PerFRDiffConfig = {
    person_specific: { args: merge(DEFAULT_PSSL, ps.args, "person_specific.args"), checkpoint_path: (ps.checkpoint_path as string) ?? null },
    latent_embedder: { args: merge(DEFAULT_VAE, le.args, "latent_embedder.args"), checkpoint_path: (le.checkpoint_path as string) ?? null },
    diffusion_prior: {
      args: prArgs,
      scheduler: scheduler(pr.scheduler, "diffusion_prior.scheduler"),
    },
    diffusion_decoder: { args: deArgs, scheduler: scheduler(de.scheduler, "diffusion_decoder.scheduler") },
    trainer: { ...tr, checkpoint_dir: String(tr.checkpoint_dir ?? "./checkpoints") },
    training: trainingConfig(root),
  };
  if (mm) {
    const a = merge<MainModelConfig>(
      {
        input_dim: 512, latent_dim: 1024, embed_dim: 512, num_shared_layers: 1, modified_layers: [], predict: "shift", modify: "all",
        regularization: false, regular_w: 0, rank: null as number | null,
      },
      mm.args,
      "main_model.args",
    );
    if (!["all", "kv"].includes(a.modify)) throw new ConfigError(`main_model.args.modify '${a.modify}' must be all or kv`);
    if (!["shift", "offset", "weight"].includes(a.predict)) throw new ConfigError(`main_model.args.predict '${a.predict}' must be shift, offset or weight`);
    if (a.rank !== null && !(Number.isInteger(a.rank) && a.rank >= 1)) throw new ConfigError(`main_model.args.rank must be a whole number >= 1 or null (full rank), got ${JSON.stringify(a.rank)}`);
    a.regular_w = Number(a.regular_w);
    cfg.main_model = { args: a };
  }
  return cfg;
}

/** Parses YAML text (e.g. the official `rewrite_weight.yaml`) into a typed config. */
export function parseConfig(yamlText: string): PerFRDiffConfig {
  let obj: unknown;
  try {
    obj = parseYaml(yamlText);
  } catch (err) {
    throw new ConfigError(`invalid YAML: ${(err as Error).message}`);
  }
  return configFromObject(obj);
}

/** Reads and parses a YAML config file (Node only). */
export async function loadConfig(path: string): Promise<PerFRDiffConfig> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new ConfigError(`cannot read config file ${path}`);
  }
  try {
    return parseConfig(text);
  } catch (err) {
    throw new ConfigError(`${path}: ${(err as Error).message}`);
  }
}

/**
 * The model settings of the official `configs/rewrite_weight.yaml` (values that differ from the constructors'
 * defaults), so tools can run without a config file.
 */
export const OFFICIAL_MODEL_YAML = `
person_specific:
  args: { max_len: 1000 }
  checkpoint_path: ./checkpoints/person_specific/checkpoint.pth
latent_embedder:
  args: {}
  checkpoint_path: ./checkpoints/embedder_latent/checkpoint.pth
diffusion_prior:
  args: { freeze_encoder: true, depth: 4, s_audio_cond_drop_prob: 0.0, s_latentemb_cond_drop_prob: 0.0, s_3dmm_cond_drop_prob: 0.0, guidance_scale: 1.0 }
  scheduler: { k: 1 }
diffusion_decoder:
  args: { freeze_encoder: true, concat: concat_first, ablation_skip_connection: true, return_intermediate_dec: false, num_layers: 7, l_latent_embed_drop_prob: 1.0, l_personal_embed_drop_prob: 1.0, s_emotion_enc_drop_prob: 1.0, past_l_emotion_drop_prob: 1.0 }
  scheduler: { k: 1 }
trainer:
  checkpoint_dir: ./checkpoints/rewrite_weight
main_model:
  args:
    input_dim: 512
    latent_dim: 1024
    embed_dim: 512
    num_shared_layers: 2
    modified_layers: [diffusion_decoder.model.decoder.layers.4.multihead_attn, diffusion_decoder.model.decoder.layers.6.multihead_attn, diffusion_decoder.model.to_emotion_feat]
    predict: shift
    modify: all
    regularization: false
    regular_w: 0.0
    resume:
`;

/** The official PerFRDiff configuration (rewrite_weight.yaml's model settings). */
export function officialConfig(): PerFRDiffConfig {
  return parseConfig(OFFICIAL_MODEL_YAML);
}

/**
 * The `small` preset: the official architecture at widths of 64-128 with fewer layers (about 0.4 M parameters
 * instead of 29 M for GAFRG), a 250-frame PSSL history, a rank-4 PWSG, and training schedules that learn something
 * useful in minutes on a 2-core CPU. Not comparable with published numbers; for development, tests and the demo.
 * GAFRG steps take 2 speaker clips x 4 appropriate reactions (the official 4 x 10 is ~3x slower a step on that CPU)
 * and do not train the prior: like the official configuration, this one drops the prior's output
 * (l_latent_embed_drop_prob 1), so its loss only costs time (losses_multipliers [0, 1]). PSSL steps take 4
 * listeners x 3 of their clips (`sampling: listeners`), so that every sample has positives, and PSSL trains without
 * dropout (see below). Guidance scale 2, not the official 7.5: on the default model's held-out synthetic clips
 * (K 5, DPM-Solver++ 10 steps) FRdist was 48.9 at 2 against 78.3 at 7.5, the stronger guidance overshooting. Without
 * dropout: normalised 3DMM tracks are small next to the sinusoidal positions and the CLS token, and 10% dropout noise
 * on the tokens drowned what tells listeners apart (a fixed batch of 4 listeners did not separate in 100 steps).
 */
export const SMALL_MODEL_YAML = `
person_specific:
  args: { embed_dim: 64, num_heads: 4, num_layers: 2, mlp_dim: 128, seq_len: 250, proj_dim: 64, max_len: 1000, drop_prob: 0.0, layer_drop_prob: 0.0 }
latent_embedder:
  args: { hidden_dim: 64, z_dim: 64, emb_dims: [64, 64] }
diffusion_prior:
  args: { depth: 2, speaker_emb_dim: 64, latent_dim: 64, dim_head: 16, ff_mult: 2, num_time_emb_channels: 32, s_audio_cond_drop_prob: 0.0, s_latentemb_cond_drop_prob: 0.0, s_3dmm_cond_drop_prob: 0.0, guidance_scale: 1.0 }
  scheduler: { k: 1 }
diffusion_decoder:
  args: { latent_dim: 64, ff_size: 128, num_layers: 3, num_heads: 4, time_encoded_dim: 32, l_embed_dim: 64, s_embed_dim: 64, personal_emb_dim: 64, l_latent_embed_drop_prob: 1.0, l_personal_embed_drop_prob: 1.0, s_emotion_enc_drop_prob: 1.0, past_l_emotion_drop_prob: 1.0, guidance_scale: 2.0 }
  scheduler: { k: 1, num_inference_timesteps: 50 }
trainer:
  checkpoint_dir: ./checkpoints/small
main_model:
  args:
    input_dim: 64
    latent_dim: 128
    embed_dim: 64
    num_shared_layers: 2
    modified_layers: [diffusion_decoder.model.decoder.layers.1.multihead_attn, diffusion_decoder.model.decoder.layers.2.multihead_attn, diffusion_decoder.model.to_emotion_feat]
    predict: shift
    modify: all
    rank: 4
training:
  seed: 1234
  embedder: { epochs: 40, batch_size: 64, lr: 0.002 }
  gafrg: { epochs: 60, batch_size: 2, k_appro: 4, lr: 0.001, cosine_t_max: 60, losses_multipliers: [0, 1] }
  pssl: { epochs: 60, sampling: listeners, batch_size: 4, clips_per_listener: 3, lr: 0.0005 }
  pwsg: { epochs: 20, lr: 0.01 }
`;

/** The model and training presets `perfrdiff train --preset` offers. */
export const PRESETS = { official: OFFICIAL_MODEL_YAML, small: SMALL_MODEL_YAML } as const;
export type PresetName = keyof typeof PRESETS;

/** A preset's configuration. */
export function presetConfig(name: PresetName): PerFRDiffConfig {
  const yaml = PRESETS[name];
  if (!yaml) throw new ConfigError(`unknown preset '${String(name)}'; expected one of ${Object.keys(PRESETS).join(", ")}`);
  return parseConfig(yaml);
}
