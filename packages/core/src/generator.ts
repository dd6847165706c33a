/**
 * Personalised reaction generation, composed as the official test-time pipeline (`LatentMatcher` + `MainNetUnified`):
 * the listener's 3DMM history -> PSSL projection -> PWSG weight edits on the denoiser (personalise); then for a
 * speaker clip cut into 50-frame windows, listener window t is sampled conditioned on the speaker's window t-1 (the
 * first on zeros), all windows and K reactions in one batch, with classifier-free guidance inside the denoiser as
 * the official `forward_with_cond_scale` does, and the samplers of @perfrdiff/diffusion.
 */
import * as tf from "@tensorflow/tfjs";
import { DDIMSampler, DDPMSampler, DPMSolverPP2MSampler, makeSchedule } from "@perfrdiff/diffusion";
import type { Denoiser, NoiseSchedule, Prediction, ScheduleName, TimestepSpacing } from "@perfrdiff/diffusion";
import { PWSG } from "@perfrdiff/hypernet";
import type { EditedWeights, TensorMap, WeightSource } from "@perfrdiff/hypernet";
import { useBackend } from "./backend";
import type { BackendName } from "./backend";
import { moduleParameterShapes, pwsgConfig } from "./checkpoints";
import type { ModuleName } from "./checkpoints";
import { officialConfig, parseConfig } from "./config";
import type { PerFRDiffConfig, SchedulerConfig } from "./config";
import { loadWeightFile, loadWeightFileFromPath } from "./convert";
import { TransformerDenoiser } from "./modules/denoiser";
import type { DenoiserConditions } from "./modules/denoiser";
import { DiffusionPrior } from "./modules/prior";
import { EmotionVAE } from "./modules/emotionVae";
import { PersonSpecificEncoder } from "./modules/pssl";
import { memoryTensors } from "./modules/nn";

export type SamplerName = "ddim" | "ddpm" | "dpm-solver++";

/** Module weights: live tensors, or our weight-file bytes (from `perfrdiff import-torch`). */
export type ModuleWeights = Partial<Record<ModuleName, TensorMap | Uint8Array>>;

export interface ReactionGeneratorOptions {
  /**
   * A folder written by `perfrdiff import-torch` (Node: `<module>.safetensors` + `config.yaml`), or the modules'
   * weights directly. Needs denoiser and emotion_vae; pssl + hypernet for personalisation; prior only when the
   * configuration feeds its output to the denoiser (the official one drops it: l_latent_embed_drop_prob = 1).
   */
  checkpoint: string | ModuleWeights;
  /** Defaults to the folder's config.yaml, else the official configuration. */
  config?: PerFRDiffConfig;
  /** tfjs backend (default: wasm in Node, webgpu in a browser with an adapter). */
  backend?: BackendName;
}

export interface SpeakerClip {
  /** [T, 78] audio features (official MFCC + deltas per video frame). */
  audio: tf.Tensor2D;
  /** [T, 25] emotion. */
  emotion: tf.Tensor2D;
  /** [T, 58] 3DMM coefficients. */
  threeDmm: tf.Tensor2D;
}

export interface GenerateOptions {
  /** Reactions per clip (default 10). */
  k?: number;
  /** Sampler steps (default: the config's num_inference_timesteps, 50; 10-20 suit dpm-solver++). */
  steps?: number;
  /** Default "ddim", the official sampler. */
  sampler?: SamplerName;
  /** Classifier-free guidance scale (default: the config's, 7.5). */
  guidance?: number;
  /** Seed of the counter-based noise (default 0). */
  seed?: number;
  /** Also return 58-d face coefficients from the emotion VAE's regressor (coeff_reg). */
  faceCoefficients?: boolean;
  /**
   * Called after every sampler step of each diffusion chain (the prior's, when the configuration uses it, then the
   * decoder's); may return a promise (awaited). For progress bars.
   */
  onProgress?: (p: GenerationProgress) => void | Promise<void>;
}

/** One finished sampler step of a generation. */
export interface GenerationProgress {
  /** Which diffusion chain: the latent prior (only when the configuration uses its output) or the reaction decoder. */
  stage: "prior" | "decoder";
  /** 0-based step index within the stage. */
  step: number;
  /** Steps of this stage. */
  totalSteps: number;
}

export interface GeneratedReactions {
  /** [K, T, 25] listener emotion. Caller disposes. */
  emotion: tf.Tensor3D;
  /** [K, T, 58] when asked for. */
  faceCoefficients?: tf.Tensor3D;
}

const PREDICTIONS: Record<string, Prediction> = { start_x: "x0", epsilon: "eps", eps: "eps", v: "v" };

function sampler(s: SchedulerConfig, name: SamplerName) {
  const schedule: NoiseSchedule = makeSchedule(s.noise_schedule as ScheduleName, s.num_train_timesteps);
  const prediction = PREDICTIONS[s.predict];
  if (!prediction) throw new Error(`scheduler predict '${s.predict}' is not supported`);
  const base = { schedule, prediction, clip: [-1, 1] as const, spacing: s.timestep_spacing as TimestepSpacing };
  switch (name) {
    case "ddim":
      return new DDIMSampler({ ...base, eta: 0, finalAlpha: "first" }); // the official loop
    case "ddpm":
      return new DDPMSampler({ ...base, variance: s.var_type === "fixed_small" ? "fixed_small" : "fixed_large" });
    case "dpm-solver++":
      return new DPMSolverPP2MSampler(base);
    default:
      throw new Error(`unknown sampler '${String(name)}' (ddim, ddpm or dpm-solver++)`);
  }
}

/** Shifts a clip [T, D] one window later (zeros first) and cuts it into windows [T/W, W, D]. */
function previousWindows(x: tf.Tensor2D, W: number): tf.Tensor3D {
  const [T, D] = x.shape;
  const shifted = tf.concat([tf.zeros([W, D]), tf.slice(x, [0, 0], [T - W, D])], 0);
  return tf.reshape(shifted, [T / W, W, D]);
}

export class ReactionGenerator {
  private personal: EditedWeights | null = null;
  private readonly denoiser: TransformerDenoiser;
  private readonly vae: EmotionVAE;
  private readonly prior: DiffusionPrior | null;
  private readonly pssl: PersonSpecificEncoder | null;
  private readonly pwsg: PWSG | null;

  constructor(
    readonly config: PerFRDiffConfig,
    private readonly weights: Partial<Record<ModuleName, TensorMap>>,
    readonly backend: string,
  ) {
    const need = (m: ModuleName) => {
      const w = weights[m];
      if (!w) throw new Error(`the checkpoint has no ${m} weights`);
      return w;
    };
    this.denoiser = new TransformerDenoiser(config.diffusion_decoder.args, need("denoiser"));
    this.vae = new EmotionVAE(config.latent_embedder.args, need("emotion_vae"));
    this.prior = config.diffusion_decoder.args.l_latent_embed_drop_prob < 1 ? new DiffusionPrior(config.diffusion_prior.args, need("prior")) : null;
    this.pssl = weights.pssl ? new PersonSpecificEncoder(config.person_specific.args, weights.pssl) : null;
    this.pwsg = weights.hypernet && config.main_model ? PWSG.fromWeights(pwsgConfig(config), weights.hypernet.tensors) : null;
  }

  /**
   * Personalises the denoiser for one listener: history [T, 58] (or [1, T, 58]) of their 3DMM coefficients ->
   * PSSL projection -> PWSG edits, held as an overlay (the base weights are never changed).
   */
  personalise(listenerHistory: tf.Tensor): void {
    if (!this.pssl || !this.pwsg) throw new Error("personalisation needs the pssl and hypernet weights in the checkpoint");
    const h = listenerHistory.rank === 2 ? tf.expandDims(listenerHistory, 0) : listenerHistory;
    if (h.rank !== 3 || h.shape[0] !== 1) throw new Error(`listener history must be [frames, 58] or [1, frames, 58], got [${listenerHistory.shape}]`);
    const { feat, proj } = this.pssl.forward(h);
    const edited = this.pwsg.personalise(this.denoiser.weights, proj);
    tf.dispose([feat, proj]);
    if (h !== listenerHistory) h.dispose();
    this.resetPersonalisation();
    this.personal = edited;
  }

  /** Back to the generic (base) denoiser. */
  resetPersonalisation(): void {
    this.personal?.dispose();
    this.personal = null;
  }

  get personalised(): boolean {
    return this.personal !== null;
  }

  /** Generates K reactions [K, T, 25] to a speaker clip of T frames (T a multiple of the 50-frame window). */
  async generate(speaker: SpeakerClip, o: GenerateOptions = {}): Promise<GeneratedReactions> {
    const cfg = this.config;
    const dc = cfg.diffusion_decoder.args;
    const W = dc.window_size;
    const k = o.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
    const check = (name: string, x: tf.Tensor, d: number) => {
      if (!x || x.rank !== 2 || x.shape[1] !== d) throw new Error(`speaker ${name} must be [frames, ${d}], got [${x?.shape}]`);
    };
    check("audio", speaker.audio, dc.s_audio_dim);
    check("emotion", speaker.emotion, dc.s_emotion_dim);
    check("threeDmm", speaker.threeDmm, dc.s_3dmm_dim);
    const T = speaker.audio.shape[0];
    if (speaker.emotion.shape[0] !== T || speaker.threeDmm.shape[0] !== T) {
      throw new Error(`speaker audio, emotion and threeDmm have ${T}, ${speaker.emotion.shape[0]} and ${speaker.threeDmm.shape[0]} frames`);
    }
    if (T === 0 || T % W !== 0) throw new Error(`clip length ${T} must be a positive multiple of the ${W}-frame window`);
    for (const [n, x] of Object.entries(speaker)) {
      const ok = tf.tidy(() => tf.all(tf.isFinite(x as tf.Tensor)));
      const finite = (await ok.data())[0];
      ok.dispose();
      if (!finite) throw new Error(`speaker ${n} contains NaN or infinity`);
    }
    const nW = T / W;
    const B = nW * k;
    const guidance = o.guidance ?? dc.guidance_scale;
    // Conditions per (window, reaction), window-major as the official repeat_interleave(k).
    const rep = (x: tf.Tensor) => {
      const s = x.shape;
      return tf.reshape(tf.tile(tf.expandDims(x, 1), [1, k, ...s.slice(1).map(() => 1)]), [B, ...s.slice(1)]);
    };
    const cond: DenoiserConditions = tf.tidy(() => {
      const audio = previousWindows(speaker.audio, W);
      const emo = previousWindows(speaker.emotion, W);
      const mm = previousWindows(speaker.threeDmm, W);
      const latent = tf.expandDims(this.vae.encode(emo), 1);
      return { speakerAudio: rep(audio), speakerEmotion: rep(emo), speaker3dmm: rep(mm), speakerLatent: rep(latent) };
    });
    const owned: tf.Tensor[] = Object.values(cond) as tf.Tensor[];
    try {
      if (this.prior) {
        const prior = this.prior;
        const pc = { speakerAudio: cond.speakerAudio, speakerLatent: cond.speakerLatent, speaker3dmm: cond.speaker3dmm };
        const priorFn: Denoiser = (x, t) => prior.forwardWithCondScale(x, t, pc);
        const sched = cfg.diffusion_prior.scheduler;
        cond.listenerLatent = await sampler(sched, "ddim").sample(priorFn, [B, 1, cfg.diffusion_prior.args.latent_dim], {
          steps: sched.num_inference_timesteps,
          // a different stream than the decoder's, kept inside the generator's uint32 seed range
          seed: ((o.seed ?? 0) + 0x9e3779b9) >>> 0,
          onProgress: o.onProgress && ((p) => o.onProgress!({ stage: "prior", step: p.step, totalSteps: p.totalSteps })),
        });
        owned.push(cond.listenerLatent);
      }
      const weights: WeightSource = this.personal ?? this.denoiser.weights;
      const den = this.denoiser;
      // Guidance happens inside the denoiser (zeroed projected conditions), so the sampler runs unguided; the
      // conditions' cross-attention keys/values are computed once for the whole chain.
      // guidance 1 is the conditional prediction alone: no unconditional branch to compute
      const cache = den.conditionCache(cond, B, guidance !== 1, weights);
      owned.push(...cache.layers.flatMap(memoryTensors));
      const fn: Denoiser = (x, t) => den.forwardCached(x, t, cache, guidance, weights);
      const sched = cfg.diffusion_decoder.scheduler;
      const name = o.sampler ?? "ddim";
      const out = await sampler(sched, name).sample(fn, [B, W, dc.nfeats], {
        steps: o.steps ?? (name === "dpm-solver++" ? 20 : sched.num_inference_timesteps),
        seed: o.seed ?? 0,
        onProgress: o.onProgress && ((p) => o.onProgress!({ stage: "decoder", step: p.step, totalSteps: p.totalSteps })),
      });
      const emotion = tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(out, [nW, k, W, dc.nfeats]), [1, 0, 2, 3]), [k, T, dc.nfeats])) as tf.Tensor3D;
      out.dispose();
      const res: GeneratedReactions = { emotion };
      if (o.faceCoefficients) res.faceCoefficients = this.vae.coefficients(emotion);
      return res;
    } finally {
      tf.dispose(owned);
    }
  }

  dispose(): void {
    this.resetPersonalisation();
    this.pwsg?.dispose();
    for (const w of Object.values(this.weights)) w?.dispose();
  }
}

/** Loads weights (our format) and configuration and returns a ready generator. */
export async function createReactionGenerator(o: ReactionGeneratorOptions): Promise<ReactionGenerator> {
  const backend = await useBackend(o.backend);
  let cfg = o.config;
  if (typeof o.checkpoint === "string") {
    const { readFile, readdir } = await import("node:fs/promises");
    const { join } = await import("node:path");
    let files: string[];
    try {
      files = await readdir(o.checkpoint);
    } catch {
      throw new Error(`cannot read checkpoint folder ${o.checkpoint}`);
    }
    if (!cfg) cfg = files.includes("config.yaml") ? parseConfig(await readFile(join(o.checkpoint, "config.yaml"), "utf8")) : officialConfig();
    const weights: Partial<Record<ModuleName, TensorMap>> = {};
    for (const m of ["denoiser", "prior", "pssl", "emotion_vae", "hypernet"] as ModuleName[]) {
      if (files.includes(`${m}.safetensors`)) weights[m] = await loadWeightFileFromPath(cfg, m, join(o.checkpoint, `${m}.safetensors`));
    }
    return new ReactionGenerator(cfg, weights, backend);
  }
  const config = cfg ?? officialConfig();
  const weights: Partial<Record<ModuleName, TensorMap>> = {};
  for (const [m, src] of Object.entries(o.checkpoint) as [ModuleName, TensorMap | Uint8Array][]) {
    if (src instanceof Uint8Array) weights[m] = loadWeightFile(config, m, src);
    else {
      // live tensors: check names and shapes the same way as files
      const expected = moduleParameterShapes(config, m);
      for (const [name, shape] of expected) {
        const t = src.tensors.get(name);
        if (!t || t.shape.join() !== shape.join()) throw new Error(`${m} weight '${name}' is ${t ? `[${t.shape}]` : "missing"}, expected [${shape}]`);
      }
      weights[m] = src;
    }
  }
  return new ReactionGenerator(config, weights, backend);
}
