import type { PreparedInputs } from "./inputs";
import { EMOTION_DIM } from "@perfrdiff/layout";

/**
 * Per-sequence statistics for CCC: the per-dimension mean, population variance and centred values.
 * Computed once per sequence so each CCC pair is a single pass of dot products.
 */
export interface CccStats {
  t: number;
  d: number;
  mean: Float64Array; // [D]
  variance: Float64Array; // [D], ddof 0 as np.var
  centred: Float64Array; // [D, T]: per dimension, contiguous, so a CCC pair is D straight dot products
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
      centred[j * t + i] = c;
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
  const ca = a.centred;
  const cb = b.centred;
  let sum = 0;
  for (let j = 0; j < d; j++) {
    const va = a.variance[j];
    const vb = b.variance[j];
    const dot = va > 0 && vb > 0 ? dot4(ca, cb, j * t, t) : 0;
    let r = va > 0 && vb > 0 ? dot / t / Math.sqrt(va) / Math.sqrt(vb) : 0;
    if (r > 1) r = 1;
    else if (r < -1) r = -1;
    const dm = a.mean[j] - b.mean[j];
    sum += (2 * r * Math.sqrt(va) * Math.sqrt(vb)) / (va + vb + dm * dm + 1e-8);
  }
  return sum / d;
}

/** Dot product of a[o, o + n) and b[o, o + n) with four accumulators (breaks the add latency chain). */
export function dot4(a: Float64Array, b: Float64Array, o: number, n: number, bo = o): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[o + i] * b[bo + i];
    s1 += a[o + i + 1] * b[bo + i + 1];
    s2 += a[o + i + 2] * b[bo + i + 2];
    s3 += a[o + i + 3] * b[bo + i + 3];
  }
  for (; i < n; i++) s0 += a[o + i] * b[bo + i];
  return s0 + s1 + (s2 + s3);
}

/** CCC of two sequences `[T, D]` (see {@link cccFromStats}). */
export function ccc(a: ArrayLike<number>, b: ArrayLike<number>, t: number, d: number): number {
  if (a.length !== t * d || b.length !== t * d) {
    throw new RangeError(`ccc: both sequences must hold ${t}x${d} values, got ${a.length} and ${b.length}`);
  }
  return cccFromStats(cccStats(a, 0, t, d), cccStats(b, 0, t, d));
}

/**
 * For one clip, the best CCC of each of its K predictions against the clip's appropriate real reactions: `[K]`.
 * @param cache per-reaction statistics, filled lazily and reused across clips
 */
export function bestCccForClip(p: PreparedInputs, clip: number, cache: (CccStats | undefined)[]): Float64Array {
  const { k, t } = p;
  const d = EMOTION_DIM;
  const nbs = p.neighbourLists[clip];
  for (const nb of nbs) cache[nb] ??= cccStats(p.listener, nb * t * d, t, d);
  const out = new Float64Array(k);
  for (let kk = 0; kk < k; kk++) {
    const ps = cccStats(p.predictions, (clip * k + kk) * t * d, t, d);
    let best = -Infinity;
    for (const nb of nbs) {
      const c = cccFromStats(cache[nb]!, ps);
      if (c > best) best = c;
    }
    out[kk] = best;
  }
  return out;
}

/**
 * Per clip and prediction, the best CCC against the clip's appropriate real reactions: `[N, K]`.
 * FRCorr is its sum over K (official) or mean over K (corrected), averaged over clips.
 */
export function bestCccPerPrediction(p: PreparedInputs, onClip?: (done: number) => void): Float64Array {
  const cache: (CccStats | undefined)[] = new Array(p.m);
  const out = new Float64Array(p.n * p.k);
  for (let i = 0; i < p.n; i++) {
    out.set(bestCccForClip(p, i, cache), i * p.k);
    onClip?.(i + 1);
  }
  return out;
}
