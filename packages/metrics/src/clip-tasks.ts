import { bestCccForClip, type CccStats } from "./ccc";
import { EmotionDtwKernel } from "./dtw-kernel";
import { frdistClipMinimaScreened, PairDtwKernel } from "./dtw-screen";
import { frdistClipMinima, type FrdistWork } from "./frdist";
import type { PreparedInputs } from "./inputs";
import { EMOTION_DIM } from "@perfrdiff/layout";
import { frdiv, frdvs, frvar } from "./diversity";
import { frreaFeat } from "./frechet";
import { tlccOffset } from "./tlcc";

/** The per-clip work of an evaluation, run in this thread or in a worker. */
export type ClipTask =
  /**
   * `screen`: the screening path (dtw-screen.ts); `lanes`: the lane kernel with early abandoning as `pruning` says
   * (`auto`: until it has proved useless on this thread's first clips, see {@link ClipTaskRunner}).
   */
  | { kind: "frdist"; clip: number; method?: FrdistMethod; pruning?: boolean | "auto" }
  /** Best CCC of each prediction, and TLCC offsets of the first `scored` predictions. */
  | { kind: "correlation"; clip: number; scored: number }
  /** The whole-set metrics FRDiv, FRDvs, FRVar and FRRea-feat (`clip` is unused, -1). */
  | { kind: "sets"; clip: number };

/** How FRdist's minima are computed; both give the same minima. */
export type FrdistMethod = "screen" | "lanes";

export interface ClipResult {
  clip: number;
  /** frdist: minima `[K]`; correlation: best CCC `[K]` then offsets `[scored]`; sets: the 4 values. */
  values: Float64Array;
  work?: FrdistWork;
}

/** Runs clip tasks against one set of prepared inputs, keeping per-thread caches (DTW kernel, CCC statistics). */
export class ClipTaskRunner {
  private readonly cccCache: (CccStats | undefined)[];
  private kernel: EmotionDtwKernel | undefined;
  private pairKernel: PairDtwKernel | undefined;
  /** Work of the clips run with early abandoning, to decide whether `auto` keeps it. */
  private readonly pruned: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
  private prunedClips = 0;

  constructor(private readonly p: PreparedInputs) {
    this.cccCache = new Array(p.m);
  }

  run(task: ClipTask): ClipResult {
    const { p } = this;
    if (task.kind === "frdist") {
      const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
      if ((task.method ?? "screen") === "screen") {
        this.pairKernel ??= new PairDtwKernel();
        return { clip: task.clip, values: frdistClipMinimaScreened(p, task.clip, p.neighbourLists[task.clip], this.pairKernel, work), work };
      }
      this.kernel ??= new EmotionDtwKernel();
      // Early abandoning is exact either way, but on reactions that are all about equally far from a prediction it
      // saves nothing and its bounds and checks cost ~10%: `auto` drops it after 3 clips that saved under 5% of rows.
      const useless = this.prunedClips >= 3 && this.pruned.rows > 0.95 * this.pruned.rowsWithoutPruning;
      const pruning = task.pruning === "auto" ? !useless : (task.pruning ?? true);
      const values = frdistClipMinima(p, task.clip, p.neighbourLists[task.clip], this.kernel, pruning, work);
      if (pruning) {
        this.prunedClips++;
        this.pruned.rows += work.rows;
        this.pruned.rowsWithoutPruning += work.rowsWithoutPruning;
      }
      return { clip: task.clip, values, work };
    }
    if (task.kind === "sets") {
      const { n, k, t, m } = p;
      const d = EMOTION_DIM;
      return {
        clip: task.clip,
        values: Float64Array.of(
          frdiv(p.predictions, n, k, t, d),
          frdvs(p.predictions, n, k, t, d),
          frvar(p.predictions, n, k, t, d),
          frreaFeat(p.predictions, n * k, p.listener, m, t, d),
        ),
      };
    }
    const values = new Float64Array(p.k + task.scored);
    values.set(bestCccForClip(p, task.clip, this.cccCache));
    const size = p.t * EMOTION_DIM;
    for (let kk = 0; kk < task.scored; kk++) {
      values[p.k + kk] = tlccOffset(p.predictions, (task.clip * p.k + kk) * size, p.speaker, task.clip * size, p.t, EMOTION_DIM);
    }
    return { clip: task.clip, values };
  }
}
