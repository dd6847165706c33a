import type { Command } from "commander";
import type { BackendName, SamplerName } from "@perfrdiff/core";
import type { AblationResult, AblationTableNumber, EvalTask } from "@perfrdiff/eval";
import { faceStatsFolder, wholeNumber } from "../inputs";
import { StageProgress } from "../progress";

export interface AblationCliOptions {
  table: string;
  data: string;
  out: string;
  preset?: string;
  frames?: string;
  embedderSteps?: string;
  psslSteps?: string;
  gafrgSteps?: string;
  pwsgSteps?: string;
  split?: string;
  task?: string;
  k?: string;
  sampler?: string;
  steps?: string;
  seed?: string;
  backend?: string;
  faceStats?: string | false;
  json?: boolean;
}

const optionalWhole = (v: string | undefined, flag: string, min: number) => (v === undefined ? undefined : wholeNumber(v, flag, min));

/** `perfrdiff ablation --table N`: reads the options, then @perfrdiff/eval's runAblation trains and evaluates every row. */
export async function runAblationCommand(o: AblationCliOptions, progress = new StageProgress()): Promise<AblationResult> {
  const ev = await import("@perfrdiff/eval");
  const core = await import("@perfrdiff/core");
  const table = Number(o.table) as AblationTableNumber;
  if (!Object.hasOwn(ev.ABLATION_TABLES, o.table)) throw new Error(`--table must be one of ${Object.keys(ev.ABLATION_TABLES).join(", ")}, got '${o.table}'`);
  if (o.preset !== undefined && !Object.hasOwn(core.PRESETS, o.preset)) throw new Error(`--preset must be one of ${Object.keys(core.PRESETS).join(", ")}, got '${o.preset}'`);
  const tasks: EvalTask[] = o.task === undefined || o.task === "both" ? ["mafrg", "pmafrg"] : [o.task as EvalTask];
  if (!tasks.every((t) => ev.EVAL_TASKS.includes(t))) throw new Error(`--task must be mafrg, pmafrg or both, got '${o.task}'`);
  const sampler = (o.sampler ?? "ddim") as SamplerName;
  if (!core.SAMPLER_NAMES.includes(sampler)) throw new Error(`--sampler must be one of ${core.SAMPLER_NAMES.join(", ")}, got '${o.sampler}'`);
  const backend = (o.backend ?? "wasm") as BackendName;
  if (!core.BACKEND_NAMES.includes(backend)) throw new Error(`--backend must be one of ${core.BACKEND_NAMES.join(", ")}, got '${o.backend}'`);
  const steps = {
    embedder: optionalWhole(o.embedderSteps, "--embedder-steps", 1),
    pssl: optionalWhole(o.psslSteps, "--pssl-steps", 1),
    gafrg: optionalWhole(o.gafrgSteps, "--gafrg-steps", 1),
    pwsg: optionalWhole(o.pwsgSteps, "--pwsg-steps", 1),
  };
  const { loadFaceStats } = await import("@perfrdiff/features/face");
  const statsDir = await faceStatsFolder(o.faceStats, o.data);
  await core.useBackend(backend);
  try {
    return await ev.runAblation(table, {
      data: o.data,
      out: o.out,
      preset: o.preset,
      frames: optionalWhole(o.frames, "--frames", 1),
      steps,
      split: o.split,
      tasks,
      k: optionalWhole(o.k, "--k", 1),
      sampler,
      sampleSteps: optionalWhole(o.steps, "--steps", 1),
      seed: optionalWhole(o.seed, "--seed", 0),
      faceStats: statsDir ? await loadFaceStats(statsDir) : undefined,
      backend,
      onProgress: (p) => progress.update(`${p.row}: ${p.what}`, p.done, p.total, p.unit),
    });
  } finally {
    progress.stop();
  }
}

export function registerAblation(program: Command): void {
  program
    .command("ablation")
    .description("Train and evaluate every row of one of the PerFRDiff paper's ablation tables (6-9) and print the table")
    .requiredOption("--table <n>", "6 (speaker modalities), 7 (PWSG: weights / offset / shift), 8 (predict noise / x0) or 9 (with / without guidance)")
    .requiredOption("--data <root>", "dataset root in the REACT layout with train and val splits (real, or made by perfrdiff synth)")
    .requiredOption("--out <dir>", "output folder: one run per row, their predictions, results.json; a rerun continues it")
    .option("--preset <name>", "the preset every row's configuration extends (default: small, as the YAMLs say)")
    .option("--frames <n>", "frames per clip (default: the configuration's clip_length, 750)")
    .option("--embedder-steps <n>", "training steps of the emotion VAE (default: its configured epochs)")
    .option("--pssl-steps <n>", "training steps of PSSL")
    .option("--gafrg-steps <n>", "training steps of GAFRG")
    .option("--pwsg-steps <n>", "training steps of PWSG")
    .option("--split <name>", "the split evaluated", "val")
    .option("--task <t>", "mafrg, pmafrg or both", "both")
    .option("--k <n>", "reactions per clip", "10")
    .option("--sampler <name>", "ddim, ddpm or dpm-solver++", "ddim")
    .option("--steps <n>", "sampler steps (default: the configuration's)")
    .option("--seed <n>", "generation seed", "0")
    .option("--backend <name>", "tfjs backend: wasm, cpu, webgpu or tensorflow", "wasm")
    .option("--face-stats <dir>", "mean_face.npy / std_face.npy (default ROOT/FaceVerse when present)")
    .option("--no-face-stats", "use 3DMM tracks as they are")
    .option("--json", "print the table as one JSON object on stdout")
    .addHelpText(
      "after",
      `
Each row is a YAML in @perfrdiff/eval's ablations/ folder (table<N>-<row>.yaml), which train and eval also take
(--config). The emotion VAE and PSSL are trained once (OUT/base) and shared by every row; each row trains its own
GAFRG and PWSG (Table 7's rows share one GAFRG and differ in PWSG only), then generates K reactions for every clip of
the split generically (MAFRG) and personalised from each listener's other clip (PMAFRG). OUT/<row>/eval/<task>/
holds the per-clip metrics: perfrdiff compare tests any two rows.

Example (a few minutes a row on a 2-core CPU):
  pnpm perfrdiff synth --out data/synth --speakers 12 --listeners 6 --seed 1
  pnpm perfrdiff ablation --table 8 --data data/synth --out runs/table8 --gafrg-steps 2000 --steps 10`,
    )
    .action(async (opts: AblationCliOptions) => {
      const r = await runAblationCommand(opts);
      const ev = await import("@perfrdiff/eval");
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...r, rows: r.rows.map(({ perClip: _, ...row }) => row) })}\n`);
      else process.stdout.write(ev.ablationMarkdown(r));
    });
}
