/**
 * Parameters and FLOPs per module (the paper's Table 11), computed from the configuration: parameters from the
 * exact official parameter shapes, FLOPs by counting every matrix product of our forward passes (2 FLOPs per
 * multiply-add; element-wise ops, softmax and norms are not counted, as is usual).
 */
import { pwsgParameterCount } from "@perfrdiff/hypernet";
import { moduleParameterShapes, pwsgConfig } from "../weights/modules";
import type { ModuleName } from "../weights/modules";
import type { PerFRDiffConfig } from "../config";

export interface ComplexityRow {
  module: ModuleName;
  parameters: number;
  /** FLOPs of the unit of work described by `per`. */
  flops: number;
  per: string;
}

export interface ComplexityOptions {
  /** Reactions generated per clip (default: the decoder scheduler's k, official 10). */
  k?: number;
  /** Clip length in frames (default: token_len, 750). */
  frames?: number;
  /** Sampler steps (default: num_inference_timesteps, 50). */
  steps?: number;
  /** Listener history length for PSSL (default: person_specific seq_len). */
  historyFrames?: number;
  /** PWSG rank (undefined: full rank as the paper). */
  rank?: number;
}

/** Distinct parameters: the prior's rotary module is shared by all layers (one copy per layer in the state dict). */
const count = (m: Map<string, number[]>) =>
  [...m]
    .filter(([name]) => !/layers\.[1-9]\d*\.0\.rotary_emb\.freqs$/.test(name))
    .reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);

/** FLOPs of one guided denoiser call on one window (both CFG branches). */
export function denoiserWindowFlops(cfg: PerFRDiffConfig): number {
  const c = cfg.diffusion_decoder.args;
  const W = c.window_size;
  const D = c.latent_dim;
  const F = c.ff_size;
  // memory tokens actually present at inference: time + each condition not always dropped
  let M = 1;
  let cond = 2 * (c.time_encoded_dim * D + D * D);
  if (c.s_audio_enc_drop_prob < 1) (M += W), (cond += 2 * W * c.s_audio_dim * D);
  if (c.s_3dmm_enc_drop_prob < 1) (M += W), (cond += c.encode_3dmm ? 0 : 2 * W * c.s_3dmm_dim * D);
  if (c.s_emotion_enc_drop_prob < 1) (M += W), (cond += c.encode_emotion ? 0 : 2 * W * c.s_emotion_dim * D);
  if (c.s_latent_embed_drop_prob < 1) M += 1;
  if (c.l_latent_embed_drop_prob < 1) M += 1;
  if (c.l_personal_embed_drop_prob < 1) M += 1;
  if (c.past_l_emotion_drop_prob < 1) (M += W), (cond += 2 * W * c.nfeats * D);
  const self = 2 * W * D * 3 * D + 2 * 2 * W * W * D + 2 * W * D * D;
  const cross = 2 * W * D * D + 2 * M * D * 2 * D + 2 * 2 * W * M * D + 2 * W * D * D;
  const ff = 2 * 2 * W * D * F;
  const io = 2 * W * c.nfeats * D * 2;
  return 2 * (c.num_layers * (self + cross + ff) + io + cond);
}

/** FLOPs of one prior call on one window (conditional branch only, guidance 1 as in the official config). */
export function priorWindowFlops(cfg: PerFRDiffConfig): number {
  const c = cfg.diffusion_prior.args;
  const W = c.window_size;
  const D = c.latent_dim;
  const n = 2 * W + 3 + (c.use_learned_query ? 1 : 0);
  const inner = c.heads * c.dim_head;
  const F = c.ff_mult * D;
  const attn = 2 * n * D * inner + 2 * n * D * 2 * c.dim_head + 2 * 2 * c.heads * n * (n + 1) * c.dim_head + 2 * n * inner * D;
  const ff = 2 * n * D * 2 * F + 2 * n * F * D;
  const inputs = 2 * W * c.audio_dim * D + 2 * W * c._3dmm_dim * D + 2 * (c.num_time_emb_channels * D + D * D);
  const out = c.final_proj ? 2 * n * D * D : 0;
  const calls = c.guidance_scale > 1 ? 2 : 1;
  return calls * (c.depth * (attn + ff) + inputs + out);
}

/** Rows for every module. */
export function complexity(cfg: PerFRDiffConfig, options: ComplexityOptions = {}): ComplexityRow[] {
  const decoder = cfg.diffusion_decoder;
  const k = options.k ?? decoder.scheduler.k;
  const frames = options.frames ?? decoder.args.token_len;
  const steps = options.steps ?? decoder.scheduler.num_inference_timesteps;
  const windows = Math.ceil(frames / decoder.args.window_size);
  const rows: ComplexityRow[] = [];
  const work = `${k} reactions x ${frames} frames, ${steps} steps`;
  rows.push({ module: "denoiser", parameters: count(moduleParameterShapes(cfg, "denoiser")), flops: denoiserWindowFlops(cfg) * windows * k * steps, per: work });
  rows.push({
    module: "prior",
    parameters: count(moduleParameterShapes(cfg, "prior")),
    flops: priorWindowFlops(cfg) * windows * k * cfg.diffusion_prior.scheduler.num_inference_timesteps,
    per: work,
  });
  const v = cfg.latent_embedder.args;
  const gru = (inDim: number) => 2 * 3 * v.hidden_dim * (inDim + v.hidden_dim);
  rows.push({ module: "emotion_vae", parameters: count(moduleParameterShapes(cfg, "emotion_vae")), flops: gru(v.emotion_dim) * v.window_size * windows, per: `encode the speaker's ${windows} windows` });
  const p = cfg.person_specific.args;
  const L = (options.historyFrames ?? p.seq_len) + 1;
  const D = p.embed_dim;
  const layer = 4 * 2 * L * D * D + 2 * 2 * L * L * D + 2 * 2 * L * D * p.mlp_dim;
  const pssl = 2 * (L - 1) * p.in_features * D + p.num_layers * layer + 2 * D * D + 2 * D * p.proj_dim;
  rows.push({ module: "pssl", parameters: count(moduleParameterShapes(cfg, "pssl")), flops: pssl, per: `one history of ${L - 1} frames` });
  if (cfg.main_model) {
    const n = pwsgParameterCount(pwsgConfig(cfg, options.rank));
    rows.push({ module: "hypernet", parameters: n, flops: 2 * n, per: options.rank ? `one listener, rank ${options.rank}` : "one listener, full rank" });
  }
  return rows;
}
