/**
 * The PerFRDiff paper's ablations (Tables 6-9), each row a documented configuration in `packages/eval/ablations/`
 * (a YAML that `extends` a preset and changes what the row is about), trained and evaluated alike:
 *
 *   OUT/base/          the emotion VAE and PSSL, trained once (no row changes them)
 *   OUT/gafrg/         Table 7 only: the GAFRG its rows share (they differ in PWSG alone)
 *   OUT/<row>/         the row's run: its config.yaml, every module it generates with (a checkpoint `perfrdiff eval`
 *                      reads alone), metrics.jsonl, loss.svg
 *   OUT/<row>/eval/    per task: the saved predictions (resumable), the metrics and per-clip values
 *   OUT/results.json   the table
 *
 * Every stage continues from its last checkpoint when rerun, and saved predictions are read back, so a killed
 * ablation resumes where it stopped.
 */
import { createReactionGenerator, parseConfig } from "@perfrdiff/core";
import type { BackendName, PerFRDiffConfig, SamplerName } from "@perfrdiff/core";
import { TrainingRun, copyFileAtomic, trainStages } from "@perfrdiff/core/training";
import type { TrainStage, TrainingCorpus } from "@perfrdiff/core/training";
import { ReactDataset, loadCorpus } from "@perfrdiff/features/dataset";
import type { FaceStats } from "@perfrdiff/layout";
import type { ReactMetrics } from "@perfrdiff/metrics";
import { clipRecords, evaluateModelOnSplit } from "./run";
import type { ClipMetricsRecord } from "./compare";
import { openEvalSplit } from "./split";
import type { EvalTask } from "./split";
import { PredictionStore } from "./store";

export type AblationTableNumber = 6 | 7 | 8 | 9;

export interface AblationRow {
  /** the run folder's name and the YAML's `table<N>-<name>.yaml` */
  name: string;
  /** the row's label in the table */
  label: string;
}

export interface AblationTable {
  title: string;
  /** the stage whose modules differ between rows: GAFRG (each row trains its own, then its PWSG) or PWSG alone */
  varies: "gafrg" | "pwsg";
  rows: AblationRow[];
}

/** The paper's ablation tables and their rows, in the paper's order. */
export const ABLATION_TABLES: Readonly<Record<AblationTableNumber, AblationTable>> = {
  6: {
    title: "Table 6: speaker modalities the generator is conditioned on",
    varies: "gafrg",
    rows: [
      { name: "audio", label: "audio" },
      { name: "3dmm", label: "3DMM" },
      { name: "emotion", label: "emotion" },
      { name: "audio-3dmm", label: "audio + 3DMM" },
      { name: "audio-emotion", label: "audio + emotion" },
      { name: "3dmm-emotion", label: "3DMM + emotion" },
      { name: "all", label: "audio + 3DMM + emotion" },
    ],
  },
  7: {
    title: "Table 7: what PWSG generates for the edited layers",
    varies: "pwsg",
    rows: [
      { name: "weight", label: "weights (W' = dW)" },
      { name: "offset", label: "offset (W' = W (1 + dW))" },
      { name: "shift", label: "shift (W' = W + dW)" },
    ],
  },
  8: {
    title: "Table 8: what the denoiser predicts",
    varies: "gafrg",
    rows: [
      { name: "noise", label: "noise (epsilon)" },
      { name: "x0", label: "clean reaction (x0)" },
    ],
  },
  9: {
    title: "Table 9: classifier-free guidance",
    varies: "gafrg",
    rows: [
      { name: "no-cfg", label: "without guidance" },
      { name: "cfg", label: "with guidance" },
    ],
  },
};

/** The path of a row's YAML (inside this package). */
export async function ablationConfigPath(table: AblationTableNumber, row: string): Promise<string> {
  const { fileURLToPath } = await import("node:url");
  return fileURLToPath(new URL(`../ablations/table${table}-${row}.yaml`, import.meta.url));
}

/** A row's configuration: its YAML, over `preset` when given (else the preset its YAML extends). */
export async function ablationConfig(table: AblationTableNumber, row: string, preset?: string): Promise<PerFRDiffConfig> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(await ablationConfigPath(table, row), "utf8");
  return parseConfig(preset ? text.replace(/^extends: \w+$/m, `extends: ${preset}`) : text);
}

export interface AblationOptions {
  /** dataset root (REACT layout, real or from perfrdiff synth) with train and val splits */
  data: string;
  /** output folder (see the module comment) */
  out: string;
  /** the preset every row extends (default: the one its YAML names, `small`) */
  preset?: string;
  /** frames per clip (default: the configuration's clip_length) */
  frames?: number;
  /** steps per stage (default: each stage's configured epochs) */
  steps?: Partial<Record<TrainStage, number>>;
  /** the split evaluated (default val) */
  split?: string;
  /** default both */
  tasks?: EvalTask[];
  /** reactions per clip (default 10) */
  k?: number;
  sampler?: SamplerName;
  /** sampler steps (default: the configuration's) */
  sampleSteps?: number;
  seed?: number;
  faceStats?: FaceStats;
  backend?: BackendName;
  /** what is happening: training a row's stage (step of total) or generating its reactions (clip of total) */
  onProgress?: (p: { row: string; what: string; done: number; total: number; unit: "steps" | "clips" }) => void;
}

export interface AblationRowResult extends AblationRow {
  /** the row's YAML */
  config: string;
  /** the row's run folder */
  run: string;
  metrics: Partial<Record<EvalTask, ReactMetrics>>;
  perClip: Partial<Record<EvalTask, ClipMetricsRecord[]>>;
}

export interface AblationResult {
  table: AblationTableNumber;
  title: string;
  split: string;
  clips: number;
  k: number;
  rows: AblationRowResult[];
}

/** Copies the weight files of `modules` from run `from` into run `to` where `to` has none (a row's run holds them all). */
async function shareModules(from: string, to: string, modules: string[]): Promise<void> {
  const { access } = await import("node:fs/promises");
  const { join } = await import("node:path");
  for (const m of modules) {
    const target = join(to, `${m}.safetensors`);
    if (await access(target).then(() => true, () => false)) continue;
    await copyFileAtomic(join(from, `${m}.safetensors`), target);
  }
}

/** Trains, evaluates and tabulates every row of a table (see the module comment). */
export async function runAblation(table: AblationTableNumber, o: AblationOptions): Promise<AblationResult> {
  const spec = ABLATION_TABLES[table];
  if (!spec) throw new Error(`no ablation table ${String(table)}; the paper's are ${Object.keys(ABLATION_TABLES).join(", ")}`);
  const { join } = await import("node:path");
  const { mkdir, writeFile, readdir } = await import("node:fs/promises");
  const configs = await Promise.all(spec.rows.map((r) => ablationConfig(table, r.name, o.preset)));
  const withFrames = (c: PerFRDiffConfig): PerFRDiffConfig => (o.frames ? { ...c, training: { ...c.training, clip_length: o.frames } } : c);
  const base = withFrames(configs[configs.length - 1]!); // the full model's row: the preset itself
  const frames = base.training.clip_length;
  const split = o.split ?? "val";
  const tasks = o.tasks ?? ["mafrg", "pmafrg"];
  const k = o.k ?? 10;
  await mkdir(o.out, { recursive: true });

  // ---- the corpora, read once
  const load = async (name: string): Promise<TrainingCorpus> => loadCorpus(await ReactDataset.open(o.data, name), { frames, faceStats: o.faceStats });
  const train = await load("train");
  const validation = await load(split);

  /**
   * Opens a run folder (continuing it when it has a config.yaml), gives it the weight files of modules trained
   * elsewhere (`shared`: from which run, which modules), and trains `stages` into it.
   */
  const trainInto = async (dir: string, cfg: PerFRDiffConfig, stages: TrainStage[], row: string, shared: [string, string[]][] = []) => {
    const resume = await readdir(dir).then((e) => e.includes("config.yaml"), () => false);
    const run = await TrainingRun.open(dir, cfg, { resume });
    for (const [from, modules] of shared) await shareModules(from, dir, modules);
    for (const stage of stages) {
      await trainStages(run, {
        stages: [stage],
        corpus: train,
        validation,
        steps: o.steps?.[stage],
        onStep: (r, of) => o.onProgress?.({ row, what: `train ${stage}`, done: r.step, total: of.total, unit: "steps" }),
      });
    }
  };

  const baseDir = join(o.out, "base");
  await trainInto(baseDir, base, ["embedder", "pssl"], "base");
  let gafrgDir = baseDir;
  if (spec.varies === "pwsg") {
    gafrgDir = join(o.out, "gafrg");
    await trainInto(gafrgDir, base, ["gafrg"], "gafrg", [[baseDir, ["emotion_vae", "pssl"]]]);
  }

  const splits = new Map(await Promise.all(tasks.map(async (task) => [task, await openEvalSplit(o.data, split, { task, frames, faceStats: o.faceStats, missingHistory: "generic" })] as const)));
  const rows: AblationRowResult[] = [];
  for (const [i, row] of spec.rows.entries()) {
    const dir = join(o.out, row.name);
    const cfg = withFrames(configs[i]!);
    const shared: [string, string[]][] = [[baseDir, ["emotion_vae", "pssl"]]];
    if (spec.varies === "pwsg") shared.push([gafrgDir, ["denoiser"]]);
    await trainInto(dir, cfg, spec.varies === "pwsg" ? ["pwsg"] : tasks.includes("pmafrg") ? ["gafrg", "pwsg"] : ["gafrg"], row.name, shared);
    const result: AblationRowResult = { ...row, config: await ablationConfigPath(table, row.name), run: dir, metrics: {}, perClip: {} };
    for (const task of tasks) {
      const s = splits.get(task)!;
      const gen = await createReactionGenerator({ checkpoint: dir, config: cfg, backend: o.backend, personalise: task === "pmafrg" });
      try {
        const settings = { table, row: row.name, task, split, sampler: o.sampler ?? "ddim", steps: o.sampleSteps ?? null, seed: o.seed ?? 0 };
        const store = await PredictionStore.open(join(dir, "eval", task), settings, k, frames);
        const r = await evaluateModelOnSplit(gen, s, {
          k,
          sampler: o.sampler,
          steps: o.sampleSteps,
          seed: o.seed,
          store,
          onProgress: (done, total) => o.onProgress?.({ row: row.name, what: task === "pmafrg" ? "generate (personalised)" : "generate", done, total, unit: "clips" }),
        });
        result.metrics[task] = r.metrics;
        result.perClip[task] = clipRecords(s.clips, r.perClip);
        await writeFile(join(dir, "eval", task, "per-clip.jsonl"), `${result.perClip[task]!.map((x) => JSON.stringify(x)).join("\n")}\n`);
      } finally {
        gen.dispose();
      }
    }
    rows.push(result);
  }
  const out: AblationResult = { table, title: spec.title, split, clips: validation.items.length, k, rows };
  await writeFile(join(o.out, "results.json"), `${JSON.stringify({ ...out, rows: rows.map(({ perClip: _, ...r }) => r) }, null, 1)}\n`);
  return out;
}

/** The metrics a table shows per task, with the better side of each. */
const TABLE_METRICS = [
  ["FRCorr", "↑"],
  ["FRdist", "↓"],
  ["FRDiv", "↑"],
  ["FRDvs", "↑"],
  ["FRVar", "↑"],
  ["FRSyn", "↓"],
] as const;

/** The table in Markdown: one row per configuration, the metrics of each task side by side, as the paper lays it out. */
export function ablationMarkdown(r: AblationResult): string {
  const tasks = (["mafrg", "pmafrg"] as const).filter((t) => r.rows.some((row) => row.metrics[t]));
  const head = tasks.flatMap((t) => TABLE_METRICS.map(([m, side]) => `${t.toUpperCase()} ${m} ${side}`));
  const fmt = (v: number | undefined) => (v === undefined ? "" : Math.abs(v) >= 10 ? v.toFixed(2) : v.toFixed(4));
  return [
    `${r.title} (${r.split} split, ${r.clips} clips, K = ${r.k})`,
    "",
    `| row | ${head.join(" | ")} |`,
    `|---|${head.map(() => "---:").join("|")}|`,
    ...r.rows.map((row) => `| ${row.label} | ${tasks.flatMap((t) => TABLE_METRICS.map(([m]) => fmt(row.metrics[t]?.[m]))).join(" | ")} |`),
    "",
  ].join("\n");
}
