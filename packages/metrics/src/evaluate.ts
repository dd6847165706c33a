/// <reference types="@webgpu/types" />
import { bestCccPerPrediction } from "./ccc";
import { frdiv, frdvs, frvar } from "./diversity";
import { frreaFeat } from "./frechet";
import { frdistMinima } from "./frdist-parallel";
import { frdistMinimaWebGPU, requestWebGPUDevice } from "./frdist-webgpu";
import { prepareInputs, type ReactEvalInputs } from "./inputs";
import { EMOTION_DIMS } from "./layout";
import { tlccOffset } from "./tlcc";

/**
 * How per-prediction scores are aggregated.
 * - `official` (default): exactly the official REACT/PerFRDiff code, so numbers compare with published tables:
 *   FRCorr and FRdist are **summed** over the K predictions of a clip (then averaged over clips), and FRSyn scores
 *   only the **first** prediction of each clip (the official loop returns inside its K loop).
 * - `corrected`: FRCorr and FRdist are **means** over K, FRSyn averages over all K predictions.
 * FRDiv, FRDvs, FRVar and FRRea-feat are the same under both.
 */
export type MetricConvention = "official" | "corrected";

/** Where FRdist's DTWs run. */
export type FrdistBackend = "auto" | "wasm" | "webgpu";

/** A progress report: `stage` is the metric being computed. */
export interface EvalProgress {
  stage: "FRCorr" | "FRdist" | "FRSyn" | "diversity" | "FRRea";
  done: number;
  total: number;
}

/** Options of {@link evaluateReact}. */
export interface EvaluateOptions {
  convention?: MetricConvention;
  /** FRdist backend: `auto` uses WebGPU when an adapter exists, else WebAssembly (default `auto`). */
  backend?: FrdistBackend;
  /** A WebGPU device to use instead of requesting one. */
  device?: GPUDevice;
  /** Worker threads for the WebAssembly FRdist (Node only; default: 0 = this thread). */
  workers?: number;
  onProgress?: (p: EvalProgress) => void;
}

/** All REACT metrics. `FRRea` is FRRea-feat (a feature-space Frechet distance, not the rendered-face FID). */
export interface ReactMetrics {
  FRCorr: number;
  FRdist: number;
  FRDiv: number;
  FRDvs: number;
  FRVar: number;
  FRSyn: number;
  FRRea: number;
  convention: MetricConvention;
}

/** Timings in milliseconds of each stage of the last evaluation, and the FRdist backend that ran. */
export interface EvalTimings {
  FRCorr: number;
  FRdist: number;
  FRSyn: number;
  diversity: number;
  FRRea: number;
  frdistBackend: "wasm" | "webgpu";
}

function aggregate(values: Float64Array, n: number, k: number, convention: MetricConvention): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let kk = 0; kk < k; kk++) s += values[i * k + kk];
    total += convention === "official" ? s : s / k;
  }
  return total / n;
}

/**
 * Computes every REACT metric.
 * @param inputs predictions `[N, K, T, 25]`, speaker `[N, T, 25]`, listener `[M, T, 25]`, neighbours `[N, M]`
 * @throws ReactInputError on invalid inputs (shapes, NaN/Inf, a clip without appropriate reactions)
 */
export async function evaluateReact(
  inputs: ReactEvalInputs,
  options: EvaluateOptions = {},
): Promise<ReactMetrics & { timings: EvalTimings }> {
  const convention = options.convention ?? "official";
  if (convention !== "official" && convention !== "corrected") {
    throw new Error(`unknown convention '${String(convention)}' (official or corrected)`);
  }
  const backend = options.backend ?? "auto";
  const workers = options.workers ?? 0;
  const p = prepareInputs(inputs, { shared: workers > 1 });
  const { n, k, t, m } = p;
  const d = EMOTION_DIMS;
  const report = options.onProgress;
  const now = () => performance.now();

  let t0 = now();
  const ccc = bestCccPerPrediction(p, (done) => report?.({ stage: "FRCorr", done, total: n }));
  const FRCorr = aggregate(ccc, n, k, convention);
  const timeCorr = now() - t0;

  t0 = now();
  let device = options.device ?? null;
  if (!device && (backend === "webgpu" || backend === "auto")) device = await requestWebGPUDevice();
  if (!device && backend === "webgpu") throw new Error("FRdist backend 'webgpu' asked for, but no WebGPU adapter was found");
  const onFrdist = (done: number, total: number) => report?.({ stage: "FRdist", done, total });
  const minima = device
    ? await frdistMinimaWebGPU(p, device, onFrdist)
    : (await frdistMinima(p, { workers, onProgress: onFrdist })).minima;
  const FRdist = aggregate(minima, n, k, convention);
  const timeDist = now() - t0;

  t0 = now();
  const scored = convention === "official" ? 1 : k;
  let offsets = 0;
  for (let i = 0; i < n; i++) {
    for (let kk = 0; kk < scored; kk++) {
      offsets += tlccOffset(p.predictions, (i * k + kk) * t * d, p.speaker, i * t * d, t, d);
    }
    report?.({ stage: "FRSyn", done: i + 1, total: n });
  }
  const FRSyn = offsets / (n * scored);
  const timeSyn = now() - t0;

  t0 = now();
  const FRDiv = frdiv(p.predictions, n, k, t, d);
  const FRDvs = frdvs(p.predictions, n, k, t, d);
  const FRVar = frvar(p.predictions, n, k, t, d);
  report?.({ stage: "diversity", done: 1, total: 1 });
  const timeDiv = now() - t0;

  t0 = now();
  const FRRea = frreaFeat(p.predictions, n * k, p.listener, m, t, d);
  report?.({ stage: "FRRea", done: 1, total: 1 });
  const timeRea = now() - t0;

  return {
    FRCorr,
    FRdist,
    FRDiv,
    FRDvs,
    FRVar,
    FRSyn,
    FRRea,
    convention,
    timings: {
      FRCorr: timeCorr,
      FRdist: timeDist,
      FRSyn: timeSyn,
      diversity: timeDiv,
      FRRea: timeRea,
      frdistBackend: device ? "webgpu" : "wasm",
    },
  };
}
