/**
 * The four training stages of PerFRDiff as loss functions of one step: what each samples from the corpus, which
 * modules it trains, and the loss terms it reports. The official code trains GAFRG (train_diffusion.py) and PWSG
 * (train_rewrite_weight.py); the emotion VAE and PSSL come without a script, and follow the paper and the losses the
 * official utils/losses.py holds (MSELoss_AE_v2, SupConLoss).
 *
 * Every random choice of a step (items, windows, timesteps, noise, dropout) is drawn from the step's own seed, so a
 * step is a pure function of (weights, corpus, seed, step): resuming recomputes the same steps.
 */
import * as tf from "@tensorflow/tfjs";
import { SeededRandom, qSample, sampleTimesteps, trainingTarget } from "@perfrdiff/diffusion";
import type { NoiseSchedule } from "@perfrdiff/diffusion";
import { EditedWeights, PWSG } from "@perfrdiff/hypernet";
import type { TensorMap } from "@perfrdiff/hypernet";
import { SCHEDULER_PREDICTIONS } from "../config";
import type { PerFRDiffConfig } from "../config";
import { TransformerDenoiser } from "../modules/denoiser";
import type { DenoiserConditions } from "../modules/denoiser";
import { EmotionVAE } from "../modules/emotionVae";
import { DiffusionPrior } from "../modules/prior";
import { PersonSpecificEncoder } from "../modules/pssl";
import { TrainingPass, mix32 } from "../modules/training-pass";
import { withoutWeightCache } from "../ops/linear";
import { repeatInterleave } from "../ops/repeat";
import { samplerFromConfig } from "../sampling";
import { pwsgConfig } from "../weights/modules";
import type { ModuleName } from "../weights/modules";
import { framesOf, historyItems } from "./corpus";
import type { TrainingCorpus } from "./corpus";
import { gaussianKl, l2Norm, mse, supConLoss, temporalLoss } from "./losses";

export type TrainStage = "embedder" | "gafrg" | "pssl" | "pwsg";
export const TRAIN_STAGES: readonly TrainStage[] = ["embedder", "pssl", "gafrg", "pwsg"];

/**
 * The modules a stage trains, and those it needs trained before it (kept frozen). GAFRG trains the prior only when
 * its loss counts (losses_multipliers[0] > 0; the small preset sets 0, as its configuration drops the prior's output).
 */
export function stageModules(stage: TrainStage, cfg: PerFRDiffConfig): { trains: ModuleName[]; needs: ModuleName[] } {
  switch (stage) {
    case "embedder":
      return { trains: ["emotion_vae"], needs: [] };
    case "pssl":
      return { trains: ["pssl"], needs: [] };
    case "gafrg":
      return { trains: cfg.training.gafrg.losses_multipliers[0] !== 0 ? ["denoiser", "prior"] : ["denoiser"], needs: ["emotion_vae"] };
    case "pwsg":
      return { trains: ["hypernet"], needs: ["denoiser", "emotion_vae", "pssl"] };
  }
}

/** The loss terms of one step; `total` is minimised. Scalars, owned by the caller's tape. */
export interface StepLoss {
  total: tf.Scalar;
  terms: Record<string, tf.Scalar>;
}

/** One stage, ready to train: its loss for a step, its steps per epoch, the variables it trains. */
export interface Stage {
  name: TrainStage;
  /** Trained modules' weights (tf.Variables). */
  trained: Partial<Record<ModuleName, TensorMap>>;
  stepsPerEpoch: number;
  /** The loss of step `step` (training: dropout and condition dropout on), for its optimiser. */
  loss(step: number): StepLoss;
  /** The loss over a fixed set of draws from a validation corpus, dropout off. */
  validationLoss(corpus: TrainingCorpus, seed: number): Promise<Record<string, number>>;
}

/** Seeds of a step's draws: items, windows and noise from one stream, dropout from another. */
function streams(seed: number, step: number): { data: TrainingPass; forward: TrainingPass } {
  const base = mix32(seed, step);
  return { data: new TrainingPass(mix32(base, 1)), forward: new TrainingPass(mix32(base, 2)) };
}

/**
 * The epoch's order of items (a permutation from the seed and the epoch, as a shuffling DataLoader) and this step's
 * part of it: `batch` items (the last batch of an epoch may be shorter, as DataLoader's default drop_last=False).
 */
function batchItems(n: number, batch: number, seed: number, step: number): number[] {
  const perEpoch = Math.ceil(n / batch);
  const epoch = Math.floor(step / perEpoch);
  const order = new TrainingPass(mix32(seed ^ 0x5bd1e995, epoch)).permutation(n);
  const at = (step % perEpoch) * batch;
  return order.slice(at, at + batch);
}

/** k of an item's appropriate reactions: a random k of them, or k drawn with replacement when fewer exist. */
function appropriateK(row: number[], k: number, rng: TrainingPass): number[] {
  if (row.length < k) return Array.from({ length: k }, () => row[rng.int(row.length)]!);
  return rng.permutation(row.length).slice(0, k).map((i) => row[i]!);
}

/** A float32 tensor of rows taken from tracks: each part is [frames, dim]; -> [parts, frames, dim]. */
function stack(parts: Float32Array[], frames: number, dim: number): tf.Tensor3D {
  const out = new Float32Array(parts.length * frames * dim);
  parts.forEach((p, i) => out.set(p, i * frames * dim));
  return tf.tensor3d(out, [parts.length, frames, dim]);
}

/** n uniform timesteps and standard normal noise of `shape` for a diffusion loss, from one stream. */
function diffusionDraws(rng: TrainingPass, n: number, T: number, shape: number[]): { t: Int32Array; noise: tf.Tensor } {
  const r = new SeededRandom(rng.nextSeed(), 0);
  return { t: sampleTimesteps(n, T, r), noise: r.fork(1).normal(shape) };
}

interface GafrgParts {
  cfg: PerFRDiffConfig;
  denoiser: TransformerDenoiser;
  prior: DiffusionPrior;
  vae: EmotionVAE;
  decoderSchedule: NoiseSchedule;
  priorSchedule: NoiseSchedule;
}

/** The speaker clips and appropriate reactions of one GAFRG / PWSG step, as windows. */
interface WindowDraw {
  /** the speaker's window (the listener's is the next one) */
  start: number;
  speakers: number[];
  /** k per speaker, speaker-major */
  reactions: number[];
}

/**
 * The official window draw: conditions from the speaker's frames [s, s + W), the target the listener's next window
 * [s + W, s + 2W), s uniform in [0, T - 2W) for clips of T frames (the shifted tracks' T - W frames, minus a window).
 */
function drawWindow(corpus: TrainingCorpus, speakers: number[], k: number, W: number, frames: number, rng: TrainingPass): WindowDraw {
  const start = rng.int(frames - 2 * W);
  return { start, speakers, reactions: speakers.flatMap((i) => appropriateK(corpus.appropriate[i]!, k, rng)) };
}

/**
 * The GAFRG loss of the official LatentMatcher in train mode, for one window draw per model: the decoder's x0 MSE
 * (`decoded`) and the prior's latent MSE (`encoded`), weighted by losses_multipliers, plus the temporal loss when its
 * weight is not 0. `weights` overrides the denoiser's (PWSG's edited weights); `pass` null is eval mode.
 */
function gafrgTerms(
  parts: GafrgParts,
  corpus: TrainingCorpus,
  draws: { decoder: WindowDraw; prior: WindowDraw | null },
  rng: TrainingPass,
  pass: TrainingPass | null,
  multipliers: [number, number],
  temporalWeight: number,
  decoderWeights = parts.denoiser.weights,
): StepLoss {
  const { cfg, denoiser, prior, vae } = parts;
  const dc = cfg.diffusion_decoder.args;
  const W = dc.window_size;
  const terms: Record<string, tf.Scalar> = {};
  const usePrior = draws.prior !== null && multipliers[0] !== 0;
  const windows = (d: WindowDraw) => {
    const items = d.speakers.map((i) => corpus.items[i]!);
    return {
      k: d.reactions.length / d.speakers.length,
      audio: stack(items.map((it) => framesOf(it.speakerAudio, d.start, W)), W, dc.s_audio_dim),
      threeDmm: stack(items.map((it) => framesOf(it.speaker3dmm, d.start, W)), W, dc.s_3dmm_dim),
      emotion: stack(items.map((it) => framesOf(it.speakerEmotion, d.start, W)), W, dc.s_emotion_dim),
      listener: stack(d.reactions.map((j) => framesOf(corpus.items[j]!.listenerEmotion, d.start + W, W)), W, dc.nfeats),
      past: stack(d.reactions.map((j) => framesOf(corpus.items[j]!.listenerEmotion, d.start, W)), W, dc.nfeats),
    };
  };
  const dec = windows(draws.decoder);
  const pri = usePrior ? windows(draws.prior!) : null;
  // every window the frozen VAE encodes, in one call (its GRU's 50 steps cost the same for 4 windows or 50): the
  // speaker windows of both draws, the listener windows the prior learns (and the decoder's, when it uses them)
  const useListenerLatent = dc.l_latent_embed_drop_prob < 1;
  const toEncode = [dec.emotion, ...(pri ? [pri.emotion, pri.listener] : []), ...(useListenerLatent ? [dec.listener] : [])];
  const sizes = toEncode.map((t) => t.shape[0]);
  const encoded = tf.split(tf.expandDims(vae.encode(toEncode.length === 1 ? toEncode[0]! : tf.concat(toEncode, 0)), 1), sizes, 0);
  let total: tf.Tensor = tf.scalar(0);
  {
    const k = dec.k;
    const B = dec.listener.shape[0];
    const cond: DenoiserConditions = {
      speakerAudio: repeatInterleave(dec.audio, k),
      speaker3dmm: repeatInterleave(dec.threeDmm, k),
      speakerEmotion: repeatInterleave(dec.emotion, k),
      speakerLatent: repeatInterleave(encoded[0]!, k),
      pastListenerEmotion: dec.past,
    };
    if (useListenerLatent) cond.listenerLatent = encoded[encoded.length - 1];
    const { t, noise } = diffusionDraws(rng, draws.decoder.speakers.length, parts.decoderSchedule.numTimesteps, dec.listener.shape);
    const tt = Int32Array.from({ length: B }, (_, i) => t[Math.floor(i / k)]!); // one timestep per speaker clip
    const xt = qSample(parts.decoderSchedule, dec.listener, tt, noise);
    const ts = tf.tensor1d(tt, "int32");
    const out = pass ? denoiser.forwardTrain(xt, ts, cond, pass, decoderWeights) : denoiser.forward(xt, ts, cond, decoderWeights);
    const target = trainingTarget(SCHEDULER_PREDICTIONS[cfg.diffusion_decoder.scheduler.predict], parts.decoderSchedule, dec.listener, noise, tt);
    terms.decoded = mse(out, target);
    total = tf.add(total, tf.mul(terms.decoded, multipliers[1]));
    if (temporalWeight !== 0) {
      terms.temporal = temporalLoss(out as tf.Tensor3D);
      total = tf.add(total, tf.mul(terms.temporal, temporalWeight));
    }
  }
  if (pri) {
    const k = pri.k;
    const x0 = encoded[2]!; // [B k, 1, latent]: the listener's window, as the VAE encodes it
    const { t, noise } = diffusionDraws(rng, draws.prior!.speakers.length, parts.priorSchedule.numTimesteps, x0.shape);
    const tt = Int32Array.from({ length: x0.shape[0] }, (_, i) => t[Math.floor(i / k)]!);
    const xt = qSample(parts.priorSchedule, x0, tt, noise);
    const ts = tf.tensor1d(tt, "int32");
    const cond = { speakerAudio: repeatInterleave(pri.audio, k), speakerLatent: repeatInterleave(encoded[1]!, k), speaker3dmm: repeatInterleave(pri.threeDmm, k) };
    const out = pass ? prior.forwardTrain(xt, ts, cond, pass) : prior.forward(xt, ts, cond);
    const target = trainingTarget(SCHEDULER_PREDICTIONS[cfg.diffusion_prior.scheduler.predict], parts.priorSchedule, x0, noise, tt);
    terms.encoded = mse(out, target);
    total = tf.add(total, tf.mul(terms.encoded, multipliers[0]));
  }
  return { total: total as tf.Scalar, terms };
}

/** Averages the terms of `count` evaluations into numbers (one asynchronous read-back each). */
async function averaged(count: number, one: (i: number) => StepLoss): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    let names: string[] = [];
    const stacked = tf.tidy(() => {
      const { total, terms } = one(i);
      names = ["loss", ...Object.keys(terms)];
      return tf.stack([total, ...Object.values(terms)]);
    });
    const data = await stacked.data();
    stacked.dispose();
    names.forEach((n, j) => (sums[n] = (sums[n] ?? 0) + data[j]! / count));
  }
  return sums;
}

/** A stage from what distinguishes it: how a batch is drawn from a corpus, and its loss terms on a batch. */
function makeStage<Batch>(
  name: TrainStage,
  o: StageInputs,
  trained: Partial<Record<ModuleName, TensorMap>>,
  stepsPerEpoch: number,
  draw: (corpus: TrainingCorpus, frames: number, rng: TrainingPass, step: number) => Batch,
  terms: (corpus: TrainingCorpus, batch: Batch, rng: TrainingPass, pass: TrainingPass | null) => StepLoss,
): Stage {
  return {
    name,
    trained,
    stepsPerEpoch,
    loss(step) {
      const { data, forward } = streams(o.seed, step);
      return terms(o.corpus, draw(o.corpus, o.frames, data, step), data, forward);
    },
    // a fixed set of draws: one per validation item (at most 32), dropout off
    validationLoss(corpus, seed) {
      const frames = corpus.items[0]!.speakerEmotion.frames;
      return averaged(Math.min(32, corpus.items.length), (i) => {
        const { data } = streams(seed, i);
        return terms(corpus, draw(corpus, frames, data, i), data, null);
      });
    },
  };
}

export interface StageInputs {
  cfg: PerFRDiffConfig;
  corpus: TrainingCorpus;
  /** Clip length the corpus' tracks have (checked by checkCorpus). */
  frames: number;
  seed: number;
  /** Weights the stage starts from (its trained modules, as variables) and the frozen ones it needs. */
  weights: Partial<Record<ModuleName, TensorMap>>;
}

/** The emotion VAE: reconstruction + KL + coefficient regression (MSELoss_AE_v2) on random windows of any track. */
export function embedderStage(o: StageInputs): Stage {
  const t = o.cfg.training.embedder;
  const le = o.cfg.latent_embedder.args;
  const W = le.window_size;
  const vae = new EmotionVAE(le, o.weights.emotion_vae!);
  // an epoch: as many windows as the corpus' tracks (speaker and listener) hold side by side
  const perEpoch = Math.max(1, Math.ceil((2 * o.corpus.items.length * Math.floor(o.frames / W)) / t.batch_size));
  return makeStage(
    "embedder",
    o,
    { emotion_vae: o.weights.emotion_vae! },
    perEpoch,
    (corpus, frames, rng) =>
      Array.from({ length: t.batch_size }, () => {
        const it = corpus.items[rng.int(corpus.items.length)]!;
        const speaker = rng.int(2) === 0;
        return { emotion: speaker ? it.speakerEmotion : it.listenerEmotion, threeDmm: speaker ? it.speaker3dmm : it.listener3dmm, start: rng.int(frames - W + 1) };
      }),
    (_corpus, picks, _rng, pass) => {
      const emotion = stack(picks.map((p) => framesOf(p.emotion, p.start, W)), W, le.emotion_dim);
      const threeDmm = stack(picks.map((p) => framesOf(p.threeDmm, p.start, W)), W, le.coeff_3dmm_dim);
      const out = vae.forwardTrain(emotion, pass);
      const terms = { mse: mse(out.prediction, emotion), kld: gaussianKl(out.mu, out.logvar), coeff: mse(out.coefficients, threeDmm) };
      const total = tf.addN([tf.mul(terms.mse, t.w_mse), tf.mul(terms.kld, t.w_kld), tf.mul(terms.coeff, t.w_coeff)]) as tf.Scalar;
      return { total, terms };
    },
  );
}

/** The diffusion parts of GAFRG over the given denoiser and prior weights. */
function gafrgParts(cfg: PerFRDiffConfig, weights: Partial<Record<ModuleName, TensorMap>>, withPrior: boolean): GafrgParts {
  const ddim = (s: typeof cfg.diffusion_decoder.scheduler) => samplerFromConfig(s, "ddim").schedule;
  return {
    cfg,
    denoiser: new TransformerDenoiser(cfg.diffusion_decoder.args, weights.denoiser!),
    prior: withPrior ? new DiffusionPrior(cfg.diffusion_prior.args, weights.prior!) : (null as unknown as DiffusionPrior),
    vae: new EmotionVAE(cfg.latent_embedder.args, weights.emotion_vae!),
    decoderSchedule: ddim(cfg.diffusion_decoder.scheduler),
    priorSchedule: ddim(cfg.diffusion_prior.scheduler),
  };
}

/**
 * GAFRG: the official LatentMatcher training. Per step, batch_size speaker clips in the epoch's shuffled order, each
 * with k_appro appropriate listener reactions; the decoder and the prior each draw their own window; DiffusionLoss
 * with the configured multipliers (the prior's latent MSE, the decoded x0 MSE) and temporal weight.
 */
export function gafrgStage(o: StageInputs): Stage {
  const t = o.cfg.training.gafrg;
  const W = o.cfg.diffusion_decoder.args.window_size;
  const withPrior = stageModules("gafrg", o.cfg).trains.includes("prior");
  const parts = gafrgParts(o.cfg, o.weights, withPrior);
  return makeStage(
    "gafrg",
    o,
    withPrior ? { denoiser: o.weights.denoiser!, prior: o.weights.prior! } : { denoiser: o.weights.denoiser! },
    epochSteps(o.corpus.items.length, t.batch_size),
    (corpus, frames, rng, step) => {
      const speakers = batchItems(corpus.items.length, t.batch_size, o.seed, step);
      return { decoder: drawWindow(corpus, speakers, t.k_appro, W, frames, rng), prior: withPrior ? drawWindow(corpus, speakers, t.k_appro, W, frames, rng) : null };
    },
    (corpus, draws, rng, pass) => gafrgTerms(parts, corpus, draws, rng, pass, t.losses_multipliers, t.temporal_loss_w),
  );
}

/**
 * Per listener identity (in order of first appearance), the items whose listener clip is theirs, one item per distinct
 * clip (a clip is the listener of several mirrored items when it was shown to several listeners).
 */
function clipsByListener(corpus: TrainingCorpus): number[][] {
  const by = new Map<string, number[]>();
  const seen = new Set<Float32Array>();
  corpus.items.forEach((it, i) => {
    if (seen.has(it.listener3dmm.data)) return;
    seen.add(it.listener3dmm.data);
    by.set(it.listenerId, [...(by.get(it.listenerId) ?? []), i]);
  });
  return [...by.values()];
}

/**
 * PSSL: the person-specific encoder with the supervised contrastive loss. Each sample is seq_len frames of a
 * listener's 3DMM track from a random start, labelled by the listener's identity. Per step (training.pssl.sampling):
 * `appropriate`, batch_size speaker clips and every appropriate reaction of each; `listeners`, batch_size listeners
 * (those with two clips or more, in the epoch's shuffled order) and clips_per_listener of their clips at random.
 */
export function psslStage(o: StageInputs): Stage {
  const t = o.cfg.training.pssl;
  const ps = o.cfg.person_specific.args;
  const pssl = new PersonSpecificEncoder(ps, o.weights.pssl!);
  // per corpus (training, validation): its listeners with two clips or more
  const groups = new Map<TrainingCorpus, number[][]>();
  const listenersOf = (c: TrainingCorpus) => groups.get(c) ?? groups.set(c, clipsByListener(c).filter((clips) => clips.length >= 2)).get(c)!;
  if (t.sampling === "listeners" && listenersOf(o.corpus).length < 2) throw new Error("PSSL's listeners sampling needs two listeners with two clips or more in the corpus");
  const units = t.sampling === "listeners" ? listenersOf(o.corpus).length : o.corpus.items.length;
  return makeStage(
    "pssl",
    o,
    { pssl: o.weights.pssl! },
    epochSteps(units, t.batch_size),
    (corpus, frames, rng, step) => {
      const len = Math.min(ps.seq_len, frames);
      const listeners = t.sampling === "listeners" ? listenersOf(corpus) : [];
      // a validation corpus with fewer than two such listeners is drawn as the paper does
      const picks =
        listeners.length >= 2
          ? batchItems(listeners.length, t.batch_size, o.seed, step).flatMap((l) => rng.permutation(listeners[l]!.length).slice(0, t.clips_per_listener).map((c) => listeners[l]![c]!))
          : batchItems(corpus.items.length, t.batch_size, o.seed, step).flatMap((i) => corpus.appropriate[i]!);
      return picks.map((j) => ({ item: j, start: rng.int(frames - len + 1), len }));
    },
    (corpus, samples, _rng, pass) => {
      const len = samples[0]!.len;
      const histories = stack(samples.map((s) => framesOf(corpus.items[s.item]!.listener3dmm, s.start, len)), len, ps.in_features);
      // SupCon only compares labels: the listener's identity as an index of this corpus' listeners
      const ids = new Map<string, number>();
      const labels = samples.map((s) => {
        const id = corpus.items[s.item]!.listenerId;
        if (!ids.has(id)) ids.set(id, ids.size);
        return ids.get(id)!;
      });
      const { proj } = pass ? pssl.forwardTrain(histories, pass) : pssl.forward(histories);
      const supcon = supConLoss(proj, labels, t.temperature, t.base_temperature);
      return { total: supcon, terms: { supcon } };
    },
  );
}

/**
 * PWSG: the hypernetwork trained through the frozen GAFRG denoiser, as the official train_rewrite_weight.py. Per step,
 * batch_size speaker clips (officially 1), each with k_appro appropriate reactions (officially 1); the listener of
 * a reaction gives the person embedding, PSSL's projection of another clip of theirs (seq_len frames); the decoded
 * loss through the edited weights (rewrite_weight.yaml weighs the prior's loss 0) plus, with main_model.args
 * regularization, regular_w x the sum of the edits' L2 norms.
 */
export function pwsgStage(o: StageInputs): Stage {
  const t = o.cfg.training.pwsg;
  const mm = o.cfg.main_model?.args;
  if (!mm) throw new Error("PWSG training needs a configuration with a main_model section");
  const ps = o.cfg.person_specific.args;
  const W = o.cfg.diffusion_decoder.args.window_size;
  const parts = gafrgParts(o.cfg, o.weights, false);
  const pssl = new PersonSpecificEncoder(ps, o.weights.pssl!);
  const pwsg = PWSG.fromWeights(pwsgConfig(o.cfg), o.weights.hypernet!.tensors);
  return makeStage(
    "pwsg",
    o,
    { hypernet: o.weights.hypernet! },
    epochSteps(o.corpus.items.length, t.batch_size),
    (corpus, frames, rng, step) => {
      const speakers = batchItems(corpus.items.length, t.batch_size, o.seed, step);
      const window = drawWindow(corpus, speakers, t.k_appro, W, frames, rng);
      const len = Math.min(ps.seq_len, frames);
      // the person input of each reaction: another clip of its listener (the clip itself when it has none)
      const personal = window.reactions.map((j) => {
        const others = historyItems(corpus, j);
        return { item: others.length ? others[rng.int(others.length)]! : j, start: rng.int(frames - len + 1), len };
      });
      return { window, personal };
    },
    (corpus, draw, rng, pass) => {
      // one person per edit: the official batch of 1; a larger batch averages the per-person losses
      const perPerson: StepLoss[] = draw.window.reactions.map((_, r) => {
        const p = draw.personal[r]!;
        const history = stack([framesOf(corpus.items[p.item]!.listener3dmm, p.start, p.len)], p.len, ps.in_features);
        const { proj } = pass ? pssl.forwardTrain(history, pass) : pssl.forward(history);
        const deltas = pwsg.forward(proj);
        const edited = new EditedWeights(parts.denoiser.weights, deltas, mm.predict);
        const speaker = draw.window.speakers[Math.floor(r / t.k_appro)]!;
        const one = { start: draw.window.start, speakers: [speaker], reactions: [draw.window.reactions[r]!] };
        // gradients reach the hypernetwork through the edited weights: no cached (constant) copies of them
        const loss = withoutWeightCache(() => gafrgTerms(parts, corpus, { decoder: one, prior: null }, rng, pass, [0, 1], 0, edited));
        if (mm.regularization) {
          const norms = [...deltas.values()].map((d) => l2Norm(d));
          loss.terms.regular = tf.mul(tf.addN(norms), mm.regular_w) as tf.Scalar;
          loss.total = tf.add(loss.total, loss.terms.regular) as tf.Scalar;
        }
        return loss;
      });
      if (perPerson.length === 1) return perPerson[0]!;
      const mean = (f: (l: StepLoss) => tf.Scalar | undefined) => tf.div(tf.addN(perPerson.map((l) => f(l) ?? tf.scalar(0))), perPerson.length) as tf.Scalar;
      const terms: Record<string, tf.Scalar> = {};
      for (const k of Object.keys(perPerson[0]!.terms)) terms[k] = mean((l) => l.terms[k]);
      return { total: mean((l) => l.total), terms };
    },
  );
}

/** Steps of an epoch for a corpus of n items in batches of `batch`. */
function epochSteps(n: number, batch: number): number {
  return Math.ceil(n / batch);
}

/** The stage `name` over the given inputs. */
export function buildStage(name: TrainStage, o: StageInputs): Stage {
  return { embedder: embedderStage, gafrg: gafrgStage, pssl: psslStage, pwsg: pwsgStage }[name](o);
}
