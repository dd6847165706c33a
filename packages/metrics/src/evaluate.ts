/// <reference types="@webgpu/types" />
import type { ClipTask } from "./clip-tasks";
import { ClipPool } from "./pool";
import { frdistMinimaWebGPU, requestWebGPUDevice } from "./frdist-webgpu";
import { prepareInputs, type ReactEvalInputs } from "./inputs";
import { EMOTION_DIM } from "@perfrdiff/layout";
import { frdiv, frvar } from "./diversity";

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
  stage: "FRCorr" | "FRdist" | "diversity";
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
  /** Also return each clip's values ({@link PerClipMetrics}), the input of paired t-tests between two runs. */
  perClip?: boolean;
  onProgress?: (p: EvalProgress) => void;
}

/** The metrics that have a value per clip (FRDvs and FRRea-feat compare clips with each other: set-level only). */
export const PER_CLIP_METRICS = ["FRCorr", "FRdist", "FRDiv", "FRVar", "FRSyn"] as const;
export type PerClipMetricName = (typeof PER_CLIP_METRICS)[number];

/**
 * Each clip's value of the per-clip metrics, `[N]` each, aggregated over its K predictions under the run's
 * convention. Their means over clips are the whole-split values.
 */
export type PerClipMetrics = Record<PerClipMetricName, Float64Array>;

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

/**
 * Wall-clock milliseconds from the start of each stage to its end, and the FRdist backend that ran. Stages overlap
 * (FRdist runs on the GPU or in workers while the rest is computed), so they do not add up to the total.
 */
export interface EvalTimings {
  /** FRCorr and FRSyn together (they are computed clip by clip in one pass). */
  FRCorr: number;
  FRdist: number;
  /** FRDiv, FRDvs, FRVar and FRRea-feat together. */
  sets: number;
  frdistBackend: "wasm" | "webgpu";
}

/** Per clip, the sum (official) or mean (corrected) of its K values `[N * K]`: `[N]`. */
function perClipAggregate(values: Float64Array, n: number, k: number, convention: MetricConvention): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let kk = 0; kk < k; kk++) s += values[i * k + kk];
    out[i] = convention === "official" ? s : s / k;
  }
  return out;
}

const mean = (v: Float64Array): number => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * Computes every REACT metric.
 * @param inputs predictions `[N, K, T, 25]`, speaker `[N, T, 25]`, listener `[M, T, 25]`, neighbours `[N, M]`
 * @throws ReactInputError on invalid inputs (shapes, NaN/Inf, a clip without appropriate reactions)
 */
export async function evaluateReact(
  inputs: ReactEvalInputs,
  options: EvaluateOptions = {},
): Promise<ReactMetrics & { timings: EvalTimings; perClip?: PerClipMetrics }> {
  const convention = options.convention ?? "official";
  if (convention !== "official" && convention !== "corrected") {
    throw new Error(`unknown convention '${String(convention)}' (official or corrected)`);
  }
  const backend = options.backend ?? "auto";
  const workers = options.workers ?? 0;
  const p = prepareInputs(inputs, { shared: workers > 1 });
  const { n, k } = p;
  const report = options.onProgress;
  const now = () => performance.now();

  // FRdist first: its DTWs run on the GPU or in worker threads while the other metrics are computed.
  const t0 = now();
  let device = options.device ?? null;
  if (!device && (backend === "webgpu" || backend === "auto")) device = await requestWebGPUDevice();
  if (!device && backend === "webgpu") throw new Error("FRdist backend 'webgpu' asked for, but no WebGPU adapter was found");
  const pool = await ClipPool.start(p, workers);
  try {
    const clips = Array.from({ length: n }, (_, clip) => clip);
    let frdistEnd = 0;
    const minima: Promise<Float64Array> = (device
      ? frdistMinimaWebGPU(p, device, (done, total) => report?.({ stage: "FRdist", done, total }))
      : pool
          .run(
            clips.map((clip) => ({ kind: "frdist", clip, method: "screen" })),
            (_r, done) => report?.({ stage: "FRdist", done, total: n }),
          )
          .then((results) => {
            const m = new Float64Array(n * k);
            for (const r of results) m.set(r.values, r.clip * k);
            return m;
          })
    ).then((m) => {
      frdistEnd = now();
      return m;
    });
    // An in-thread FRdist has to finish before anything else can run.
    if (!device && pool.threads === 0) await minima;

    // FRCorr/FRSyn clip by clip in the pool, and the whole-set metrics as one task: in the pool when FRdist is on the
    // GPU (this thread then stays free to collect it), else here while the workers run the DTWs.
    const scored = convention === "official" ? 1 : k;
    const setsStart = now();
    const setsTask: ClipTask = { kind: "sets", clip: -1 };
    const setsPromise = (device || pool.threads === 0 ? pool.run([setsTask]) : Promise.resolve([pool.runHere(setsTask)])).then(
      (r) => ({ values: r[0].values, ms: now() - setsStart }),
    );
    const corrStart = now();
    let corrEnd = 0;
    const correlationsPromise = pool
      .run(
        clips.map((clip) => ({ kind: "correlation", clip, scored })),
        (_r, done) => report?.({ stage: "FRCorr", done, total: n }),
      )
      .then((r) => {
        corrEnd = now();
        return r;
      });
    const sets = await setsPromise;
    const [FRDiv, FRDvs, FRVar, FRRea] = sets.values;
    report?.({ stage: "diversity", done: 1, total: 1 });
    const correlations = await correlationsPromise;
    const best = new Float64Array(n * k);
    const offsets = new Float64Array(n);
    for (const r of correlations) {
      best.set(r.values.subarray(0, k), r.clip * k);
      for (let j = 0; j < scored; j++) offsets[r.clip] += r.values[k + j] / scored;
    }
    const clipCorr = perClipAggregate(best, n, k, convention);
    const clipDist = perClipAggregate(await minima, n, k, convention);
    const FRCorr = mean(clipCorr);
    const FRSyn = mean(offsets);
    const FRdist = mean(clipDist);
    let perClip: PerClipMetrics | undefined;
    if (options.perClip) {
      const size = p.t * EMOTION_DIM;
      const clip = (i: number) => p.predictions.subarray(i * k * size, (i + 1) * k * size);
      perClip = {
        FRCorr: clipCorr,
        FRdist: clipDist,
        FRDiv: Float64Array.from(clips, (i) => frdiv(clip(i), 1, k, p.t, EMOTION_DIM)),
        FRVar: Float64Array.from(clips, (i) => frvar(clip(i), 1, k, p.t, EMOTION_DIM)),
        FRSyn: offsets,
      };
    }
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
        FRCorr: corrEnd - corrStart,
        FRdist: frdistEnd - t0,
        sets: sets.ms,
        frdistBackend: device ? "webgpu" : "wasm",
      },
      ...(perClip ? { perClip } : {}),
    };
  } finally {
    await pool.close();
  }
}
