/**
 * The training loop every stage shares: per step the stage's loss and its gradients, a check that every loss term is
 * finite (before the weights change), optional gradient clipping, the optimiser's step at the scheduled learning
 * rate; validation and checkpoints at their periods; a stop request honoured between steps. One read-back per step
 * (the loss terms, for the log and the check), as the official loops' `loss.item()`.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "@perfrdiff/hypernet";
import type { PerFRDiffConfig } from "../config";
import type { ModuleName } from "../weights/modules";
import { AdamW } from "./adamw";
import type { TrainingCorpus } from "./corpus";
import { officialCosineRate } from "./schedule";
import { SGD } from "./sgd";
import { buildStage, stageModules } from "./stages";
import type { TrainStage } from "./stages";

/**
 * Thrown when a loss term is NaN or infinite (nothing of the step is applied), or when a checkpoint would save a
 * non-finite weight (it is not saved). `term` names the loss term, or "parameter module/name".
 */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  constructor(
    readonly step: number,
    readonly term: string,
    readonly value: number,
  ) {
    super(`step ${step}: ${term.startsWith("parameter ") ? `${term} is not finite` : `loss term '${term}' is ${value}`}; the weights of the last checkpoint are kept`);
  }
}

/** What a run keeps to resume exactly: the next step, and the optimiser's state by parameter ("module/name"). */
export interface TrainState {
  stage: TrainStage;
  /** Steps done (the next step's index). */
  step: number;
  seed: number;
  optimizer: { kind: "adamw" | "sgd"; steps: number; counts: Record<string, number>; tensors: Map<string, tf.Tensor> };
}

/** One step's log line. */
export interface StepRecord {
  stage: TrainStage;
  step: number;
  epoch: number;
  lr: number;
  /** loss (the total) and each term */
  losses: Record<string, number>;
  stepMs: number;
}

export interface TrainOptions {
  stage: TrainStage;
  config: PerFRDiffConfig;
  corpus: TrainingCorpus;
  /** Clip length of the corpus' tracks. */
  frames: number;
  /** Validation loss on `corpus` every `every` steps (0: once per epoch). */
  validation?: { corpus: TrainingCorpus; every: number };
  /**
   * Weights to start from: the stage's trained modules (copied into variables; from a checkpoint, or random) and the
   * frozen modules it needs. Not disposed.
   */
  weights: Partial<Record<ModuleName, TensorMap>>;
  /** Default: config.training.seed. */
  seed?: number;
  /** Steps to reach in all (default: the stage's epochs x its steps per epoch). */
  steps?: number;
  /** A saved state to continue from (its weights are `weights`). */
  resume?: TrainState;
  /** Checkpoint every this many steps (default: once per epoch). */
  checkpointEvery?: number;
  /** Called before the first step: the steps to reach, the steps of an epoch, the step it starts from. */
  onStart?: (total: number, stepsPerEpoch: number, from: number) => void;
  onStep?: (r: StepRecord) => void | Promise<void>;
  onValidation?: (step: number, losses: Record<string, number>) => void | Promise<void>;
  /** Called at each checkpoint, at a stop request and at the end, with the state and the trained weights. */
  onCheckpoint?: (state: TrainState, weights: Partial<Record<ModuleName, TensorMap>>) => Promise<void>;
  /** Asked between steps (e.g. after SIGINT): true saves a checkpoint and returns. */
  shouldStop?: () => boolean;
}

export interface TrainResult {
  stage: TrainStage;
  /** Steps done in all (resumed ones included). */
  steps: number;
  stepsPerEpoch: number;
  stopped: boolean;
  /** The trained modules' final weights (plain tensors; the caller disposes them). */
  weights: Partial<Record<ModuleName, TensorMap>>;
}

/** Trainable copies (tf.Variables) of a module's weights, and their stable keys "module/name" by variable name. */
function variablesOf(module: ModuleName, weights: TensorMap, keys: Map<string, string>): TensorMap {
  const out = new (weights.constructor as new () => TensorMap)();
  for (const [name, t] of weights.tensors) {
    const v = tf.variable(t, true);
    keys.set(v.name, `${module}/${name}`);
    out.set(name, v);
  }
  return out;
}

/** The learning rate of an epoch for a stage's schedule. */
function rateOf(cfg: PerFRDiffConfig, stage: TrainStage, epoch: number, stepsPerEpoch: number, epochs: number): number {
  const t = cfg.training;
  switch (stage) {
    case "embedder":
      return t.embedder.lr;
    case "gafrg":
      return t.gafrg.scheduler === "none" ? t.gafrg.lr : officialCosineRate(t.gafrg.lr, epoch, t.gafrg.cosine_t_max ?? stepsPerEpoch, t.gafrg.cosine_start_epoch);
    case "pssl":
      return t.pssl.scheduler === "none" ? t.pssl.lr : officialCosineRate(t.pssl.lr, epoch, t.pssl.cosine_t_max ?? epochs, 1);
    case "pwsg":
      return t.pwsg.lr;
  }
}

/**
 * The sum of many scalars: a stack then a sum (tfjs-webgpu splits a concat over its 8 storage buffers per shader;
 * its addN does not, and fails past 7 inputs).
 */
function sumOf(scalars: tf.Tensor[]): tf.Scalar {
  return tf.sum(tf.stack(scalars)) as tf.Scalar;
}

/** Scales gradients so their global L2 norm is at most maxNorm (torch's clip_grad_norm_). */
async function clipGradients(grads: tf.NamedTensorMap, maxNorm: number): Promise<tf.NamedTensorMap> {
  const norm = tf.tidy(() => tf.sqrt(sumOf(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
  const total = (await norm.data())[0]!;
  norm.dispose();
  const scale = maxNorm / (total + 1e-6);
  if (scale >= 1) return grads;
  const out: tf.NamedTensorMap = {};
  for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
  tf.dispose(Object.values(grads));
  return out;
}

/** Trains one stage (see {@link TrainOptions}). */
export async function train(o: TrainOptions): Promise<TrainResult> {
  const cfg = o.config;
  const seed = o.seed ?? cfg.training.seed;
  if (o.resume && (o.resume.stage !== o.stage || o.resume.seed !== seed)) {
    throw new Error(`the saved state is for stage ${o.resume.stage} with seed ${o.resume.seed}, not ${o.stage} with seed ${seed}`);
  }
  const keys = new Map<string, string>();
  // the trained modules as variables, the frozen ones as given
  const weights: Partial<Record<ModuleName, TensorMap>> = { ...o.weights };
  for (const m of [...stageModules(o.stage, cfg).trains, ...stageModules(o.stage, cfg).needs]) {
    if (!o.weights[m]) throw new Error(`stage ${o.stage} needs ${m} weights`);
  }
  for (const m of stageModules(o.stage, cfg).trains) weights[m] = variablesOf(m, o.weights[m]!, keys);
  const stage = buildStage(o.stage, { cfg, corpus: o.corpus, frames: o.frames, seed, weights });
  const variables = Object.values(stage.trained).flatMap((w) => [...w!.tensors.values()] as tf.Variable[]);
  const epochs = cfg.training[o.stage].epochs;
  const total = o.steps ?? epochs * stage.stepsPerEpoch;
  const sgd = o.stage === "pwsg";
  const t = cfg.training;
  const optimizer = sgd
    ? new SGD(variables, { lr: t.pwsg.lr, momentum: t.pwsg.momentum, weightDecay: t.pwsg.weight_decay })
    : new AdamW(variables, { lr: t[o.stage as "embedder" | "gafrg" | "pssl"].lr, betas: t[o.stage as "embedder" | "gafrg" | "pssl"].betas, weightDecay: t[o.stage as "embedder" | "gafrg" | "pssl"].weight_decay });
  const byKey = new Map([...keys].map(([name, key]) => [key, name]));
  if (o.resume) {
    const saved = o.resume.optimizer;
    if (saved.kind !== (sgd ? "sgd" : "adamw")) throw new Error(`the saved optimiser state is ${saved.kind}, this stage uses ${sgd ? "sgd" : "adamw"}`);
    const name = (key: string) => {
      const n = byKey.get(key);
      if (!n) throw new Error(`the saved optimiser state has ${key}, which this stage does not train`);
      return n;
    };
    if (optimizer instanceof SGD) optimizer.load(new Map([...saved.tensors].map(([k, v]) => [name(k), v])));
    else {
      const moments = new Map<string, [tf.Tensor, tf.Tensor]>();
      for (const [k, v] of saved.tensors) {
        const [key, part] = [k.slice(0, k.lastIndexOf(":")), k.slice(k.lastIndexOf(":") + 1)];
        const pair = moments.get(name(key)) ?? [v, v];
        pair[part === "m" ? 0 : 1] = v;
        moments.set(name(key), pair);
      }
      optimizer.load({ steps: saved.steps, counts: Object.fromEntries(Object.entries(saved.counts).map(([k, n]) => [name(k), n])), moments });
    }
  }
  const plain = () => {
    const out: Partial<Record<ModuleName, TensorMap>> = {};
    for (const [m, w] of Object.entries(stage.trained) as [ModuleName, TensorMap][]) {
      const copy = new (w.constructor as new () => TensorMap)();
      for (const [name, v] of w.tensors) copy.set(name, tf.clone(v));
      out[m] = copy;
    }
    return out;
  };
  const stateAt = (step: number): TrainState => {
    const tensors = new Map<string, tf.Tensor>();
    let steps = 0;
    let counts: Record<string, number> = {};
    if (optimizer instanceof SGD) for (const [n, b] of optimizer.state()) tensors.set(keys.get(n)!, tf.clone(b));
    else {
      const s = optimizer.state();
      steps = s.steps;
      counts = Object.fromEntries(Object.entries(s.counts).map(([n, c]) => [keys.get(n)!, c]));
      for (const [n, [m, v]] of s.moments) {
        tensors.set(`${keys.get(n)}:m`, m);
        tensors.set(`${keys.get(n)}:v`, v);
      }
    }
    return { stage: o.stage, step, seed, optimizer: { kind: sgd ? "sgd" : "adamw", steps, counts, tensors } };
  };
  const checkpoint = async (step: number) => {
    if (!o.onCheckpoint) return;
    // a finite loss and gradient can still step a weight to infinity (a learning rate far too high): such weights
    // are never saved over the last good checkpoint
    const flags = tf.tidy(() => tf.stack(variables.map((v) => tf.all(tf.isFinite(v)))));
    const finite = await flags.data();
    flags.dispose();
    const bad = finite.findIndex((f) => !f);
    if (bad >= 0) throw new TrainingDivergedError(step, `parameter ${keys.get(variables[bad]!.name)}`, Number.NaN);
    const state = stateAt(step);
    const w = plain();
    try {
      await o.onCheckpoint(state, w);
    } finally {
      tf.dispose([...state.optimizer.tensors.values()]);
      for (const m of Object.values(w)) m?.dispose();
    }
  };

  let step = o.resume?.step ?? 0;
  let stopped = false;
  const valEvery = o.validation ? o.validation.every || stage.stepsPerEpoch : 0;
  const checkpointEvery = o.checkpointEvery ?? stage.stepsPerEpoch;
  o.onStart?.(total, stage.stepsPerEpoch, step);
  try {
    while (step < total) {
      if (o.shouldStop?.()) {
        stopped = true;
        break;
      }
      const t0 = performance.now();
      const epoch = Math.floor(step / stage.stepsPerEpoch);
      const lr = rateOf(cfg, o.stage, epoch, stage.stepsPerEpoch, epochs);
      optimizer.lr = lr;
      let names: string[] = [];
      let termTensors: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const l = stage.loss(step);
        names = Object.keys(l.terms);
        termTensors = names.map((n) => tf.keep(l.terms[n]!));
        return l.total;
      }, variables);
      let losses: Record<string, number>;
      try {
        // the loss terms in one asynchronous read-back (a synchronous one is unavailable on WebGPU in Node). Gradients
        // are not checked (a reduction per variable would cost ~200 GPU dispatches a step): a non-finite gradient
        // makes the next step's loss non-finite, and the checkpoint guard never saves the weights it made.
        const stacked = tf.stack([value, ...termTensors]);
        const values = await stacked.data();
        stacked.dispose();
        losses = Object.fromEntries(["loss", ...names].map((n, i) => [n, values[i]!]));
        // name a term before the total it makes up
        const bad = [...names, "loss"].find((n) => !Number.isFinite(losses[n]!));
        if (bad) throw new TrainingDivergedError(step, bad, losses[bad]!);
        const clipped = !sgd && o.stage === "gafrg" && t.gafrg.clip_grad ? await clipGradients(grads, t.gafrg.max_grad_norm) : grads;
        optimizer.step(clipped);
        if (clipped !== grads) tf.dispose(Object.values(clipped));
      } finally {
        tf.dispose([value, ...termTensors, ...Object.values(grads)]);
      }
      step++;
      await o.onStep?.({ stage: o.stage, step, epoch, lr, losses, stepMs: performance.now() - t0 });
      if (o.validation && step % valEvery === 0) await o.onValidation?.(step, await stage.validationLoss(o.validation.corpus, seed));
      if (checkpointEvery && step % checkpointEvery === 0 && step < total) await checkpoint(step);
    }
    await checkpoint(step);
    return { stage: o.stage, steps: step, stepsPerEpoch: stage.stepsPerEpoch, stopped, weights: plain() };
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
  }
}
