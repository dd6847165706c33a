import type { PreparedInputs } from "./inputs";
import { EMOTION_DIMS } from "./layout";

/**
 * Per-sequence statistics for CCC: the per-dimension mean, population variance and centred values.
 * Computed once per sequence so each CCC pair is a single pass of dot products.
 */
export interface CccStats {
  t: number;
  d: number;
  mean: Float64Array; // [D]
  variance: Float64Array; // [D], ddof 0 as np.var
  centred: Float64Array; // [T, D]
}

/** Computes {@link CccStats} of one sequence `[T, D]` stored at `offset` in `data`. */
export function cccStats(data: ArrayLike<number>, offset: number, t: number, d: number): CccStats {
  const mean = new Float64Array(d);
  for (let i = 0; i < t; i++) for (let j = 0; j < d; j++) mean[j] += data[offset + i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= t;
  const centred = new Float64Array(t * d);
  const variance = new Float64Array(d);
  for (let i = 0; i < t; i++) {
    for (let j = 0; j < d; j++) {
      const c = data[offset + i * d + j] - mean[j];
      centred[i * d + j] = c;
      variance[j] += c * c;
    }
  }
  for (let j = 0; j < d; j++) variance[j] /= t;
  return { t, d, mean, variance, centred };
}

/**
 * Concordance correlation coefficient of two sequences, averaged over dimensions, exactly as the official REACT code
 * (`metric/FRC.py`): per dimension `2 r s_x s_y / (s_x^2 + s_y^2 + (m_x - m_y)^2 + 1e-8)` with population variances,
 * where the Pearson r of a constant dimension is 0 (the official code's `nan_to_num`), clipped to [-1, 1].
 * So two identical sequences score 1 only if no dimension is constant; a constant dimension contributes 0.
 */
export function cccFromStats(a: CccStats, b: CccStats): number {
  const { t, d } = a;
  const dot = new Float64Array(d);
  const ca = a.centred;
  const cb = b.centred;
  for (let i = 0; i < t * d; i += d) {
    for (let j = 0; j < d; j++) dot[j] += ca[i + j] * cb[i + j];
  }
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const va = a.variance[j];
    const vb = b.variance[j];
    let r = va > 0 && vb > 0 ? dot[j] / t / Math.sqrt(va) / Math.sqrt(vb) : 0;
    if (r > 1) r = 1;
    else if (r < -1) r = -1;
    const dm = a.mean[j] - b.mean[j];
    sum += (2 * r * Math.sqrt(va) * Math.sqrt(vb)) / (va + vb + dm * dm + 1e-8);
  }
  return sum / d;
}

/** CCC of two sequences `[T, D]` (see {@link cccFromStats}). */
export function ccc(a: ArrayLike<number>, b: ArrayLike<number>, t: number, d: number): number {
  if (a.length !== t * d || b.length !== t * d) {
    throw new RangeError(`ccc: both sequences must hold ${t}x${d} values, got ${a.length} and ${b.length}`);
  }
  return cccFromStats(cccStats(a, 0, t, d), cccStats(b, 0, t, d));
}

/**
 * Per clip and prediction, the best CCC against the clip's appropriate real reactions: `[N, K]`.
 * FRCorr is its sum over K (official) or mean over K (corrected), averaged over clips.
 */
export function bestCccPerPrediction(p: PreparedInputs, onClip?: (done: number) => void): Float64Array {
  const { n, k, t, m } = p;
  const d = EMOTION_DIMS;
  const listenerStats: (CccStats | undefined)[] = new Array(m);
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const nbs = p.neighbourLists[i];
    for (const nb of nbs) listenerStats[nb] ??= cccStats(p.listener, nb * t * d, t, d);
    for (let kk = 0; kk < k; kk++) {
      const ps = cccStats(p.predictions, (i * k + kk) * t * d, t, d);
      let best = -Infinity;
      for (const nb of nbs) {
        const c = cccFromStats(listenerStats[nb]!, ps);
        if (c > best) best = c;
      }
      out[i * k + kk] = best;
    }
    onClip?.(i + 1);
  }
  return out;
}
