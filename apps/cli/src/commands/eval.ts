import { availableParallelism } from "node:os";
import type { Command } from "commander";
import type { EvalProgress, FrdistBackend, MetricConvention, PerClipMetrics, ReactMetrics } from "@perfrdiff/metrics";
import { readNpy } from "@perfrdiff/npy";
import { checkpointFolder, faceStatsFolder, fileExists, readFloatNpy, wholeNumber, type NumericNpy } from "../inputs";
import { StageProgress } from "../progress";

async function readNeighbours(path: string): Promise<NumericNpy> {
  const a = await readNpy(path);
  if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) {
    // 0/1 matrices saved from int64 arrays: convert exactly (values are checked to be 0/1 later).
    return { dtype: "<f8", shape: a.shape, data: Float64Array.from(a.data, (v) => Number(v)) };
  }
  return a as NumericNpy;
}

/** The options of `perfrdiff eval` as commander hands them over. */
export interface EvalCliOptions {
  // --pred mode
  pred?: string;
  speaker?: string;
  listener?: string;
  neighbours?: string;
  // model and baseline modes
  checkpoint?: string;
  baseline?: string;
  data?: string;
  split?: string;
  task?: string;
  k?: string;
  steps?: string;
  sampler?: string;
  guidance?: string;
  seed?: string;
  frames?: string;
  lag?: string;
  trainSplit?: string;
  missingHistory?: string;
  faceStats?: string | false;
  perClip?: string;
  savePred?: string;
  force?: boolean;
  // all modes
  convention?: string;
  backend?: string;
  workers?: string;
  json?: boolean;
  timings?: boolean;
}

/** What `eval` measured; `--json` prints the metric keys with task, clips and k. */
export interface EvalSummary {
  metrics: ReactMetrics;
  /** null in --pred mode (the task is not known there) */
  task: string | null;
  clips: number;
  k: number;
  /** model/baseline modes: the neighbour matrix read, and whether its person-specific rows were derived */
  neighbours: { path: string; derived: boolean } | null;
  /** model mode with --save-pred: clips read back from an earlier run */
  resumed: number;
  /** PMAFRG: items generated generically (their listener has no other clip) */
  unpersonalised: number;
  perClipFile: string | null;
  timings?: string;
}

const FRDIST_OF: Record<string, FrdistBackend> = { auto: "auto", wasm: "wasm", cpu: "wasm", tensorflow: "wasm", webgpu: "webgpu" };

const optionalWhole = (value: string | undefined, flag: string, min: number): number | undefined =>
  value === undefined ? undefined : wholeNumber(value, flag, min);

/**
 * `perfrdiff eval`: scores prediction files (--pred), a model on a dataset split (--checkpoint: generates K reactions
 * per speaker clip, generic or personalised), or a REACT baseline (--baseline). The library does the work
 * (@perfrdiff/metrics, @perfrdiff/eval); this reads and checks the options and writes the outputs.
 */
export async function runEval(o: EvalCliOptions, progress = new StageProgress()): Promise<EvalSummary> {
  const modes = [o.pred, o.checkpoint, o.baseline].filter((m) => m !== undefined).length;
  if (modes !== 1) throw new Error("give exactly one of --pred FILE (score predictions), --checkpoint DIR (a model on --data) or --baseline NAME");
  const convention = (o.convention ?? "official") as MetricConvention;
  if (convention !== "official" && convention !== "corrected") throw new Error(`--convention must be official or corrected, got '${o.convention}'`);
  const backendName = o.backend ?? "auto";
  const frdistBackend = FRDIST_OF[backendName];
  if (!frdistBackend) throw new Error(`--backend must be one of ${Object.keys(FRDIST_OF).join(", ")}, got '${o.backend}'`);
  const workers = wholeNumber(o.workers ?? String(availableParallelism()), "--workers", 0);
  const metricOptions = {
    convention,
    backend: frdistBackend,
    workers,
    onProgress: (p: EvalProgress) => progress.update(p.stage, p.done, p.total),
  };
  if (o.pred) return scorePredictionFiles(o, metricOptions, progress);

  // ---- model and baseline modes: options first, then the split, then the long work
  const ev = await import("@perfrdiff/eval");
  if (!o.data) throw new Error(`--${o.checkpoint ? "checkpoint" : "baseline"} needs --data DIR (a dataset in the REACT layout)`);
  const task = (o.task ?? "mafrg") as "mafrg" | "pmafrg";
  if (!ev.EVAL_TASKS.includes(task)) throw new Error(`--task must be one of ${ev.EVAL_TASKS.join(", ")}, got '${o.task}'`);
  const missingHistory = (o.missingHistory ?? "error") as "error" | "generic";
  if (missingHistory !== "error" && missingHistory !== "generic") throw new Error(`--missing-history must be error or generic, got '${o.missingHistory}'`);
  const k = wholeNumber(o.k ?? "10", "--k", 1);
  const seed = wholeNumber(o.seed ?? "0", "--seed", 0, 2 ** 32 - 1);
  const split = o.split ?? "val";
  if (o.perClip && !o.force && (await fileExists(o.perClip))) throw new Error(`${o.perClip} exists; pass --force to overwrite`);
  if (o.savePred && o.baseline) throw new Error("--save-pred saves generated reactions: it needs --checkpoint");

  let opened: import("@perfrdiff/eval").EvalSplit<import("@perfrdiff/eval").EmotionCorpus>;
  let resumed = 0;
  let metrics: ReactMetrics;
  let perClip: PerClipMetrics;
  const frames0 = optionalWhole(o.frames, "--frames", 2);
  const onRead = (d: number, t: number) => progress.update(`read ${split}`, d, t, "clips");

  if (o.baseline) {
    const name = o.baseline as (typeof ev.REACT_BASELINES)[number];
    if (!ev.REACT_BASELINES.includes(name)) throw new Error(`--baseline must be one of ${ev.REACT_BASELINES.join(", ")}, got '${o.baseline}'`);
    const lag = optionalWhole(o.lag, "--lag", 0);
    if (lag !== undefined && name !== "mime") throw new Error("--lag delays the mime baseline only");
    const frames = frames0 ?? (await import("@perfrdiff/layout")).REACT_CLIP_FRAMES;
    const s = await ev.openEvalSplit(o.data, split, { task, frames, neighbours: o.neighbours, missingHistory: "generic", emotionOnly: true, onProgress: onRead });
    opened = s;
    const training =
      name === "meanseq" || name === "meanfr"
        ? (await ev.readSplitEmotion(o.data, o.trainSplit ?? "train", { frames, onProgress: (d, t) => progress.update(`read ${o.trainSplit ?? "train"}`, d, t, "clips") })).flatMap((it) => [it.speakerEmotion, it.listenerEmotion])
        : undefined;
    const items = s.corpus.items;
    const predictions = ev.baselineReactions(name, { speakerEmotion: items.map((i) => i.speakerEmotion), listenerEmotion: items.map((i) => i.listenerEmotion) }, { k, seed, lag, training });
    try {
      const { perClip: clipValues, ...all } = await ev.evaluateOnCorpus(s.corpus, predictions, k, { ...metricOptions, perClip: true });
      metrics = all;
      perClip = clipValues!;
    } finally {
      progress.stop();
    }
  } else {
    const core = await import("@perfrdiff/core");
    const sampler = (o.sampler ?? "ddim") as import("@perfrdiff/core").SamplerName;
    if (!core.SAMPLER_NAMES.includes(sampler)) throw new Error(`--sampler must be one of ${core.SAMPLER_NAMES.join(", ")}, got '${o.sampler}'`);
    const steps = optionalWhole(o.steps, "--steps", 1);
    let guidance: number | undefined;
    if (o.guidance !== undefined) {
      guidance = Number(o.guidance);
      if (o.guidance.trim() === "" || !Number.isFinite(guidance)) throw new Error(`--guidance must be a number, got '${o.guidance}'`);
    }
    const modelBackend = (backendName === "auto" ? "wasm" : backendName) as import("@perfrdiff/core").BackendName;
    const checkpoint = await checkpointFolder(o.checkpoint, "--checkpoint");
    const { config: cfg, configSource } = await core.loadModelConfig(checkpoint);
    const W = cfg.diffusion_decoder.args.window_size;
    const frames = frames0 ?? cfg.training.clip_length;
    if (frames % W !== 0) throw new Error(`--frames ${frames} must be a multiple of the model's ${W}-frame window (${configSource})`);
    // the model first: a checkpoint without a module the task needs fails before the split is read
    const personalise = task === "pmafrg";
    progress.update("load", 0, core.requiredModules(cfg, { personalise }).length, "modules");
    const gen = await core.createReactionGenerator({
      checkpoint,
      config: cfg,
      backend: modelBackend,
      personalise,
      onModuleLoaded: (_m, done, total) => progress.update("load", done, total, "modules"),
    });
    try {
      const { loadFaceStats } = await import("@perfrdiff/features/face");
      const statsDir = await faceStatsFolder(o.faceStats, o.data, checkpoint);
      const faceStats = statsDir ? await loadFaceStats(statsDir) : undefined;
      const s = await ev.openEvalSplit(o.data, split, { task, frames, faceStats, neighbours: o.neighbours, missingHistory, onProgress: onRead });
      opened = s;
      const { resolve } = await import("node:path");
      const store = o.savePred
        ? await ev.PredictionStore.open(
            o.savePred,
            {
              checkpoint: resolve(checkpoint),
              data: resolve(o.data),
              split,
              task,
              missingHistory,
              faceStats: statsDir ? resolve(statsDir) : null,
              sampler,
              steps: steps ?? null,
              guidance: guidance ?? null,
              seed,
            },
            k,
            frames,
          )
        : undefined;
      const unit = `clips (${k} reactions, ${steps ?? core.samplerFromConfig(cfg.diffusion_decoder.scheduler, sampler).defaultSteps} ${sampler} steps)`;
      let r;
      try {
        r = await ev.evaluateModelOnSplit(gen, s, {
          k,
          steps,
          sampler,
          guidance,
          seed,
          store,
          metrics: metricOptions,
          onProgress: (d, t) => progress.update(task === "pmafrg" ? "generate (personalised)" : "generate", d, t, unit),
        });
      } finally {
        progress.stop();
      }
      ({ metrics, perClip, resumed } = r);
    } finally {
      gen.dispose();
    }
  }
  let perClipFile: string | null = null;
  if (o.perClip) {
    const { writeFile } = await import("node:fs/promises");
    const lines = ev.clipRecords(opened.clips, perClip).map((r) => JSON.stringify(r));
    await writeFile(o.perClip, `${lines.join("\n")}\n`, { flag: o.force ? "w" : "wx" });
    perClipFile = o.perClip;
  }
  return {
    metrics,
    task,
    clips: opened.corpus.items.length,
    k,
    neighbours: opened.neighbours,
    resumed,
    unpersonalised: o.checkpoint ? opened.unpersonalised : 0,
    perClipFile,
  };
}

/** --pred mode: every metric of a prediction file against speaker, listener and neighbour files (as before). */
async function scorePredictionFiles(o: EvalCliOptions, metricOptions: Parameters<typeof import("@perfrdiff/metrics").evaluateReact>[1], progress: StageProgress): Promise<EvalSummary> {
  const { evaluateReact } = await import("@perfrdiff/metrics");
  for (const [flag, v] of [["--speaker", o.speaker], ["--listener", o.listener], ["--neighbours", o.neighbours]] as const) {
    if (!v) throw new Error(`--pred needs ${flag} FILE`);
  }
  const [predictions, speaker, listener, neighbours] = await Promise.all([
    readFloatNpy(o.pred!, "predictions"),
    readFloatNpy(o.speaker!, "speaker"),
    readFloatNpy(o.listener!, "listener"),
    readNeighbours(o.neighbours!),
  ]);
  let result;
  try {
    result = await evaluateReact({ predictions, speaker, listener, neighbours }, metricOptions);
  } finally {
    progress.stop();
  }
  const { timings: t, ...metrics } = result;
  return {
    metrics,
    task: null,
    clips: predictions.shape[0]!,
    k: predictions.shape[1]!,
    neighbours: null,
    resumed: 0,
    unpersonalised: 0,
    perClipFile: null,
    timings: `timings (ms, stages overlap): FRdist ${t.FRdist.toFixed(0)} (${t.frdistBackend}), FRCorr+FRSyn ${t.FRCorr.toFixed(0)}, FRDiv/FRDvs/FRVar/FRRea ${t.sets.toFixed(0)}`,
  };
}

const HELP = `
Modes (exactly one):
  --pred FILE --speaker FILE --listener FILE --neighbours FILE
        score saved predictions [N, K, T, 25] against speaker [N, T, 25], listener [M, T, 25] and a 0/1
        neighbour matrix [N, M]
  --checkpoint DIR --data ROOT [--split val|test] [--task mafrg|pmafrg]
        generate K reactions for every speaker clip of the split with the model in DIR (a run folder of
        perfrdiff train, or weights converted by import-torch) and score them, as the official
        evaluate_diffusion.py (mafrg: the generic model) and evaluate_rewrite_weight.py (pmafrg: personalised to each
        item's listener from another clip of theirs in the split, the first in the split's order) do
  --baseline gt|random|mime|meanseq|meanfr --data ROOT [--split S]
        the REACT challenge's no-training references: the real listener (ceiling), uniform random values, the
        speaker's own emotion (mime; --lag N frames late), the training split's mean sequence or mean frame
        (--train-split, default train)

Appropriate reactions (model and baseline modes): mafrg reads ROOT/neighbour_emotion_<split>.npy; pmafrg reads
ROOT/person_specific_masked_neighbour_emotion_<split>.npy when present, else derives it from the first: each row
kept where the reaction is by the item's own listener (the item's own reaction always in). --neighbours FILE
replaces either. Note: the official evaluation scripts load the person-specific matrix for both tasks.

Outputs: the metrics on stdout (--json: one object with FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea,
convention, task, clips, k); --per-clip FILE.jsonl one line per clip {item, clip, FRCorr, FRdist, FRDiv, FRVar,
FRSyn} (the input of perfrdiff compare; FRDvs and FRRea compare clips with each other and have no per-clip value);
--save-pred DIR keeps each clip's reactions (item-<index>.npy [K, T, 25]) so that a killed evaluation continues from
the clips already done (the folder's settings.json must match; nothing is overwritten). Files are never overwritten
without --force.

--backend: auto (default), wasm, cpu, webgpu or tensorflow. The model runs on the named tfjs backend (auto: wasm);
FRdist's DTWs run on WebGPU with webgpu, on the CPU (WebAssembly workers) with wasm/cpu/tensorflow, and with auto on
WebGPU when an adapter exists.

FRRea is FRRea-feat: a Frechet distance between window statistics of generated and real emotion sequences, not the
FID of rendered faces; it is not comparable with published FRRea values.

Examples:
  pnpm perfrdiff eval --pred samples/react-eval/pred.npy --speaker samples/react-eval/speaker.npy \\
    --listener samples/react-eval/listener.npy --neighbours samples/react-eval/neighbours.npy --json
  pnpm perfrdiff eval --checkpoint runs/small --data data/synth --split val --k 10 --steps 10 --per-clip generic.jsonl
  pnpm perfrdiff eval --checkpoint runs/small --data data/synth --task pmafrg --save-pred pred/pmafrg --per-clip personal.jsonl
  pnpm perfrdiff eval --baseline mime --lag 50 --data data/synth --split val --json
  pnpm perfrdiff compare personal.jsonl generic.jsonl`;

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description(
      "Compute every REACT metric (FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea-feat): of saved predictions, of a model on a dataset split (MAFRG / PMAFRG), or of a REACT baseline",
    )
    .option("--pred <file>", "generated reactions, .npy [N, K, T, 25] float32/float64")
    .option("--speaker <file>", "with --pred: speaker emotion, .npy [N, T, 25]")
    .option("--listener <file>", "with --pred: real listener reactions, .npy [M, T, 25]")
    .option("--neighbours <file>", "appropriateness matrix, .npy [N, M] of 0/1 (bool, int or float); with --data it replaces the split's")
    .option("--checkpoint <dir>", "a model: a run folder of perfrdiff train, weights converted by import-torch, or 'default' (the bundled default model)")
    .option("--baseline <name>", "gt, random, mime, meanseq or meanfr")
    .option("--data <root>", "dataset root in the REACT 2024 layout (real, or made by perfrdiff synth)")
    .option("--split <name>", "split to evaluate", "val")
    .option("--task <name>", "mafrg (generic) or pmafrg (personalised per listener)", "mafrg")
    .option("--k <n>", "reactions per speaker clip", "10")
    .option("--steps <n>", "sampler steps (default: the config's, 50 for ddim)")
    .option("--sampler <name>", "ddim (official), ddpm or dpm-solver++", "ddim")
    .option("--guidance <scale>", "classifier-free guidance scale (default: the config's)")
    .option("--seed <n>", "seed of clip 0's noise (clip i uses seed + i) and of the random baseline", "0")
    .option("--frames <n>", "frames per clip (default: the checkpoint's training clip_length; 750 for baselines)")
    .option("--lag <frames>", "mime baseline: the speaker's emotion this many frames late (default 0, as the official)")
    .option("--train-split <name>", "meanseq / meanfr: the split whose mean is taken", "train")
    .option("--missing-history <policy>", "pmafrg, a listener with no other clip in the split: error or generic", "error")
    .option("--face-stats <dir>", "mean_face.npy / std_face.npy for the model's 3DMM inputs (default ROOT/FaceVerse when present)")
    .option("--no-face-stats", "use 3DMM tracks as they are")
    .option("--per-clip <file>", "write one JSON line per clip with its metric values")
    .option("--save-pred <dir>", "keep each clip's reactions; rerun with the same folder to continue a killed evaluation")
    .option("--force", "overwrite --per-clip's file")
    .option(
      "--convention <name>",
      "official (sums over K, FRSyn on the first prediction, as published tables) or corrected (means over K, FRSyn over all K)",
      "official",
    )
    .option("--backend <name>", "auto, wasm, cpu, webgpu or tensorflow (see below)", "auto")
    .option("--workers <n>", "worker threads for the CPU DTW; 0: in this thread (default: all cores)")
    .option("--json", "print one JSON object with the metric keys, convention (and task, clips, k with --checkpoint / --baseline)")
    .option("--timings", "--pred: also print the time of each stage on stderr")
    .addHelpText("after", HELP)
    .action(async (opts: EvalCliOptions) => {
      const s = await runEval(opts);
      const m = s.metrics;
      if (opts.timings && s.timings) process.stderr.write(`${s.timings}\n`);
      if (s.neighbours) {
        const notes = [`appropriate reactions: ${s.neighbours.path}${s.neighbours.derived ? " (person-specific rows derived)" : ""}`];
        if (s.resumed) notes.push(`${s.resumed} of ${s.clips} clips read back from --save-pred`);
        if (s.unpersonalised) notes.push(`${s.unpersonalised} clips generated generically (their listener has no other clip)`);
        process.stderr.write(`${notes.join("; ")}\n`);
      }
      if (opts.json) {
        const { FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea, convention } = m;
        const extra = s.task === null ? {} : { task: s.task, clips: s.clips, k: s.k };
        process.stdout.write(`${JSON.stringify({ FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea, convention, ...extra })}\n`);
        return;
      }
      const rows: [string, number, string][] = [
        ["FRCorr", m.FRCorr, "higher is better"],
        ["FRdist", m.FRdist, "lower is better"],
        ["FRDiv", m.FRDiv, "higher is better (S-MSE across the K reactions of a clip)"],
        ["FRDvs", m.FRDvs, "higher is better (across clips)"],
        ["FRVar", m.FRVar, "higher is better (over time)"],
        ["FRSyn", m.FRSyn, "lower is better (|lag| of peak TLCC, frames)"],
        ["FRRea", m.FRRea, "lower is better (FRRea-feat: feature-space Frechet distance, not FID)"],
      ];
      const what = s.task === null ? "" : `, ${s.task.toUpperCase()}, ${s.clips} clips x ${s.k} reactions`;
      process.stdout.write(`REACT metrics (${m.convention} convention${what})\n`);
      for (const [name, value, note] of rows) process.stdout.write(`  ${name.padEnd(7)} ${value.toFixed(5).padStart(12)}   ${note}\n`);
      if (s.perClipFile) process.stdout.write(`per-clip values: ${s.perClipFile}\n`);
    });
}
