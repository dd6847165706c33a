/**
 * Personalised reaction generation, composed as the official test-time pipeline (`LatentMatcher` + `MainNetUnified`):
 * the listener's 3DMM history -> PSSL projection -> PWSG weight edits on the denoiser (personalise); then for a
 * speaker clip cut into 50-frame windows, listener window t is sampled conditioned on the speaker's window t-1 (the
 * first on zeros), all windows and K reactions in one batch, with classifier-free guidance inside the denoiser as
 * the official `forward_with_cond_scale` does, and the samplers of @perfrdiff/diffusion.
 */
import * as tf from "@tensorflow/tfjs";
import type { Denoiser, SamplerName } from "@perfrdiff/diffusion";
import { PWSG } from "@perfrdiff/hypernet";
import type { EditedWeights, TensorMap, WeightSource } from "@perfrdiff/hypernet";
import { useBackend } from "./backend";
import type { BackendName } from "./backend";
import type { PerFRDiffConfig } from "./config";
import { TransformerDenoiser } from "./modules/denoiser";
import type { DenoiserConditions } from "./modules/denoiser";
import { DiffusionPrior } from "./modules/prior";
import { EmotionVAE } from "./modules/emotionVae";
import { PersonSpecificEncoder } from "./modules/pssl";
import { releaseDerivedWeights } from "./ops/linear";
import { repeatInterleave } from "./ops/repeat";
import { samplerFromConfig } from "./sampling";
import { defaultCheckpoint, isDefaultCheckpoint } from "./weights/default-model";
import { loadModel } from "./weights/loader";
import type { CheckpointSource } from "./weights/loader";
import { pwsgConfig, requiredModules } from "./weights/modules";
import type { ModuleName } from "./weights/modules";

export interface ReactionGeneratorOptions {
  /**
   * Where the weights are (see {@link CheckpointSource}): a folder of ours (Node: `<module>.safetensors` +
   * `config.yaml`, from `perfrdiff import-torch` or training), `{ official: ROOT }` for the official PyTorch
   * checkpoints in their layout (Node), or the modules' weights (tensors or weight-file bytes). Needs the denoiser
   * and the emotion VAE; PSSL + hypernetwork to personalise; the prior only when the configuration feeds its output
   * to the denoiser (the official one drops it: l_latent_embed_drop_prob = 1). None, or `"default"`: the bundled
   * default model (@perfrdiff/default-model, trained on synthetic data).
   */
  checkpoint?: CheckpointSource;
  /** Defaults to the folder's config.yaml, else the official configuration. */
  config?: PerFRDiffConfig;
  /** tfjs backend (default: wasm in Node, webgpu in a browser with an adapter). */
  backend?: BackendName;
  /** Load PSSL and the hypernetwork (true: required), or not (false); default: when the checkpoint has them. */
  personalise?: boolean;
  /** Called after each module is loaded (for progress bars). */
  onModuleLoaded?: (module: ModuleName, done: number, total: number) => void;
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

/** The settings a generation ran with, defaults filled in. */
export interface GenerationSettings {
  k: number;
  sampler: SamplerName;
  steps: number;
  guidance: number;
  seed: number;
}

export interface GeneratedReactions {
  /** [K, T, 25] listener emotion. Caller disposes. */
  emotion: tf.Tensor3D;
  /** [K, T, 58] when asked for. */
  faceCoefficients?: tf.Tensor3D;
  settings: GenerationSettings;
}

/**
 * Generates facial reactions with one model: made by {@link createReactionGenerator}. Personalisation is an overlay on
 * the denoiser's weights; the base weights never change.
 */
export interface ReactionGenerator {
  readonly config: PerFRDiffConfig;
  /** Where the configuration came from: a file path, "given", "official (built in)", or the default model's name. */
  readonly configSource: string;
  /** The active tfjs backend. */
  readonly backend: string;
  /** The modules loaded. */
  readonly modules: ModuleName[];
  /** Whether PSSL and the hypernetwork are loaded, so that {@link personalise} can run. */
  readonly canPersonalise: boolean;
  /** Whether a personalisation is active. */
  readonly personalised: boolean;
  /**
   * Personalises the denoiser for one listener: their 3DMM history [T, 58] (or [1, T, 58]; the first seq_len
   * frames are read, 750 officially: one clip) -> PSSL projection -> PWSG weight edits. A history shorter than one
   * window (window_size frames, 2 s officially) is refused: a frame or two says nothing about a person's style.
   */
  personalise(listenerHistory: tf.Tensor): void;
  /** Back to the generic (base) denoiser. */
  resetPersonalisation(): void;
  /** K reactions [K, T, 25] to a speaker clip of T frames (T a multiple of the model's window, 50 frames). */
  generate(speaker: SpeakerClip, options?: GenerateOptions): Promise<GeneratedReactions>;
  /** Frees every tensor the generator holds or made (weights, cached weight copies, personalisation). */
  dispose(): void;
}

/** Shifts a clip [T, D] one window later (zeros first) and cuts it into windows [T/W, W, D]. */
function previousWindows(x: tf.Tensor2D, W: number): tf.Tensor3D {
  const [T, D] = x.shape;
  const shifted = tf.concat([tf.zeros([W, D]), tf.slice(x, [0, 0], [T - W, D])], 0);
  return tf.reshape(shifted, [T / W, W, D]);
}

class PerFRDiffGenerator implements ReactionGenerator {
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
    readonly configSource: string,
  ) {
    for (const m of requiredModules(config)) if (!weights[m]) throw new Error(`the checkpoint has no ${m} weights`);
    this.denoiser = new TransformerDenoiser(config.diffusion_decoder.args, weights.denoiser!);
    this.vae = new EmotionVAE(config.latent_embedder.args, weights.emotion_vae!);
    this.prior = weights.prior && requiredModules(config).includes("prior") ? new DiffusionPrior(config.diffusion_prior.args, weights.prior) : null;
    this.pssl = weights.pssl ? new PersonSpecificEncoder(config.person_specific.args, weights.pssl) : null;
    this.pwsg = weights.hypernet && config.main_model ? PWSG.fromWeights(pwsgConfig(config), weights.hypernet.tensors) : null;
  }

  get modules(): ModuleName[] {
    return Object.keys(this.weights) as ModuleName[];
  }

  get canPersonalise(): boolean {
    return this.pssl !== null && this.pwsg !== null;
  }

  personalise(listenerHistory: tf.Tensor): void {
    if (!this.pssl || !this.pwsg) throw new Error("personalisation needs the pssl and hypernet weights in the checkpoint");
    const rank = listenerHistory.rank;
    if ((rank !== 2 && rank !== 3) || (rank === 3 && listenerHistory.shape[0] !== 1)) {
      throw new Error(`listener history must be [frames, 58] or [1, frames, 58], got [${listenerHistory.shape}]`);
    }
    const minFrames = this.config.diffusion_decoder.args.window_size;
    const given = listenerHistory.shape[rank - 2]!;
    if (given < minFrames) {
      throw new Error(`a listener history needs at least ${minFrames} frames (one window; the official histories are 750), got ${given}`);
    }
    // PSSL reads one clip's worth (seq_len frames, 750 officially: the histories of the official loaders)
    const seqLen = this.config.person_specific.args.seq_len;
    const { feat, proj } = tf.tidy(() => {
      const h = rank === 2 ? tf.expandDims(listenerHistory, 0) : listenerHistory;
      const frames = Math.min(h.shape[1]!, seqLen);
      return this.pssl!.forward(frames === h.shape[1] ? h : tf.slice(h, [0, 0, 0], [1, frames, -1]));
    });
    // not in a tidy: the overlay keeps its tensors in maps, which tidy cannot see
    const edited = this.pwsg.personalise(this.denoiser.weights, proj);
    tf.dispose([feat, proj]);
    this.resetPersonalisation();
    this.personal = edited;
  }

  resetPersonalisation(): void {
    this.personal?.dispose();
    this.personal = null;
  }

  get personalised(): boolean {
    return this.personal !== null;
  }

  async generate(speaker: SpeakerClip, options: GenerateOptions = {}): Promise<GeneratedReactions> {
    const cfg = this.config;
    const decoder = cfg.diffusion_decoder.args;
    const W = decoder.window_size;
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a positive integer, got ${k}`);
    const check = (name: string, x: tf.Tensor, d: number) => {
      if (!x || x.rank !== 2 || x.shape[1] !== d) throw new Error(`speaker ${name} must be [frames, ${d}], got [${x?.shape}]`);
    };
    check("audio", speaker.audio, decoder.s_audio_dim);
    check("emotion", speaker.emotion, decoder.s_emotion_dim);
    check("threeDmm", speaker.threeDmm, decoder.s_3dmm_dim);
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
    const windows = T / W;
    const B = windows * k;
    const guidance = options.guidance ?? decoder.guidance_scale;
    const samplerName = options.sampler ?? "ddim";
    const decoderSampler = samplerFromConfig(cfg.diffusion_decoder.scheduler, samplerName);
    const settings: GenerationSettings = { k, sampler: samplerName, steps: options.steps ?? decoderSampler.defaultSteps, guidance, seed: options.seed ?? 0 };
    // Conditions per (window, reaction), window-major as the official repeat_interleave(k).
    const perReaction = (x: tf.Tensor) => repeatInterleave(x, k);
    const cond: DenoiserConditions = tf.tidy(() => {
      const audio = previousWindows(speaker.audio, W);
      const emotion = previousWindows(speaker.emotion, W);
      const threeDmm = previousWindows(speaker.threeDmm, W);
      const latent = tf.expandDims(this.vae.encode(emotion), 1);
      return { speakerAudio: perReaction(audio), speakerEmotion: perReaction(emotion), speaker3dmm: perReaction(threeDmm), speakerLatent: perReaction(latent) };
    });
    const owned: tf.Tensor[] = Object.values(cond) as tf.Tensor[];
    try {
      if (this.prior) {
        const prior = this.prior;
        const priorConditions = { speakerAudio: cond.speakerAudio, speakerLatent: cond.speakerLatent, speaker3dmm: cond.speaker3dmm };
        const priorFn: Denoiser = (x, t) => prior.forwardWithCondScale(x, t, priorConditions);
        cond.listenerLatent = await samplerFromConfig(cfg.diffusion_prior.scheduler, "ddim").sample(priorFn, [B, 1, cfg.diffusion_prior.args.latent_dim], {
          // a different stream than the decoder's, kept inside the generator's uint32 seed range
          seed: (settings.seed + 0x9e3779b9) >>> 0,
          onProgress: options.onProgress && ((p) => options.onProgress!({ stage: "prior", step: p.step, totalSteps: p.totalSteps })),
        });
        owned.push(cond.listenerLatent);
      }
      const weights: WeightSource = this.personal ?? this.denoiser.weights;
      const denoiser = this.denoiser;
      // Guidance happens inside the denoiser (zeroed projected conditions), so the sampler runs unguided; the
      // conditions' cross-attention keys/values are computed once for the whole chain.
      // guidance 1 is the conditional prediction alone: no unconditional branch to compute
      const cache = denoiser.conditionCache(cond, B, guidance !== 1, weights);
      let out: tf.Tensor;
      try {
        const fn: Denoiser = (x, t) => denoiser.forwardCached(x, t, cache, guidance, weights);
        out = await decoderSampler.sample(fn, [B, W, decoder.nfeats], {
          steps: settings.steps,
          seed: settings.seed,
          onProgress: options.onProgress && ((p) => options.onProgress!({ stage: "decoder", step: p.step, totalSteps: p.totalSteps })),
        });
      } finally {
        cache.dispose();
      }
      const emotion = tf.tidy(() => tf.reshape(tf.transpose(tf.reshape(out, [windows, k, W, decoder.nfeats]), [1, 0, 2, 3]), [k, T, decoder.nfeats])) as tf.Tensor3D;
      out.dispose();
      const res: GeneratedReactions = { emotion, settings };
      if (options.faceCoefficients) res.faceCoefficients = this.vae.coefficients(emotion);
      return res;
    } finally {
      tf.dispose(owned);
    }
  }

  dispose(): void {
    this.resetPersonalisation();
    this.pwsg?.dispose();
    const weights = Object.values(this.weights);
    releaseDerivedWeights(weights.flatMap((w) => [...w!.tensors.values()]));
    for (const w of weights) w?.dispose();
  }
}

/**
 * Loads a model (see {@link ReactionGeneratorOptions}) and returns a ready generator on the chosen backend:
 *
 * ```ts
 * const gen = await createReactionGenerator({ checkpoint: "weights/" }); // or () for the bundled default model
 * const { emotion } = await gen.generate({ audio, emotion, threeDmm }, { k: 10 }); // [10, T, 25]
 * ```
 */
export async function createReactionGenerator(options: ReactionGeneratorOptions = {}): Promise<ReactionGenerator> {
  const backend = await useBackend(options.backend);
  let { checkpoint, config } = options;
  let configSource: string | undefined;
  if (isDefaultCheckpoint(checkpoint)) {
    const d = await defaultCheckpoint();
    checkpoint = d.checkpoint;
    config ??= d.config;
    configSource = d.name;
  }
  const model = await loadModel(checkpoint!, { config, personalise: options.personalise, onModule: options.onModuleLoaded });
  try {
    return new PerFRDiffGenerator(model.config, model.weights, backend, configSource ?? model.configSource);
  } catch (err) {
    for (const w of Object.values(model.weights)) w?.dispose();
    throw err;
  }
}
