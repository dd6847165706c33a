import { DTW_LANES, EmotionDtwKernel } from "./dtw-kernel";
import { EMOTION_DIM, FRDIST_GROUPS } from "@perfrdiff/layout";

/** What one FRdist clip computation needs: predictions `[N, K, T, 25]` and real reactions `[M, T, 25]`. */
export interface FrdistData {
  predictions: Float32Array;
  listener: Float32Array;
  k: number;
  t: number;
}

// frdistClipMinimaScreened (dtw-screen.ts) is the faster path used by evaluations; this one is kept as the
// straightforward lane kernel that it is checked and benchmarked against.

/** Counters of the work done, to report how much early abandoning saved. */
export interface FrdistWork {
  /** (prediction, real reaction) distances asked for. */
  pairs: number;
  /** Cost-matrix rows computed, summed over kernel calls (each call covers up to 4 predictions). */
  rows: number;
  /** Rows a computation without early abandoning would need. */
  rowsWithoutPruning: number;
  /** Screening FRdist (`frdistClipMinimaScreened`): pairs whose expression DTW had to be screened. */
  exprPairs?: number;
  /** Screening FRdist: pairs recomputed exactly (those that could still be their prediction's minimum). */
  exactPairs?: number;
}

/**
 * Weighted Euclidean distance along the diagonal path, `sum_g w_g sqrt(sum_t |p_t - q_t|^2_g)`: an upper bound of
 * the weighted DTW of two equal-length sequences (the diagonal is one of the warping paths).
 */
function diagonalBound(a: Float32Array, aOff: number, b: Float32Array, bOff: number, t: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < t * EMOTION_DIM; i += EMOTION_DIM) {
    for (let d = 0; d < 15; d++) {
      const x = a[aOff + i + d] - b[bOff + i + d];
      s0 += x * x;
    }
    for (let d = 15; d < 17; d++) {
      const x = a[aOff + i + d] - b[bOff + i + d];
      s1 += x * x;
    }
    for (let d = 17; d < 25; d++) {
      const x = a[aOff + i + d] - b[bOff + i + d];
      s2 += x * x;
    }
  }
  return FRDIST_GROUPS[0][2] * Math.sqrt(s0) + FRDIST_GROUPS[1][2] * Math.sqrt(s1) + FRDIST_GROUPS[2][2] * Math.sqrt(s2);
}

// Slack on bounds computed in float64 against kernel distances whose squared differences are float32.
const BOUND_SLACK = 1e-6;

/**
 * For one clip, the minimum over its appropriate real reactions of the weighted DTW distance, for each of its K
 * predictions: `[K]`. Exact: early abandoning only skips reactions that provably cannot be the minimum.
 * @param neighbours indices into `listener` of the clip's appropriate reactions
 * @param pruning false computes every distance in full (for benchmarks and checks)
 */
export function frdistClipMinima(
  data: FrdistData,
  clip: number,
  neighbours: Int32Array,
  kernel: EmotionDtwKernel,
  pruning = true,
  work?: FrdistWork,
): Float64Array {
  const { predictions, listener, k, t } = data;
  const size = t * EMOTION_DIM;
  const best = new Float64Array(k).fill(Infinity);
  const r = neighbours.length;
  for (let k0 = 0; k0 < k; k0 += DTW_LANES) {
    const lanes = Math.min(DTW_LANES, k - k0);
    const offsets = Array.from({ length: lanes }, (_, l) => (clip * k + k0 + l) * size);
    kernel.setPredictions(predictions, offsets, t);
    // Upper bounds from the diagonal path give every lane a threshold before any DTW is run, and order the real
    // reactions so that the likely minimum comes first and the rest are abandoned early.
    const bound = new Float64Array(lanes).fill(Infinity);
    const order = Array.from(neighbours);
    if (pruning && r > 1) {
      const score = new Map<number, number>();
      for (const nb of neighbours) {
        let s = 0;
        for (let l = 0; l < lanes; l++) {
          const ub = diagonalBound(predictions, offsets[l], listener, nb * size, t);
          if (ub < bound[l]) bound[l] = ub;
          s += ub;
        }
        score.set(nb, s);
      }
      order.sort((x, y) => score.get(x)! - score.get(y)!);
    }
    const thr = new Float64Array(DTW_LANES).fill(-1); // unused lanes never hold a run back
    for (const nb of order) {
      for (let l = 0; l < lanes; l++) {
        const b = Math.min(best[k0 + l], bound[l] * (1 + BOUND_SLACK));
        thr[l] = pruning && r > 1 ? b : Infinity;
      }
      // Without pruning there is nothing to check along the way (checkEvery 0).
      const res = kernel.run(listener, nb * size, thr, pruning && r > 1 ? 25 : 0);
      if (work) {
        work.pairs += lanes;
        work.rows += kernel.rowsComputed;
        work.rowsWithoutPruning += t;
      }
      if (res === null) continue;
      for (let l = 0; l < lanes; l++) if (res[l] < best[k0 + l]) best[k0 + l] = res[l];
    }
  }
  return best;
}
