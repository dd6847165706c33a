/**
 * One model evaluated on one split: K reactions for every speaker clip (personalised from each item's listener
 * history for PMAFRG), saved clip by clip when a store is given (resumable), then every REACT metric with each
 * clip's values.
 */
import type { ReactionGenerator } from "@perfrdiff/core";
import type { EvaluateOptions, PerClipMetrics, ReactMetrics } from "@perfrdiff/metrics";
import { PER_CLIP_METRICS } from "@perfrdiff/metrics";
import type { ClipMetricsRecord } from "./compare";
import { evaluateOnCorpus } from "./evaluate";
import { generateForCorpus, type SplitGenerationOptions } from "./reactions";
import type { EvalSplit } from "./split";
import type { PredictionStore } from "./store";

export interface SplitEvaluationOptions extends Omit<SplitGenerationOptions, "history" | "existing" | "onClip" | "onProgress"> {
  /** where each clip's reactions are saved and, on a rerun, read back instead of generated */
  store?: PredictionStore;
  /** the metrics' options (convention, FRdist backend, workers, progress) */
  metrics?: Omit<EvaluateOptions, "perClip">;
  /** generation progress, after each clip */
  onProgress?: (done: number, total: number) => void;
}

export interface SplitEvaluation {
  metrics: ReactMetrics;
  perClip: PerClipMetrics;
  /** the reactions `[N, K, T, 25]` */
  predictions: Float32Array;
  /** clips read back from the store rather than generated */
  resumed: number;
}

/** Generates and scores the split (see the module comment); `split.history` personalises when the task is PMAFRG. */
export async function evaluateModelOnSplit(generator: ReactionGenerator, split: EvalSplit, options: SplitEvaluationOptions = {}): Promise<SplitEvaluation> {
  const { store, metrics: metricOptions, ...generation } = options;
  const k = generation.k ?? 10;
  const { items } = split.corpus;
  if (split.task === "pmafrg" && !generator.canPersonalise) throw new Error("PMAFRG needs a model with the pssl and pwsg modules (a personalising checkpoint)");
  let resumed = 0;
  const predictions = await generateForCorpus(generator, split.corpus, {
    ...generation,
    k,
    history: split.history ? (i) => (split.history![i]! >= 0 ? items[split.history![i]!]!.listener3dmm : null) : undefined,
    existing: store
      ? async (i) => {
          const r = await store.load(i);
          if (r) resumed++;
          return r;
        }
      : undefined,
    onClip: store ? (i, r) => store.save(i, r) : undefined,
  });
  const { perClip, ...metrics } = await evaluateOnCorpus(split.corpus, predictions, k, { ...metricOptions, perClip: true });
  return { metrics, perClip: perClip!, predictions, resumed };
}

/** One record per item (its index, speaker clip and per-clip metric values): the lines of a `--per-clip` file. */
export function clipRecords(clips: string[], perClip: PerClipMetrics): ClipMetricsRecord[] {
  return clips.map((clip, item) => {
    const r: ClipMetricsRecord = { item, clip };
    for (const m of PER_CLIP_METRICS) r[m] = perClip[m][item]!;
    return r;
  });
}
