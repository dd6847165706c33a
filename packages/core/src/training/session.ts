/**
 * Stages trained into a run folder: the weights each stage starts from (its last checkpoint when resuming, else an
 * initialisation folder or the official modules' random initialisation), the frozen modules it needs (trained by an
 * earlier stage of the run, or taken from the initialisation folder), checkpoints and metrics written as it goes.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "@perfrdiff/hypernet";
import type { PerFRDiffConfig } from "../config";
import { loadModuleWeights } from "../weights/loader";
import type { CheckpointSource } from "../weights/loader";
import { randomWeights } from "../weights/random";
import type { ModuleName } from "../weights/modules";
import { checkCorpus } from "./corpus";
import type { TrainingCorpus } from "./corpus";
import type { TrainingRun } from "./run";
import { TRAIN_STAGES, stageModules } from "./stages";
import type { TrainStage } from "./stages";
import { train } from "./trainer";
import type { StepRecord, TrainResult } from "./trainer";

export interface TrainingSessionOptions {
  /** The stages to train, in this order (`all`: embedder, pssl, gafrg, pwsg). */
  stages: TrainStage[];
  corpus: TrainingCorpus;
  validation?: TrainingCorpus;
  /** Validation loss every this many steps (default: once per epoch). */
  valEvery?: number;
  /** Per stage: steps to train in all (default: its configured epochs). */
  steps?: number;
  /** Per stage: epochs, overriding the configuration. */
  epochs?: number;
  /** Checkpoint every this many steps (default: once per epoch); always at the end and at a stop. */
  checkpointEvery?: number;
  /** Where modules not trained in this run come from (e.g. official weights converted by import-torch). */
  init?: CheckpointSource;
  onStep?: (r: StepRecord, of: { total: number; stepsPerEpoch: number }) => void;
  onStageStart?: (stage: TrainStage, from: number, total: number) => void;
  shouldStop?: () => boolean;
}

export interface TrainingSessionResult {
  stages: (TrainResult & { skipped?: boolean })[];
  stopped: boolean;
}

/** Weights of a module for a stage: the run's, else the initialisation source's; null when neither has them. */
async function existing(run: TrainingRun, init: CheckpointSource | undefined, cfg: PerFRDiffConfig, m: ModuleName): Promise<TensorMap | null> {
  return (await run.loadWeights(m)) ?? (init ? await loadModuleWeights(init, cfg, m) : null);
}

/** Seed of a module's random initialisation in a run: fixed by the run's seed and the module. */
const initSeed = (seed: number, m: ModuleName) => seed * 8 + ["denoiser", "prior", "pssl", "emotion_vae", "hypernet"].indexOf(m);

export async function trainStages(run: TrainingRun, o: TrainingSessionOptions): Promise<TrainingSessionResult> {
  const cfg = run.config;
  const dc = cfg.diffusion_decoder.args;
  if (dc.encode_3dmm || dc.encode_emotion) {
    throw new Error("training with diffusion_decoder.args.encode_3dmm or encode_emotion (the 3DMM VAE encodings) is not implemented; the official configurations set both false");
  }
  if (o.stages.includes("pwsg") && !cfg.main_model) throw new Error("the pwsg stage needs a configuration with a main_model section");
  const W = dc.window_size;
  const frames = checkCorpus(o.corpus, { audio: dc.s_audio_dim, emotion: dc.nfeats, threeDmm: dc.s_3dmm_dim }, 3 * W, "training corpus");
  if (o.validation) checkCorpus(o.validation, { audio: dc.s_audio_dim, emotion: dc.nfeats, threeDmm: dc.s_3dmm_dim }, 3 * W, "validation corpus");
  const seed = cfg.training.seed;
  const results: TrainingSessionResult["stages"] = [];
  const order = TRAIN_STAGES.filter((s) => o.stages.includes(s));
  for (const stage of order) {
    const config: PerFRDiffConfig = o.epochs ? { ...cfg, training: { ...cfg.training, [stage]: { ...cfg.training[stage], epochs: o.epochs } } } : cfg;
    // a stage continues from its last checkpoint in the run (a new run has none; a completed stage is skipped)
    const saved = await run.loadCheckpoint(stage);
    if (saved?.complete && (o.steps === undefined || saved.state.step >= o.steps)) {
      for (const w of Object.values(saved.weights)) w?.dispose();
      results.push({ stage, steps: saved.state.step, stepsPerEpoch: 0, stopped: false, weights: {}, skipped: true });
      continue;
    }
    const weights: Partial<Record<ModuleName, TensorMap>> = {};
    const owned: TensorMap[] = [];
    try {
      for (const m of stageModules(stage, cfg).trains) {
        const w = saved?.weights[m] ?? (o.init ? await loadModuleWeights(o.init, cfg, m) : null) ?? randomWeights(cfg, m, initSeed(seed, m));
        weights[m] = w;
        owned.push(w);
      }
      for (const m of stageModules(stage, cfg).needs) {
        const w = await existing(run, o.init, cfg, m);
        if (!w) throw new Error(`stage ${stage} needs trained ${m} weights: train its stage first (perfrdiff train ${m === "emotion_vae" ? "embedder" : m === "pssl" ? "pssl" : "gafrg"} into this run), or give --init DIR`);
        weights[m] = w;
        owned.push(w);
      }
      let total = 0;
      let perEpoch = 0;
      const result = await train({
        stage,
        config,
        corpus: o.corpus,
        frames,
        validation: o.validation ? { corpus: o.validation, every: o.valEvery ?? 0 } : undefined,
        weights,
        steps: o.steps,
        resume: saved?.state,
        checkpointEvery: o.checkpointEvery,
        onStep: (r) => {
          run.record(r);
          o.onStep?.(r, { total, stepsPerEpoch: perEpoch });
        },
        onValidation: (step, losses) => run.recordValidation(stage, step, losses),
        onCheckpoint: (state, w) => run.saveCheckpoint(state, w, total),
        shouldStop: o.shouldStop,
        onStart: (t, spe, from) => {
          total = t;
          perEpoch = spe;
          o.onStageStart?.(stage, from, t);
        },
      });
      results.push(result);
      for (const w of Object.values(result.weights)) w?.dispose();
      if (result.stopped) return { stages: results, stopped: true };
    } finally {
      for (const w of owned) w.dispose();
      if (saved) tf.dispose([...saved.state.optimizer.tensors.values()]);
    }
  }
  return { stages: results, stopped: false };
}
