/**
 * The diffusion prior (official `DiffusionPriorNetwork` in `model/diffusion/diffusion_prior/transformer_prior.py`,
 * DALL-E 2 style): a causal transformer over [speaker audio window, speaker latent, speaker 3DMM window, time,
 * noisy listener latent, learned query] tokens that predicts the listener's 512-d emotion latent from the last
 * token. Attention is multi-query (one shared key/value head), cosine-similarity with scale 16, rotary
 * embeddings on the first 32 dims, T5 relative position bias and a learned null key/value.
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";
import type { DiffusionPriorConfig } from "../config";
import { detach } from "../ops/detach";
import { weightProduct } from "../ops/linear";
import { bmm, matmulLast } from "../ops/matmul";
import { linear, shapes, silu } from "./nn";
import { timestepCount } from "./denoiser";
import type { Timesteps } from "./denoiser";
import type { TrainingPass } from "./training-pass";

export interface PriorConditions {
  /** speaker_audio_encodings [B, W, audio_dim]. */
  speakerAudio?: tf.Tensor;
  /** speaker_latent_emb [B, 1, speaker_emb_dim]. */
  speakerLatent?: tf.Tensor;
  /** speaker_3dmm_encodings [B, W, _3dmm_dim]. */
  speaker3dmm?: tf.Tensor;
}

const NUM_BUCKETS = 32;
const MAX_DISTANCE = 128;

export function priorParameterShapes(c: DiffusionPriorConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const D = c.latent_dim;
  let idx = 0;
  for (let i = 0; i < c.num_time_layers; i++) {
    shapes.linear(m, `time_embed.${idx}`, i === 0 ? c.num_time_emb_channels : D, D);
    idx += i < c.num_time_layers - 1 || c.time_last_act ? 2 : 1;
  }
  if (c.audio_dim !== D) shapes.linear(m, "to_audio_encodings", c.audio_dim, D);
  if (c.speaker_emb_dim !== D) shapes.linear(m, "to_speaker_latentemb", c.speaker_emb_dim, D);
  if (c._3dmm_dim !== D) shapes.linear(m, "to_speaker_3dmmenc", c._3dmm_dim, D);
  m.set("learned_query", [D]);
  m.set("null_s_audio_encodings", [1, c.window_size, D]);
  m.set("null_s_latent_embed", [1, 1, D]);
  m.set("null_s_3dmm_encodings", [1, c.window_size, D]);
  const ct = "causal_transformer";
  if (c.norm_in) m.set(`${ct}.init_norm.g`, [D]);
  m.set(`${ct}.rel_pos_bias.relative_attention_bias.weight`, [NUM_BUCKETS, c.heads]);
  const inner = c.dim_head * c.heads;
  const ff = c.ff_mult * D;
  for (let i = 0; i < c.depth; i++) {
    const a = `${ct}.layers.${i}.0`;
    m.set(`${a}.norm.g`, [D]);
    m.set(`${a}.null_kv`, [2, c.dim_head]);
    shapes.linear(m, `${a}.to_q`, D, inner, false);
    shapes.linear(m, `${a}.to_kv`, D, 2 * c.dim_head, false);
    if (c.rotary_emb) m.set(`${a}.rotary_emb.freqs`, [Math.min(32, c.dim_head) / 2]);
    shapes.linear(m, `${a}.to_out.0`, inner, D, false);
    m.set(`${a}.to_out.1.g`, [D]);
    const f = `${ct}.layers.${i}.1`;
    m.set(`${f}.0.g`, [D]);
    shapes.linear(m, `${f}.1`, D, 2 * ff, false);
    if (c.normformer) m.set(`${f}.3.g`, [ff]);
    shapes.linear(m, `${f}.5`, ff, D, false);
  }
  if (c.norm_out) m.set(`${ct}.norm.g`, [D]);
  if (c.final_proj) shapes.linear(m, `${ct}.project_out`, D, D, false);
  return m;
}

/** The prior's gain-only LayerNorm (eps 1e-5); `stable` divides by the row max first. */
function gainNorm(w: WeightSource, name: string, x: tf.Tensor, stable = false): tf.Tensor {
  // the official divides by a detached amax: no gradient through the max
  if (stable) x = tf.div(x, detach(tf.max(x, -1, true)));
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), w.get(name));
}

/** T5 relative position buckets for queries i in [0, n) and keys j in [0, n] (key 0 is the null key). */
function relPosBuckets(n: number): Int32Array {
  const out = new Int32Array(n * (n + 1));
  const maxExact = NUM_BUCKETS / 2;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= n; j++) {
      const d = Math.max(i - j, 0);
      let b: number;
      if (d < maxExact) b = d;
      else {
        const v = Math.fround(Math.fround(Math.log(Math.fround(d / maxExact)) / Math.log(MAX_DISTANCE / maxExact)) * (NUM_BUCKETS - maxExact));
        b = Math.min(maxExact + Math.trunc(v), NUM_BUCKETS - 1);
      }
      out[i * (n + 1) + j] = b;
    }
  }
  return out;
}

/**
 * Applies rotary embeddings (interleaved pairs) to the first 2*len(freqs) features of t [..., n, d]; angles are
 * computed on the device in float32 as torch does (freqs [r/2] from the checkpoint). Written without slicing or
 * unstacking the pairs (tfjs-wasm copies a whole tensor per slice): cos/sin tables span all d features (1 and 0
 * past the rotated ones, which then pass unchanged), and the pair swap (x1, x2) -> (-x2, x1) is a product with a
 * fixed +-1 matrix, which is exact (one nonzero term per output).
 */
function rotary(t: tf.Tensor, freqs: tf.Tensor): tf.Tensor {
  const n = t.shape[t.rank - 2] as number;
  const d = t.shape[t.rank - 1] as number;
  const half = freqs.shape[0] as number;
  const rot = half * 2;
  const angles = tf.mul(tf.reshape(tf.range(0, n, 1, "float32"), [n, 1]), tf.reshape(freqs, [1, half])); // [n, r/2]
  const rep = tf.reshape(tf.tile(tf.expandDims(angles, 2), [1, 1, 2]), [n, rot]); // f0 f0 f1 f1 ...
  const pad = (x: tf.Tensor, value: number) => (rot === d ? x : tf.concat([x, tf.fill([n, d - rot], value)], 1));
  const swap = new Float32Array(d * d);
  for (let i = 0; i < half; i++) {
    swap[(2 * i + 1) * d + 2 * i] = -1;
    swap[2 * i * d + 2 * i + 1] = 1;
  }
  const swapped = matmulLast(t, tf.tensor2d(swap, [d, d]));
  return tf.add(tf.mul(t, pad(tf.cos(rep), 1)), tf.mul(swapped, pad(tf.sin(rep), 0)));
}

function l2normalize(x: tf.Tensor): tf.Tensor {
  return tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), -1, true)), 1e-12));
}

export class DiffusionPrior {
  private readonly bucketCache = new Map<number, Int32Array>();

  constructor(
    readonly config: DiffusionPriorConfig,
    readonly weights: WeightSource,
  ) {}

  private attention(w: WeightSource, p: string, x: tf.Tensor, bias: tf.Tensor, pass?: TrainingPass): tf.Tensor {
    const c = this.config;
    const [B, n] = x.shape;
    const xn = gainNorm(w, `${p}.norm.g`, x);
    let q = tf.transpose(tf.reshape(linear(w, `${p}.to_q`, xn, false), [B, n, c.heads, c.dim_head]), [0, 2, 1, 3]);
    // to_kv's two halves as two products (splitting the product's output would copy it twice on wasm)
    const Wkv = w.get(`${p}.to_kv.weight`);
    const half = (Wkv.shape[0] as number) / 2;
    let k = weightProduct(xn, Wkv, undefined, 0, half);
    const v0 = weightProduct(xn, Wkv, undefined, half, 2 * half);
    if (c.rotary_emb) {
      const freqs = w.get(`${p}.rotary_emb.freqs`);
      q = rotary(q, freqs);
      k = rotary(k, freqs);
    }
    const [nk, nv] = tf.split(w.get(`${p}.null_kv`), 2, 0); // [1, dh] each
    k = tf.concat([tf.tile(tf.reshape(nk, [1, 1, c.dim_head]), [B, 1, 1]), k], 1);
    const v = tf.concat([tf.tile(tf.reshape(nv, [1, 1, c.dim_head]), [B, 1, 1]), v0], 1);
    // cosine similarity, both sides scaled by sqrt(16)
    q = tf.mul(l2normalize(q), 4);
    k = tf.mul(l2normalize(k), 4);
    // one key/value head shared by every query head: the heads' queries are rows of one product per batch entry
    const qRows = tf.reshape(q, [B, c.heads * n, c.dim_head]) as tf.Tensor3D;
    let sim: tf.Tensor = tf.reshape(bmm(qRows, tf.transpose(k, [0, 2, 1]) as tf.Tensor3D), [B, c.heads, n, n + 1]);
    sim = tf.add(sim, bias);
    // causal mask as an added -max_float (broadcast; a where() would tile the mask to sim's shape): masked
    // scores become about -3.4e38 and their softmax weights exactly 0, as with the official masked_fill
    const mask = new Float32Array(n * (n + 1));
    for (let i = 0; i < n; i++) for (let j = i + 2; j <= n; j++) mask[i * (n + 1) + j] = -3.4028234663852886e38;
    sim = tf.add(sim, tf.tensor2d(mask, [n, n + 1]));
    let attn = tf.softmax(sim, -1);
    if (pass) attn = pass.dropout(attn, c.attn_dropout);
    const out = tf.reshape(bmm(tf.reshape(attn, [B, c.heads * n, n + 1]) as tf.Tensor3D, v as tf.Tensor3D), [B, c.heads, n, c.dim_head]);
    const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [B, n, c.heads * c.dim_head]);
    return gainNorm(w, `${p}.to_out.1.g`, linear(w, `${p}.to_out.0`, merged, false));
  }

  private feedForward(w: WeightSource, p: string, x: tf.Tensor, pass?: TrainingPass): tf.Tensor {
    const xn = gainNorm(w, `${p}.0.g`, x);
    const W = w.get(`${p}.1.weight`);
    const half = (W.shape[0] as number) / 2; // the GEGLU halves as two products (no split)
    let h = tf.mul(weightProduct(xn, W, undefined, 0, half), silu(weightProduct(xn, W, undefined, half, 2 * half)));
    if (this.config.normformer) h = gainNorm(w, `${p}.3.g`, h);
    if (pass) h = pass.dropout(h, this.config.ff_dropout);
    return linear(w, `${p}.5`, h, false);
  }

  private transformer(w: WeightSource, tokens: tf.Tensor, pass?: TrainingPass): tf.Tensor {
    const c = this.config;
    const ct = "causal_transformer";
    const n = tokens.shape[1] as number;
    let x = c.norm_in ? gainNorm(w, `${ct}.init_norm.g`, tokens) : tokens;
    let buckets = this.bucketCache.get(n);
    if (!buckets) this.bucketCache.set(n, (buckets = relPosBuckets(n)));
    const table = w.get(`${ct}.rel_pos_bias.relative_attention_bias.weight`);
    // training: the table's rows picked by a one-hot product, which every backend differentiates (gather's gradient,
    // UnsortedSegmentSum, has no wasm kernel); exact (one nonzero term per output). Inference keeps the gather.
    const rows = pass
      ? tf.matMul(tf.oneHot(tf.tensor1d(buckets, "int32"), NUM_BUCKETS, 1, 0, "float32") as tf.Tensor2D, table as tf.Tensor2D)
      : tf.gather(table, tf.tensor1d(buckets, "int32"));
    const bias = tf.transpose(tf.reshape(rows, [n, n + 1, c.heads]), [2, 0, 1]);
    for (let i = 0; i < c.depth; i++) {
      const prev = x;
      x = tf.tidy(() => {
        const h = tf.add(this.attention(w, `${ct}.layers.${i}.0`, prev, bias, pass), prev);
        return tf.add(this.feedForward(w, `${ct}.layers.${i}.1`, h, pass), h);
      });
    }
    if (c.norm_out) x = gainNorm(w, `${ct}.norm.g`, x, true);
    return c.final_proj ? linear(w, `${ct}.project_out`, x, false) : x;
  }

  private timeEmbed(w: WeightSource, t: Timesteps): tf.Tensor {
    const c = this.config;
    const dim = c.num_time_emb_channels;
    const half = Math.floor(dim / 2);
    const freqs = new Float32Array(half);
    // official timestep_embedding: float32 frequencies, cos first, then sin
    for (let i = 0; i < half; i++) freqs[i] = Math.exp(Math.fround(Math.fround(Math.fround(-Math.log(10000)) * i) / half));
    const tt = Array.isArray(t) ? tf.tensor1d(t, "float32") : tf.cast(t, "float32");
    const args = tf.mul(tf.reshape(tt, [-1, 1]), tf.tensor2d(freqs, [1, half]));
    const B = args.shape[0];
    let x: tf.Tensor = tf.concat([tf.cos(args), tf.sin(args)], 1);
    let idx = 0;
    for (let i = 0; i < c.num_time_layers; i++) {
      x = linear(w, `time_embed.${idx}`, x);
      if (i < c.num_time_layers - 1 || c.time_last_act) {
        x = silu(x);
        idx += 2;
      } else idx += 1;
    }
    return tf.reshape(x, [B, 1, c.latent_dim]);
  }

  /**
   * One denoising step: x_t [B, 1, latent_dim], timesteps [B], conditions -> predicted listener latent
   * [B, 1, latent_dim]. `useNull` replaces every condition with the learned null tokens (the unconditional branch).
   */
  forward(xT: tf.Tensor, timesteps: Timesteps, cond: PriorConditions, useNull = false, weights: WeightSource = this.weights): tf.Tensor {
    return this.run(xT, timesteps, cond, { useNull }, weights);
  }

  /**
   * The official training forward (`PriorLatentDiffusion.denoise`'s model call): each condition replaced by its
   * learned null tokens per batch element with its configured probability (`s_*_cond_drop_prob`), and dropout
   * (`attn_dropout`, `ff_dropout`), all drawn from `pass`. -> [B, 1, latent_dim].
   */
  forwardTrain(xT: tf.Tensor, timesteps: Timesteps, cond: PriorConditions, pass: TrainingPass, weights: WeightSource = this.weights): tf.Tensor {
    return this.run(xT, timesteps, cond, { pass }, weights);
  }

  private run(xT: tf.Tensor, timesteps: Timesteps, cond: PriorConditions, o: { useNull?: boolean; pass?: TrainingPass }, weights: WeightSource): tf.Tensor {
    const c = this.config;
    const D = c.latent_dim;
    if (xT.rank !== 3 || xT.shape[1] !== 1 || xT.shape[2] !== D) throw new Error(`x_t must be [batch, 1, ${D}], got [${xT.shape}]`);
    const B = xT.shape[0];
    const nt = timestepCount(timesteps);
    if (nt !== B) throw new Error(`timesteps has ${nt} entries for a batch of ${B}`);
    const check = (name: string, x: tf.Tensor | undefined, len: number, dim: number) => {
      if (x && (x.rank !== 3 || x.shape[0] !== B || x.shape[1] !== len || x.shape[2] !== dim)) {
        throw new Error(`${name} must be [${B}, ${len}, ${dim}], got [${x.shape}]`);
      }
    };
    check("speakerAudio", cond.speakerAudio, c.window_size, c.audio_dim);
    check("speakerLatent", cond.speakerLatent, 1, c.speaker_emb_dim);
    check("speaker3dmm", cond.speaker3dmm, c.window_size, c._3dmm_dim);
    const w = weights;
    return tf.tidy(() => {
      const lin = (name: string, x: tf.Tensor, inDim: number) => (inDim === D ? x : linear(w, name, x));
      // the learned null tokens replace a condition: all of them (the unconditional branch), or per batch element
      // with the condition's drop probability (training)
      const pick = (x: tf.Tensor, nullName: string, dropProb: number) => {
        if (o.useNull) return tf.tile(w.get(nullName), [B, 1, 1]);
        if (!o.pass || dropProb <= 0) return x;
        const drop = tf.tensor3d(o.pass.bernoulli(B, dropProb), [B, 1, 1]);
        return tf.add(tf.mul(x, tf.sub(1, drop)), tf.mul(w.get(nullName), drop));
      };
      const tokens: tf.Tensor[] = [];
      if (cond.speakerAudio) tokens.push(pick(lin("to_audio_encodings", cond.speakerAudio, c.audio_dim), "null_s_audio_encodings", c.s_audio_cond_drop_prob));
      if (cond.speakerLatent) tokens.push(pick(lin("to_speaker_latentemb", cond.speakerLatent, c.speaker_emb_dim), "null_s_latent_embed", c.s_latentemb_cond_drop_prob));
      if (cond.speaker3dmm) tokens.push(pick(lin("to_speaker_3dmmenc", cond.speaker3dmm, c._3dmm_dim), "null_s_3dmm_encodings", c.s_3dmm_cond_drop_prob));
      tokens.push(this.timeEmbed(w, timesteps), xT);
      if (c.use_learned_query) tokens.push(tf.tile(tf.reshape(w.get("learned_query"), [1, 1, D]), [B, 1, 1]));
      const out = this.transformer(w, tf.concat(tokens, 1), o.pass);
      return tf.slice(out, [0, (out.shape[1] as number) - 1, 0], [B, 1, D]);
    });
  }

  /** The official forward_with_cond_scale: conditional output, guided against the null branch when scale > 1. */
  forwardWithCondScale(xT: tf.Tensor, timesteps: Timesteps, cond: PriorConditions, guidanceScale = this.config.guidance_scale): tf.Tensor {
    const logits = this.forward(xT, timesteps, cond);
    if (guidanceScale <= 1) return logits;
    const nul = this.forward(xT, timesteps, cond, true);
    const out = tf.tidy(() => tf.add(nul, tf.mul(tf.sub(logits, nul), guidanceScale)));
    logits.dispose();
    nul.dispose();
    return out;
  }
}
