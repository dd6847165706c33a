/**
 * A training run's folder (Node): what `perfrdiff generate` and `eval` read, and what a resumed run continues from.
 *
 *   RUN/config.yaml                 the whole configuration (model and training)
 *   RUN/<module>.safetensors        each trained module's latest weights (our weight files)
 *   RUN/metrics.jsonl               one line per step (stage, step, epoch, lr, loss terms, step time) and validation
 *   RUN/loss.svg                    the loss curves, rewritten at each checkpoint
 *   RUN/train-state/<stage>.json    the stage's last checkpoint: step, seed, optimiser counts, its folder
 *   RUN/train-state/<stage>/step-N/ that checkpoint's weights and optimiser moments
 *   RUN/FaceVerse/                  mean_face.npy, std_face.npy: the 3DMM statistics the inputs were normalised with
 *                                   (perfrdiff train copies them; generate and eval read them by default)
 *
 * Every file is written to a temporary name and renamed into place, so a killed process leaves the previous file
 * whole; a checkpoint's folder is complete before the state file names it. Randomness needs no saved state: every
 * draw of a step derives from (seed, step), and the data order from (seed, epoch).
 */
import type { TensorMap } from "@perfrdiff/hypernet";
import { stringify } from "yaml";
import * as tf from "@tensorflow/tfjs";
import { parseConfig } from "../config";
import type { PerFRDiffConfig } from "../config";
import { loadWeightFileFromPath, weightFileMetadata } from "../weights/files";
import { parseSafetensors, serializeSafetensors } from "../weights/safetensors";
import type { SafeTensor } from "../weights/safetensors";
import type { ModuleName } from "../weights/modules";
import { writeFileAtomic } from "../io/atomic-file";
import { lossPlotSvg } from "./plot";
import type { ValidationPoint } from "./plot";
import type { TrainStage } from "./stages";
import type { StepRecord, TrainState } from "./trainer";

const fs = () => import("node:fs/promises");
const path = () => import("node:path");

const exists = async (p: string) => (await fs()).access(p).then(() => true, () => false);

async function tensorsToBytes(tensors: Map<string, tf.Tensor>, metadata: Record<string, string>): Promise<Uint8Array> {
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of tensors) out.set(name, { dtype: "F32", shape: t.shape, data: (await t.data()) as Float32Array });
  return serializeSafetensors(out, metadata);
}

/** The saved state of a stage, without its tensors. */
interface StateFile {
  stage: TrainStage;
  step: number;
  seed: number;
  /** steps the stage was to run to */
  total: number;
  complete: boolean;
  folder: string;
  optimizer: { kind: "adamw" | "sgd"; steps: number; counts: Record<string, number> };
}

export class TrainingRun {
  private records: StepRecord[] = [];
  private validation: ValidationPoint[] = [];

  private constructor(
    readonly dir: string,
    readonly config: PerFRDiffConfig,
  ) {}

  /**
   * Opens RUN for training: a new folder (or an empty one), written with `config`; with `resume`, an existing run
   * whose config.yaml is used instead; `force` replaces an existing run. An existing run is never overwritten
   * otherwise.
   */
  static async open(dir: string, config: PerFRDiffConfig, options: { resume?: boolean; force?: boolean } = {}): Promise<TrainingRun> {
    const { mkdir, readdir, readFile, rm } = await fs();
    const { join } = await path();
    const entries = await readdir(dir).catch(() => null);
    const isRun = entries?.includes("config.yaml") ?? false;
    if (options.resume) {
      if (!isRun) throw new Error(`${dir} is not a training run (no config.yaml) to resume`);
      const run = new TrainingRun(dir, parseConfig(await readFile(join(dir, "config.yaml"), "utf8")));
      await run.readMetrics();
      return run;
    }
    if (entries && entries.length > 0) {
      if (!options.force) throw new Error(`${dir} exists and is not empty; pass --resume to continue its training or --force to start over`);
      if (!isRun) throw new Error(`${dir} is not a training run (no config.yaml); --force replaces runs only: choose an empty or new folder`);
      await rm(dir, { recursive: true, force: true });
    }
    await mkdir(join(dir, "train-state"), { recursive: true });
    const run = new TrainingRun(dir, config);
    await writeFileAtomic(join(dir, "config.yaml"), stringify(config));
    return run;
  }

  private async file(...parts: string[]): Promise<string> {
    return (await path()).join(this.dir, ...parts);
  }

  /** The trained weights of a module in this run, or null when it has none yet. */
  async loadWeights(module: ModuleName): Promise<TensorMap | null> {
    const p = await this.file(`${module}.safetensors`);
    return (await exists(p)) ? loadWeightFileFromPath(this.config, module, p) : null;
  }

  /** The stage's last checkpoint: its state (tensors included) and weights; null when the stage has none. */
  async loadCheckpoint(stage: TrainStage): Promise<{ state: TrainState; weights: Partial<Record<ModuleName, TensorMap>>; total: number; complete: boolean } | null> {
    const p = await this.file("train-state", `${stage}.json`);
    if (!(await exists(p))) return null;
    const { readFile } = await fs();
    const s = JSON.parse(await readFile(p, "utf8")) as StateFile;
    const folder = await this.file("train-state", s.folder);
    const { tensors } = parseSafetensors(new Uint8Array(await readFile(`${folder}/optimizer.safetensors`)));
    const optimizerTensors = new Map([...tensors].map(([k, t]) => [k, tf.tensor(t.data as Float32Array, t.shape)]));
    const weights: Partial<Record<ModuleName, TensorMap>> = {};
    const { readdir } = await fs();
    for (const f of await readdir(folder)) {
      if (f === "optimizer.safetensors" || !f.endsWith(".safetensors")) continue;
      const m = f.slice(0, -".safetensors".length) as ModuleName;
      weights[m] = await loadWeightFileFromPath(this.config, m, `${folder}/${f}`);
    }
    return { state: { stage: s.stage, step: s.step, seed: s.seed, optimizer: { ...s.optimizer, tensors: optimizerTensors } }, weights, total: s.total, complete: s.complete };
  }

  /**
   * Saves a checkpoint of a stage: its folder (weights and optimiser moments), then the state file naming it, then
   * the run's top-level weight files; older checkpoints of the stage are removed.
   */
  async saveCheckpoint(state: TrainState, weights: Partial<Record<ModuleName, TensorMap>>, total: number): Promise<void> {
    const { mkdir, rm, readdir, rename } = await fs();
    const stateDir = await this.file("train-state", state.stage);
    const name = `step-${state.step}`;
    const tmp = `${stateDir}/${name}.${process.pid}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const bytes: [ModuleName, Uint8Array][] = [];
    for (const [m, w] of Object.entries(weights) as [ModuleName, TensorMap][]) {
      const b = await tensorsToBytes(w.tensors, weightFileMetadata(m, `perfrdiff train ${state.stage}, step ${state.step}`));
      bytes.push([m, b]);
      await writeFileAtomic(`${tmp}/${m}.safetensors`, b);
    }
    await writeFileAtomic(`${tmp}/optimizer.safetensors`, await tensorsToBytes(state.optimizer.tensors, { format: "perfrdiff-optimizer", stage: state.stage }));
    await rm(`${stateDir}/${name}`, { recursive: true, force: true });
    await rename(tmp, `${stateDir}/${name}`);
    const file: StateFile = {
      stage: state.stage,
      step: state.step,
      seed: state.seed,
      total,
      complete: state.step >= total,
      folder: `${state.stage}/${name}`,
      optimizer: { kind: state.optimizer.kind, steps: state.optimizer.steps, counts: state.optimizer.counts },
    };
    await writeFileAtomic(await this.file("train-state", `${state.stage}.json`), `${JSON.stringify(file, null, 2)}\n`);
    for (const [m, b] of bytes) await writeFileAtomic(await this.file(`${m}.safetensors`), b);
    for (const f of await readdir(stateDir)) if (f !== name) await rm(`${stateDir}/${f}`, { recursive: true, force: true });
    await this.writeMetrics();
  }

  /** Adds a step's record (written to metrics.jsonl at the next checkpoint or flush). */
  record(r: StepRecord): void {
    this.records.push(r);
  }

  recordValidation(stage: TrainStage, step: number, losses: Record<string, number>): void {
    this.validation.push({ stage, step, losses });
  }

  /** The step records so far (of every stage). */
  get steps(): readonly StepRecord[] {
    return this.records;
  }

  /** Writes metrics.jsonl and loss.svg from the records (atomically). */
  async writeMetrics(): Promise<void> {
    const lines = [
      ...this.records.map((r) => JSON.stringify({ ...r, stepMs: Math.round(r.stepMs * 10) / 10 })),
      ...this.validation.map((v) => JSON.stringify({ stage: v.stage, step: v.step, validation: v.losses })),
    ];
    await writeFileAtomic(await this.file("metrics.jsonl"), lines.length ? `${lines.join("\n")}\n` : "");
    await writeFileAtomic(await this.file("loss.svg"), lossPlotSvg(this.records, this.validation, `training ${this.dir}`));
  }

  /** Reads metrics.jsonl of a resumed run, keeping each stage's records up to its last checkpoint. */
  private async readMetrics(): Promise<void> {
    const p = await this.file("metrics.jsonl");
    if (!(await exists(p))) return;
    const { readFile } = await fs();
    const saved = new Map<string, number>();
    for (const stage of ["embedder", "pssl", "gafrg", "pwsg"]) {
      const sp = await this.file("train-state", `${stage}.json`);
      if (await exists(sp)) saved.set(stage, (JSON.parse(await readFile(sp, "utf8")) as StateFile).step);
    }
    for (const line of (await readFile(p, "utf8")).split("\n")) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as StepRecord & { validation?: Record<string, number> };
      if (r.step > (saved.get(r.stage) ?? 0)) continue; // written after the checkpoint resumed from
      if (r.validation) this.validation.push({ stage: r.stage, step: r.step, losses: r.validation });
      else this.records.push(r);
    }
  }
}
