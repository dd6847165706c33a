/**
 * Two evaluations compared metric by metric with two-tailed t-tests at 95%, the form of the PerFRDiff paper's
 * significance table: a paired t-test when both runs scored the same clips, Welch's otherwise. The t distribution is
 * stdlib's (its p-values equal scipy's `ttest_rel` / `ttest_ind(equal_var=False)`).
 */
import ttestPaired from "@stdlib/stats-ttest";
import ttestWelch from "@stdlib/stats-ttest2";
import { PER_CLIP_METRICS } from "@perfrdiff/metrics";
import type { PerClipMetricName } from "@perfrdiff/metrics";

/** One line of a `--per-clip` file: the clip (its item index and speaker clip name) and its per-clip metric values. */
export interface ClipMetricsRecord extends Partial<Record<PerClipMetricName, number>> {
  /** The item's index in its split (the order of the split's mirrored items). */
  item: number;
  /** `site/session/person/index` of the speaker clip. */
  clip: string;
}

/** Which side of each per-clip metric is better (the paper's arrows). */
export const BETTER_SIDE: Record<PerClipMetricName, "higher" | "lower"> = {
  FRCorr: "higher",
  FRdist: "lower",
  FRDiv: "higher",
  FRVar: "higher",
  FRSyn: "lower",
};

/** The comparison of one metric between run A and run B. */
export interface MetricComparison {
  /** t statistic of A - B (0 when both runs have identical values). */
  t: number;
  df: number;
  /** two-tailed p-value */
  p: number;
  test: "paired" | "welch";
  /**
   * `+` when A is significantly better than B (p < 0.05, the better side taken from {@link BETTER_SIDE}), `-` when
   * it is significantly worse, followed by `(*)` p < 0.05, `(**)` p < 0.01, `(***)` p < 0.001; `N.A.` when the
   * difference is not significant.
   */
  mark: string;
  meanA: number;
  meanB: number;
  /** clips of A and of B that entered the test */
  clips: [number, number];
}

export interface CompareOptions {
  /**
   * `true`: paired t-test, and an error when the runs did not score the same clips; `false`: Welch's t-test;
   * default: paired exactly when both runs hold the same clips (by `item`).
   */
  paired?: boolean;
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

function mark(p: number, aBetter: boolean): string {
  if (!(p < 0.05)) return "N.A.";
  const stars = p < 0.001 ? "***" : p < 0.01 ? "**" : "*";
  return `${aBetter ? "+" : "-"}(${stars})`;
}

function values(records: ClipMetricsRecord[], metric: PerClipMetricName, what: string): number[] {
  return records.map((r, i) => {
    const v = r[metric];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what}, line ${i + 1} (clip ${r.clip}): ${metric} is ${JSON.stringify(v)}; expected a finite number`);
    return v;
  });
}

/**
 * t-tests of every per-clip metric present in both runs.
 * @param a per-clip records of run A (e.g. the personalised model)
 * @param b per-clip records of run B (e.g. the generic model or a baseline)
 * @throws when a run has fewer than 2 clips, a value is missing or not finite, an item appears twice, or `paired` is
 *   asked for runs over different clips
 */
export function compareRuns(a: ClipMetricsRecord[], b: ClipMetricsRecord[], options: CompareOptions = {}): Partial<Record<PerClipMetricName, MetricComparison>> {
  for (const [name, run] of [["A", a], ["B", b]] as const) {
    if (run.length < 2) throw new Error(`run ${name} has ${run.length} clip(s); a t-test needs at least 2`);
    const seen = new Set<number>();
    for (const r of run) {
      if (seen.has(r.item)) throw new Error(`run ${name} holds item ${r.item} (${r.clip}) twice`);
      seen.add(r.item);
    }
  }
  const byItem = new Map(b.map((r) => [r.item, r]));
  const sameClips = a.length === b.length && a.every((r) => byItem.get(r.item)?.clip === r.clip);
  if (options.paired && !sameClips) throw new Error(`a paired t-test needs the same clips in both runs; A has ${a.length}, B has ${b.length} and they differ`);
  const paired = options.paired ?? sameClips;
  // paired values in A's order
  const bAligned = paired ? a.map((r) => byItem.get(r.item)!) : b;
  const out: Partial<Record<PerClipMetricName, MetricComparison>> = {};
  for (const metric of PER_CLIP_METRICS) {
    if (!(metric in a[0]!) || !(metric in b[0]!)) continue;
    const x = values(a, metric, "run A");
    const y = values(bAligned, metric, "run B");
    const [meanA, meanB] = [mean(x), mean(y)];
    let t: number;
    let df: number;
    let p: number;
    const identical = paired ? x.every((v, i) => v === y[i]) : x.every((v) => v === x[0]) && y.every((v) => v === x[0]);
    if (identical) {
      // stdlib divides 0 by 0 here; no difference is no evidence of one
      [t, df, p] = [0, paired ? x.length - 1 : x.length + y.length - 2, 1];
    } else {
      const r = paired ? ttestPaired(x, y) : ttestWelch(x, y);
      [t, df, p] = [r.statistic, r.df, r.pValue];
    }
    const aBetter = BETTER_SIDE[metric] === "higher" ? meanA > meanB : meanA < meanB;
    out[metric] = { t, df, p, test: paired ? "paired" : "welch", mark: mark(p, aBetter), meanA, meanB, clips: [x.length, y.length] };
  }
  return out;
}
