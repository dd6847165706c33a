/**
 * GAFRG's TransformerDenoiser (official `model/diffusion/diffusion_decoder/transformer_denoiser.py`, arch
 * `trans_dec`, condition_concat `token_concat`): the noisy listener window [B, W, 25] is embedded, given learned
 * positions and decoded by post-norm transformer decoder layers that cross-attend to a memory of condition tokens
 * (time token, projected speaker audio / 3DMM / emotion windows, speaker and listener latent embeddings, ...).
 * It predicts x0 (the clean window). Parameter names are the official ones.
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";
import type { DenoiserConfig } from "../config";
import type { AttentionMemory } from "../ops/attention";
import { attentionMemory, decoderLayer, layerNorm, linear, shapes, silu } from "./nn";
import type { TrainingPass } from "./training-pass";

/** Condition tensors, named after the official `model_kwargs`. Each is optional. */
export interface DenoiserConditions {
  /** speaker_audio_encodings [B, W, s_audio_dim] (78-d MFCC features of the previous speaker window). */
  speakerAudio?: tf.Tensor;
  /** speaker_3dmm_encodings [B, W, s_3dmm_dim]. */
  speaker3dmm?: tf.Tensor;
  /** speaker_emotion_encodings [B, W, s_emotion_dim]. */
  speakerEmotion?: tf.Tensor;
  /** speaker_latent_embed [B, 1, s_embed_dim] (emotion VAE encoding of the speaker window). */
  speakerLatent?: tf.Tensor;
  /** listener_latent_embed [B, 1, l_embed_dim] (the diffusion prior's output). */
  listenerLatent?: tf.Tensor;
  /** listener_personal_embed [B, 1, personal_emb_dim]. */
  listenerPersonal?: tf.Tensor;
  /** past_listener_emotion [B, W, nfeats]. */
  pastListenerEmotion?: tf.Tensor;
}

const POS_LEN = 500; // PositionEmbeddingLearned1D max_len in the official code

/** Official parameter names and shapes for a configuration. */
export function denoiserParameterShapes(c: DenoiserConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const D = c.latent_dim;
  if (c.nfeats !== D) {
    shapes.linear(m, "to_emotion_embed", c.nfeats, D);
    shapes.linear(m, "to_emotion_feat", D, c.nfeats);
  }
  shapes.linear(m, "time_embedding.linear_1", c.time_encoded_dim, D);
  shapes.linear(m, "time_embedding.linear_2", D, D);
  if (c.s_embed_dim !== D) shapes.linear(m, "speaker_latent_proj.1", c.s_embed_dim, D);
  if (c.l_embed_dim !== D) shapes.linear(m, "listener_latent_proj.1", c.l_embed_dim, D);
  if (c.s_audio_dim !== D) shapes.linear(m, "speaker_audio_proj", c.s_audio_dim, D);
  if (!c.encode_3dmm) shapes.linear(m, "speaker_3dmm_proj", c.s_3dmm_dim, D);
  if (!c.encode_emotion) shapes.linear(m, "speaker_emotion_proj", c.s_emotion_dim, D);
  if (c.personal_emb_dim !== D) shapes.linear(m, "listener_personal_proj", c.personal_emb_dim, D);
  if (c.nfeats !== D) shapes.linear(m, "listener_emotion_proj", c.nfeats, D);
  m.set("query_pos.pe", [POS_LEN, 1, D]);
  m.set("mem_pos.pe", [POS_LEN, 1, D]);
  for (let i = 0; i < c.num_layers; i++) {
    const p = `decoder.layers.${i}`;
    shapes.mha(m, `${p}.self_attn`, D);
    shapes.mha(m, `${p}.multihead_attn`, D);
    shapes.linear(m, `${p}.linear1`, D, c.ff_size);
    shapes.linear(m, `${p}.linear2`, c.ff_size, D);
    for (const n of ["norm1", "norm2", "norm3"]) shapes.layerNorm(m, `${p}.${n}`, D);
  }
  shapes.layerNorm(m, "decoder.norm", D);
  return m;
}

/** Timesteps as given by callers: plain numbers, or a [B] tensor (samplers pass int32 tensors). */
export type Timesteps = number[] | tf.Tensor1D;

/** float32 frequencies exp(-ln(10000) i / (half - shift)), computed with torch's float32 steps. */
function timestepFreqs(half: number, freqShift: number): Float32Array {
  const f = new Float32Array(half);
  for (let i = 0; i < half; i++) {
    const e = Math.fround(Math.fround(Math.fround(-Math.log(10000)) * i) / (half - freqShift));
    f[i] = Math.exp(e);
  }
  return f;
}

/**
 * Sinusoidal timestep features as diffusers' `get_timestep_embedding` (the official Timesteps module), computed
 * on the device (no GPU read-back): t [B] -> [B, dim].
 */
export function timestepFeatures(t: Timesteps, dim: number, flipSinToCos: boolean, freqShift: number): tf.Tensor2D {
  return tf.tidy(() => {
    const half = Math.floor(dim / 2);
    const tt = Array.isArray(t) ? tf.tensor1d(t, "float32") : tf.cast(t, "float32");
    const args = tf.mul(tf.reshape(tt, [-1, 1]), tf.tensor2d(timestepFreqs(half, freqShift), [1, half]));
    const parts = flipSinToCos ? [tf.cos(args), tf.sin(args)] : [tf.sin(args), tf.cos(args)];
    if (dim % 2) parts.push(tf.zeros([args.shape[0], 1]));
    return tf.concat(parts, 1) as tf.Tensor2D;
  });
}

/** Batch size of a timestep argument, checking numbers for NaN. */
export function timestepCount(t: Timesteps): number {
  if (Array.isArray(t)) {
    if (t.some((v) => !Number.isFinite(v))) throw new Error("timesteps contain NaN or infinity");
    return t.length;
  }
  if (t.rank !== 1) throw new Error(`timesteps must be [batch], got [${t.shape}]`);
  return t.shape[0];
}

function checkCond(name: string, x: tf.Tensor | undefined, B: number, len: number | null, dim: number): void {
  if (!x) return;
  if (x.rank !== 3 || x.shape[0] !== B || (len !== null && x.shape[1] !== len) || x.shape[2] !== dim) {
    throw new Error(`${name} must be [${B}, ${len ?? "L"}, ${dim}], got [${x.shape}]`);
  }
}

/**
 * Cross-attention keys/values of the condition tokens, per decoder layer. The conditions do not change along a
 * sampling chain, so these projections are made once per generation instead of at every step (only the time token
 * is projected per step). Built for given weights: rebuild after personalising. Dispose when done.
 */
export interface ConditionCache {
  readonly batch: number;
  readonly guided: boolean;
  /** Per decoder layer, the condition tokens' keys and values. */
  readonly layers: AttentionMemory[];
  dispose(): void;
}

export class TransformerDenoiser {
  constructor(
    readonly config: DenoiserConfig,
    readonly weights: WeightSource,
  ) {}

  /**
   * Projects the given conditions into memory tokens, in the official order; dropped conditions give none. With a
   * training pass, each batch element's token of a condition is zeroed with the condition's drop probability after
   * its projection (the official `mask_cond` in training mode).
   */
  private conditionTokens(w: WeightSource, c: DenoiserConditions, pass?: TrainingPass): tf.Tensor[] {
    const cfg = this.config;
    const D = cfg.latent_dim;
    const lin = (name: string, x: tf.Tensor, inDim: number) => (inDim === D ? x : linear(w, name, x));
    const out: tf.Tensor[] = [];
    const use = (x: tf.Tensor | undefined, p: number) => x !== undefined && p < 1;
    const masked = (token: tf.Tensor, p: number) => {
      if (!pass || p <= 0) return token;
      const B = token.shape[0] as number;
      const drop = pass.bernoulli(B, p);
      return tf.mul(token, tf.tensor3d(drop.map((d) => 1 - d), [B, 1, 1]));
    };
    if (use(c.speakerAudio, cfg.s_audio_enc_drop_prob)) out.push(tf.mul(masked(lin("speaker_audio_proj", c.speakerAudio!, cfg.s_audio_dim), cfg.s_audio_enc_drop_prob), cfg.s_audio_scale));
    if (use(c.speaker3dmm, cfg.s_3dmm_enc_drop_prob)) out.push(masked(cfg.encode_3dmm ? c.speaker3dmm! : linear(w, "speaker_3dmm_proj", c.speaker3dmm!), cfg.s_3dmm_enc_drop_prob));
    if (use(c.speakerEmotion, cfg.s_emotion_enc_drop_prob)) out.push(masked(cfg.encode_emotion ? c.speakerEmotion! : linear(w, "speaker_emotion_proj", c.speakerEmotion!), cfg.s_emotion_enc_drop_prob));
    if (use(c.speakerLatent, cfg.s_latent_embed_drop_prob)) out.push(masked(cfg.s_embed_dim === D ? c.speakerLatent! : linear(w, "speaker_latent_proj.1", tf.relu(c.speakerLatent!)), cfg.s_latent_embed_drop_prob));
    if (use(c.listenerLatent, cfg.l_latent_embed_drop_prob)) out.push(masked(cfg.l_embed_dim === D ? c.listenerLatent! : linear(w, "listener_latent_proj.1", tf.relu(c.listenerLatent!)), cfg.l_latent_embed_drop_prob));
    if (use(c.pastListenerEmotion, cfg.past_l_emotion_drop_prob)) out.push(masked(lin("listener_emotion_proj", c.pastListenerEmotion!, cfg.nfeats), cfg.past_l_emotion_drop_prob));
    if (use(c.listenerPersonal, cfg.l_personal_embed_drop_prob)) out.push(masked(lin("listener_personal_proj", c.listenerPersonal!, cfg.personal_emb_dim), cfg.l_personal_embed_drop_prob));
    return out;
  }

  private validate(sample: tf.Tensor, timesteps: Timesteps, c: DenoiserConditions): number {
    const cfg = this.config;
    if (sample.rank !== 3 || sample.shape[2] !== cfg.nfeats) {
      throw new Error(`sample must be [batch, frames, ${cfg.nfeats}], got [${sample.shape}]`);
    }
    const B = sample.shape[0];
    const nt = timestepCount(timesteps);
    if (nt !== B) throw new Error(`timesteps has ${nt} entries for a batch of ${B}`);
    const W = sample.shape[1] as number;
    checkCond("speakerAudio", c.speakerAudio, B, W, cfg.s_audio_dim);
    checkCond("speaker3dmm", c.speaker3dmm, B, W, cfg.encode_3dmm ? cfg.latent_dim : cfg.s_3dmm_dim);
    checkCond("speakerEmotion", c.speakerEmotion, B, W, cfg.encode_emotion ? cfg.latent_dim : cfg.s_emotion_dim);
    checkCond("speakerLatent", c.speakerLatent, B, 1, cfg.s_embed_dim);
    checkCond("listenerLatent", c.listenerLatent, B, 1, cfg.l_embed_dim);
    checkCond("listenerPersonal", c.listenerPersonal, B, 1, cfg.personal_emb_dim);
    checkCond("pastListenerEmotion", c.pastListenerEmotion, B, W, cfg.nfeats);
    return B;
  }

  /**
   * Runs the decoder on sample [B, W, nfeats] with memory [B, M, D] (or the time token [B, 1, D] + a cache); a
   * training pass adds the layers' dropout.
   */
  private core(w: WeightSource, sample: tf.Tensor, memory: tf.Tensor, cache?: ConditionCache, pass?: TrainingPass): tf.Tensor {
    const cfg = this.config;
    const W = sample.shape[1] as number;
    const M = cache ? 1 + (cache.layers[0]?.length ?? 0) : (memory.shape[1] as number);
    if (W > POS_LEN || M > POS_LEN) throw new Error(`window ${W} or memory ${M} exceeds the ${POS_LEN} learned positions`);
    const D = cfg.latent_dim;
    let x = cfg.nfeats === D ? sample : linear(w, "to_emotion_embed", sample);
    x = tf.add(x, tf.reshape(tf.slice(w.get("query_pos.pe"), [0, 0, 0], [W, 1, D]), [1, W, D]));
    const memLen = cache ? 1 : M;
    const mem = tf.add(memory, tf.reshape(tf.slice(w.get("mem_pos.pe"), [0, 0, 0], [memLen, 1, D]), [1, memLen, D]));
    for (let i = 0; i < cfg.num_layers; i++) {
      // a tidy per layer frees its intermediates at once (large batches otherwise exhaust wasm memory)
      const prev = x;
      x = tf.tidy(() => {
        const p = `decoder.layers.${i}`;
        // the time token's keys/values come first, as in the uncached memory
        const kv = cache ? attentionMemory(w, `${p}.multihead_attn`, mem, cfg.num_heads).join(cache.layers[i]!) : undefined;
        return decoderLayer(w, p, prev, mem, cfg.num_heads, cfg.activation, kv, pass && { pass, rate: cfg.dropout });
      });
    }
    x = layerNorm(w, "decoder.norm", x);
    return cfg.nfeats === D ? x : linear(w, "to_emotion_feat", x);
  }

  private timeToken(w: WeightSource, timesteps: Timesteps): tf.Tensor {
    const cfg = this.config;
    const f = timestepFeatures(timesteps, cfg.time_encoded_dim, cfg.flip_sin_to_cos, cfg.freq_shift);
    const e = linear(w, "time_embedding.linear_2", silu(linear(w, "time_embedding.linear_1", f)));
    return tf.expandDims(e, 1); // [B, 1, D]
  }

  /**
   * Conditional x0 prediction (no condition dropout): sample [B, W, nfeats], timesteps [B] -> [B, W, nfeats].
   * `weights` overrides the base weights (e.g. an EditedWeights overlay from the hypernetwork).
   */
  forward(sample: tf.Tensor, timesteps: Timesteps, cond: DenoiserConditions, weights: WeightSource = this.weights): tf.Tensor {
    this.validate(sample, timesteps, cond);
    return tf.tidy(() => {
      const memory = tf.concat([this.timeToken(weights, timesteps), ...this.conditionTokens(weights, cond)], 1);
      return this.core(weights, sample, memory);
    });
  }

  /**
   * The official training forward (`DecoderLatentDiffusion.denoise`'s model call in train mode): the prediction for
   * sample [B, W, nfeats] at timesteps [B], with each condition dropped per batch element with its configured
   * probability and dropout (config `dropout`) in the decoder layers, all drawn from `pass`. -> [B, W, nfeats].
   */
  forwardTrain(sample: tf.Tensor, timesteps: Timesteps, cond: DenoiserConditions, pass: TrainingPass, weights: WeightSource = this.weights): tf.Tensor {
    this.validate(sample, timesteps, cond);
    return tf.tidy(() => {
      const memory = tf.concat([this.timeToken(weights, timesteps), ...this.conditionTokens(weights, cond, pass)], 1);
      return this.core(weights, sample, memory, undefined, pass);
    });
  }

  /**
   * Precomputes the condition tokens' cross-attention keys/values for every layer (see {@link ConditionCache}).
   * `guided` builds the doubled [uncond; cond] batch used by forwardWithCondScale.
   */
  conditionCache(cond: DenoiserConditions, batch: number, guided = true, weights: WeightSource = this.weights): ConditionCache {
    const cfg = this.config;
    const D = cfg.latent_dim;
    let layers: AttentionMemory[] = [];
    tf.tidy(() => {
      const toks = this.conditionTokens(weights, cond);
      for (const t of toks) {
        if (t.shape[0] !== batch) throw new Error(`condition batch ${t.shape[0]} does not match ${batch}`);
      }
      let mem = toks.length ? tf.concat(toks, 1) : tf.zeros([batch, 0, D]);
      if (guided) mem = tf.concat([tf.zerosLike(mem), mem], 0);
      const M = mem.shape[1] as number;
      if (M + 1 > POS_LEN) throw new Error(`memory ${M + 1} exceeds the ${POS_LEN} learned positions`);
      mem = tf.add(mem, tf.reshape(tf.slice(weights.get("mem_pos.pe"), [1, 0, 0], [M, 1, D]), [1, M, D]));
      const m = mem;
      const made = Array.from({ length: cfg.num_layers }, (_, i) => attentionMemory(weights, `decoder.layers.${i}.multihead_attn`, m, cfg.num_heads));
      made.forEach((l) => l.keep());
      layers = made;
    });
    return {
      batch,
      guided,
      layers,
      dispose: () => layers.forEach((l) => l.dispose()),
    };
  }

  /**
   * forwardWithCondScale with the conditions taken from a cache made by {@link conditionCache} (same weights). An
   * unguided cache gives the conditional prediction (guidance 1) at half the cost.
   */
  forwardCached(sample: tf.Tensor, timesteps: Timesteps, cache: ConditionCache, guidanceScale = this.config.guidance_scale, weights: WeightSource = this.weights): tf.Tensor {
    const B = this.validate(sample, timesteps, {});
    if (B !== cache.batch) throw new Error(`sample batch ${B} does not match the condition cache's ${cache.batch}`);
    return tf.tidy(() => {
      const time = this.timeToken(weights, timesteps);
      if (!cache.guided) return this.core(weights, sample, time, cache);
      const out = this.core(weights, tf.concat([sample, sample], 0), tf.concat([time, time], 0), cache);
      const [u, c] = tf.split(out, [B, B], 0);
      return tf.add(u, tf.mul(tf.sub(c, u), guidanceScale));
    });
  }

  /**
   * Classifier-free guided prediction as the official `forward_with_cond_scale`: the unconditional branch sees
   * the same time token with every condition token zeroed; returns uncond + g * (cond - uncond), [B, W, nfeats].
   * With g = 1 only the conditional branch runs.
   */
  forwardWithCondScale(
    sample: tf.Tensor,
    timesteps: Timesteps,
    cond: DenoiserConditions,
    guidanceScale = this.config.guidance_scale,
    weights: WeightSource = this.weights,
  ): tf.Tensor {
    const B = this.validate(sample, timesteps, cond);
    return tf.tidy(() => {
      const time = this.timeToken(weights, timesteps);
      const condTokens = this.conditionTokens(weights, cond);
      const memC = tf.concat([time, ...condTokens], 1);
      // uncond + 1 * (cond - uncond) is the conditional branch: skip the unconditional one
      if (guidanceScale === 1) return this.core(weights, sample, memC);
      const memU = tf.concat([time, ...condTokens.map((t) => tf.zerosLike(t))], 1);
      const out = this.core(weights, tf.concat([sample, sample], 0), tf.concat([memU, memC], 0));
      const [u, c] = tf.split(out, [B, B], 0);
      return tf.add(u, tf.mul(tf.sub(c, u), guidanceScale));
    });
  }
}
