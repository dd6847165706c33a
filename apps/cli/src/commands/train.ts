import type { Command } from "commander";
import type { BackendName, PerFRDiffConfig } from "@perfrdiff/core";
import type { TrainStage } from "@perfrdiff/core/training";
import { faceStatsFolder, fileExists, wholeNumber } from "../inputs";
import { StageProgress } from "../progress";

/** The options of `perfrdiff train` as commander hands them over. */
export interface TrainCliOptions {
  data: string;
  out: string;
  preset?: string;
  config?: string;
  epochs?: string;
  steps?: string;
  seed?: string;
  frames?: string;
  backend?: string;
  dawn?: string;
  resume?: boolean;
  force?: boolean;
  checkpointEvery?: string;
  valEvery?: string;
  split?: string;
  valSplit?: string;
  init?: string;
  faceStats?: string | false;
  json?: boolean;
}

export interface TrainSummary {
  out: string;
  stages: { stage: string; steps: number; skipped: boolean; lastLoss: Record<string, number> | null; stepsPerSecond: number | null }[];
  stopped: boolean;
  backend: string;
  seconds: number;
}

const STAGE_ARGS = ["embedder", "pssl", "gafrg", "pwsg", "all"];

/**
 * Copies mean_face.npy / std_face.npy into the run's FaceVerse folder (through a temporary name; a resumed run keeps
 * its own): generate and eval then normalise a model's inputs as it was trained.
 */
async function keepFaceStats(from: string, to: string, replace: boolean): Promise<void> {
  const { mkdir } = await import("node:fs/promises");
  const { join, resolve } = await import("node:path");
  const { copyFileAtomic } = await import("@perfrdiff/core/training");
  if (resolve(from) === resolve(to)) return;
  await mkdir(to, { recursive: true });
  for (const f of ["mean_face.npy", "std_face.npy"]) {
    if ((!replace && (await fileExists(join(to, f)))) || !(await fileExists(join(from, f)))) continue;
    await copyFileAtomic(join(from, f), join(to, f));
  }
}

/**
 * `perfrdiff train <stage|all>`: reads the corpus and the configuration, then core trains the stage(s) into the run
 * folder (checkpoints, metrics, loss plot). SIGINT saves a checkpoint and exits 0; a second SIGINT exits at once.
 */
export async function runTrain(stageArg: string, o: TrainCliOptions, progress = new StageProgress(), signals: NodeJS.EventEmitter = process): Promise<TrainSummary> {
  const t0 = performance.now();
  if (!STAGE_ARGS.includes(stageArg)) throw new Error(`stage must be one of ${STAGE_ARGS.join(", ")}, got '${stageArg}'`);
  if (o.epochs !== undefined && o.steps !== undefined) throw new Error("give --epochs or --steps, not both");
  if (o.resume && o.force) throw new Error("give --resume or --force, not both");
  const core = await import("@perfrdiff/core");
  const training = await import("@perfrdiff/core/training");
  const epochs = o.epochs === undefined ? undefined : wholeNumber(o.epochs, "--epochs", 1);
  const steps = o.steps === undefined ? undefined : wholeNumber(o.steps, "--steps", 1);
  const checkpointEvery = o.checkpointEvery === undefined ? undefined : wholeNumber(o.checkpointEvery, "--checkpoint-every", 1);
  const valEvery = o.valEvery === undefined ? undefined : wholeNumber(o.valEvery, "--val-every", 1);
  const backendName = (o.backend ?? "wasm") as BackendName;
  if (!core.BACKEND_NAMES.includes(backendName)) throw new Error(`--backend must be one of ${core.BACKEND_NAMES.join(", ")}, got '${o.backend}'`);
  const presets = Object.keys(core.PRESETS);
  const preset = o.preset ?? "official";
  if (!presets.includes(preset)) throw new Error(`--preset must be one of ${presets.join(", ")}, got '${o.preset}'`);
  const stages = (stageArg === "all" ? training.TRAIN_STAGES : [stageArg]) as TrainStage[];

  // ---- configuration: --config over the preset; a resumed run keeps its own
  let config: PerFRDiffConfig = o.config ? await core.loadConfig(o.config) : core.presetConfig(preset as keyof typeof core.PRESETS);
  if (o.seed !== undefined) config = { ...config, training: { ...config.training, seed: wholeNumber(o.seed, "--seed", 0, 2 ** 32 - 1) } };
  if (o.frames !== undefined) config = { ...config, training: { ...config.training, clip_length: wholeNumber(o.frames, "--frames", 1) } };
  const run = await training.TrainingRun.open(o.out, config, { resume: o.resume, force: o.force });
  if (o.resume && (o.config || o.preset || o.seed !== undefined || o.frames !== undefined)) {
    process.stderr.write(`resuming ${o.out}: its config.yaml is used (--config, --preset, --seed and --frames apply to new runs)\n`);
  }
  config = run.config;

  // ---- the corpus, in memory
  const dataset = await import("@perfrdiff/features/dataset");
  const { loadFaceStats } = await import("@perfrdiff/features/face");
  const { join } = await import("node:path");
  // a resumed run keeps the statistics it was trained with (RUN/FaceVerse), a new run takes them with it
  const faceStatsDir = await faceStatsFolder(o.faceStats, o.data, o.resume ? o.out : undefined);
  const faceStats = faceStatsDir ? await loadFaceStats(faceStatsDir) : undefined;
  if (faceStatsDir) await keepFaceStats(faceStatsDir, join(o.out, "FaceVerse"), !o.resume);
  const load = async (split: string) => {
    const ds = await dataset.ReactDataset.open(o.data, split);
    return dataset.loadCorpus(ds, { frames: config.training.clip_length, faceStats, onProgress: (d, t) => progress.update(`read ${split}`, d, t, "clips") });
  };
  const corpus = await load(o.split ?? "train");
  const valSplit = o.valSplit ?? "val";
  const validation = (await fileExists(join(o.data, `${valSplit}.csv`))) ? await load(valSplit) : undefined;
  progress.stop();
  if (!corpus.fromNeighbours) process.stderr.write(`${o.data}: no neighbour_emotion_${o.split ?? "train"}.npy; each speaker clip's own listener is its only appropriate reaction\n`);

  const backend = await core.useBackend(backendName, { dawn: o.dawn });
  // ---- SIGINT: finish the step, save a checkpoint, exit 0
  let stop = false;
  const onSignal = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write("\nstopping after this step (a checkpoint is saved); press Ctrl-C again to quit at once\n");
  };
  signals.on("SIGINT", onSignal);
  const rates = new Map<string, { steps: number; ms: number }>();
  const last = new Map<string, Record<string, number>>();
  let result;
  try {
    result = await training.trainStages(run, {
      stages,
      corpus,
      validation,
      valEvery,
      steps,
      epochs,
      checkpointEvery,
      init: o.init,
      shouldStop: () => stop,
      onStep: (r, of) => {
        const rate = rates.get(r.stage) ?? { steps: 0, ms: 0 };
        rate.steps++;
        rate.ms += r.stepMs;
        rates.set(r.stage, rate);
        last.set(r.stage, r.losses);
        const detail = `loss ${r.losses.loss!.toPrecision(4)} | ${((1000 * rate.steps) / rate.ms).toFixed(2)} steps/s | epoch ${r.epoch + 1}`;
        progress.update(r.stage, r.step, of.total, "steps", detail);
      },
    });
  } catch (err) {
    if (err instanceof training.TrainingDivergedError) throw new Error(`${err.message} (${o.out})`);
    throw err;
  } finally {
    signals.off("SIGINT", onSignal);
    progress.stop();
  }
  return {
    out: o.out,
    stages: result.stages.map((s) => {
      const r = rates.get(s.stage);
      return { stage: s.stage, steps: s.steps, skipped: !!s.skipped, lastLoss: last.get(s.stage) ?? null, stepsPerSecond: r ? (1000 * r.steps) / r.ms : null };
    }),
    stopped: result.stopped,
    backend,
    seconds: (performance.now() - t0) / 1000,
  };
}

const HELP = `
Stages (all: embedder, pssl, gafrg, pwsg in this order, into one run folder):
  embedder  the emotion GRU-VAE (reconstruction + KL + its 25 -> 58 coefficient regressor)
  pssl      the person-specific encoder, supervised contrastive loss over listener identities
  gafrg     the diffusion prior and the transformer denoiser (the official train_diffusion.py); needs emotion_vae
  pwsg      the weight-shift hypernetwork through the frozen GAFRG (train_rewrite_weight.py); needs denoiser,
            emotion_vae and pssl
A stage needs the modules above it trained into the same run, or --init DIR (a folder of our weight files, e.g.
official checkpoints converted by import-torch).

The run folder: config.yaml, <module>.safetensors (what generate --weights reads), metrics.jsonl, loss.svg,
train-state/ (checkpoints: weights and optimiser moments). An existing run is continued with --resume (bit for bit:
the same steps as an uninterrupted run) or replaced with --force; never overwritten otherwise. Ctrl-C saves a
checkpoint and exits.

Presets: official (the official YAML values: 29 M parameters for GAFRG, 500 epochs; a GPU job) or small (widths
64-128, a rank-4 PWSG: minutes on a 2-core CPU). --config YAML overrides them (our training: section, or an official
configs/diffusion_model.yaml / rewrite_weight.yaml with their optimizer / loss / dataset / trainer sections).

Examples:
  pnpm perfrdiff synth --out data/synth --speakers 12 --listeners 4 --seed 1
  pnpm perfrdiff train all --data data/synth --out runs/small --preset small
  pnpm perfrdiff train gafrg --data data/react --out runs/official --init weights/official --backend webgpu`;

export function registerTrain(program: Command): void {
  program
    .command("train")
    .argument("<stage>", "embedder, pssl, gafrg, pwsg or all")
    .description("Train PerFRDiff's stages from scratch (or from --init) on a REACT-layout corpus, into a resumable run folder")
    .requiredOption("--data <root>", "dataset root in the REACT 2024 layout (real, or made by perfrdiff synth)")
    .requiredOption("--out <dir>", "run folder")
    .option("--preset <name>", "official or small (default official)")
    .option("--config <yaml>", "configuration file (overrides the preset)")
    .option("--epochs <n>", "epochs per stage (default: the configuration's)")
    .option("--steps <n>", "steps per stage instead of epochs")
    .option("--seed <n>", "training seed (default: the configuration's); same seed, data and backend give the same weights")
    .option("--frames <n>", "frames per clip (default: the configuration's clip_length, 750); for shorter clips, as perfrdiff synth --frames makes")
    .option("--backend <name>", "tfjs backend: wasm, cpu, webgpu or tensorflow", "wasm")
    .option("--dawn <path>", "webgpu in Node: a dawn.node binary instead of the webgpu package's")
    .option("--resume", "continue the run in --out from its last checkpoints")
    .option("--force", "replace the run in --out")
    .option("--checkpoint-every <n>", "steps between checkpoints (default: one per epoch)")
    .option("--val-every <n>", "steps between validation losses (default: one per epoch)")
    .option("--split <name>", "training split", "train")
    .option("--val-split <name>", "validation split, when its list exists", "val")
    .option("--init <dir>", "weights of modules not trained in this run (our weight files)")
    .option("--face-stats <dir>", "mean_face.npy / std_face.npy (default ROOT/FaceVerse when present)")
    .option("--no-face-stats", "use 3DMM tracks as they are")
    .option("--json", "print a summary object on stdout")
    .addHelpText("after", HELP)
    .action(async (stage: string, opts: TrainCliOptions) => {
      const s = await runTrain(stage, opts);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(s)}\n`);
        return;
      }
      for (const st of s.stages) {
        const loss = st.lastLoss ? Object.entries(st.lastLoss).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(", ") : "";
        process.stderr.write(
          `${st.stage}: ${st.skipped ? "already complete" : `${st.steps} steps${st.stepsPerSecond ? `, ${st.stepsPerSecond.toFixed(2)} steps/s` : ""}${loss ? `, last ${loss}` : ""}`}\n`,
        );
      }
      process.stderr.write(`${s.stopped ? "stopped; resume with --resume" : "done"} in ${s.seconds.toFixed(1)} s (${s.backend}): ${s.out}\n`);
    });
}
