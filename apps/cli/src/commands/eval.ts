import { availableParallelism } from "node:os";
import type { Command } from "commander";
import { evaluateReact, type EvalProgress, type FrdistBackend, type MetricConvention } from "@perfrdiff/metrics";
import { readNpy } from "@perfrdiff/npy";
import { readFloatNpy, wholeNumber, type NumericNpy } from "../inputs";
import { StageProgress } from "../progress";

async function readNeighbours(path: string): Promise<NumericNpy> {
  const a = await readNpy(path);
  if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) {
    // 0/1 matrices saved from int64 arrays: convert exactly (values are checked to be 0/1 later).
    return { dtype: "<f8", shape: a.shape, data: Float64Array.from(a.data, (v) => Number(v)) };
  }
  return a as NumericNpy;
}

interface EvalOptions {
  pred: string;
  speaker: string;
  listener: string;
  neighbours: string;
  convention: MetricConvention;
  backend: FrdistBackend;
  workers: string;
  json?: boolean;
  timings?: boolean;
}

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description(
      "Compute every REACT metric (FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea-feat) for generated reactions",
    )
    .requiredOption("--pred <file>", "generated reactions, .npy [N, K, T, 25] float32/float64")
    .requiredOption("--speaker <file>", "speaker emotion, .npy [N, T, 25]")
    .requiredOption("--listener <file>", "real listener reactions, .npy [M, T, 25]")
    .requiredOption("--neighbours <file>", "appropriateness matrix, .npy [N, M] of 0/1 (bool, int or float)")
    .option(
      "--convention <name>",
      "official (sums over K, FRSyn on the first prediction, as published tables) or corrected (means over K, FRSyn over all K)",
      "official",
    )
    .option("--backend <name>", "FRdist DTW backend: auto (WebGPU if an adapter exists), wasm or webgpu", "auto")
    .option("--workers <n>", "worker threads for the CPU DTW (default: all cores)", String(availableParallelism()))
    .option("--json", "print one JSON object with the keys FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea, convention")
    .option("--timings", "also print the time of each stage on stderr")
    .addHelpText(
      "after",
      `
FRRea is FRRea-feat: a Frechet distance between window statistics of generated and real emotion
sequences, not the FID of rendered faces; it is not comparable with published FRRea values.

Example:
  pnpm perfrdiff eval --pred samples/react-eval/pred.npy --speaker samples/react-eval/speaker.npy \\
    --listener samples/react-eval/listener.npy --neighbours samples/react-eval/neighbours.npy --json`,
    )
    .action(async (opts: EvalOptions) => {
      if (opts.convention !== "official" && opts.convention !== "corrected") {
        throw new Error(`--convention must be official or corrected, got '${opts.convention}'`);
      }
      if (!["auto", "wasm", "webgpu"].includes(opts.backend)) {
        throw new Error(`--backend must be auto, wasm or webgpu, got '${opts.backend}'`);
      }
      const workers = wholeNumber(opts.workers, "--workers", 0);
      const [predictions, speaker, listener, neighbours] = await Promise.all([
        readFloatNpy(opts.pred, "predictions"),
        readFloatNpy(opts.speaker, "speaker"),
        readFloatNpy(opts.listener, "listener"),
        readNeighbours(opts.neighbours),
      ]);
      const progress = new StageProgress();
      let result;
      try {
        result = await evaluateReact(
          { predictions, speaker, listener, neighbours },
          {
            convention: opts.convention,
            backend: opts.backend,
            workers,
            onProgress: (p: EvalProgress) => progress.update(p.stage, p.done, p.total),
          },
        );
      } finally {
        progress.stop();
      }
      const { timings, ...metrics } = result;
      if (opts.timings) {
        const t = timings;
        process.stderr.write(
          `timings (ms, stages overlap): FRdist ${t.FRdist.toFixed(0)} (${t.frdistBackend}), FRCorr+FRSyn ${t.FRCorr.toFixed(0)}, FRDiv/FRDvs/FRVar/FRRea ${t.sets.toFixed(0)}\n`,
        );
      }
      if (opts.json) {
        const { FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea, convention } = metrics;
        process.stdout.write(`${JSON.stringify({ FRCorr, FRdist, FRDiv, FRDvs, FRVar, FRSyn, FRRea, convention })}\n`);
        return;
      }
      const rows: [string, number, string][] = [
        ["FRCorr", metrics.FRCorr, "higher is better"],
        ["FRdist", metrics.FRdist, "lower is better"],
        ["FRDiv", metrics.FRDiv, "higher is better (S-MSE across the K reactions of a clip)"],
        ["FRDvs", metrics.FRDvs, "higher is better (across clips)"],
        ["FRVar", metrics.FRVar, "higher is better (over time)"],
        ["FRSyn", metrics.FRSyn, "lower is better (|lag| of peak TLCC, frames)"],
        ["FRRea", metrics.FRRea, "lower is better (FRRea-feat: feature-space Frechet distance, not FID)"],
      ];
      process.stdout.write(`REACT metrics (${metrics.convention} convention)\n`);
      for (const [name, value, note] of rows) process.stdout.write(`  ${name.padEnd(7)} ${value.toFixed(5).padStart(12)}   ${note}\n`);
    });
}
