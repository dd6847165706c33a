import { dot4 } from "./ccc";

/** FRSyn looks for the lag of peak correlation within +-2 s at 25 fps: lags -49..49 frames. */
export const TLCC_MAX_LAG = 49;

/** One sequence `[T, D]` laid out per dimension, with prefix sums for O(1) window means and variances. */
interface DimSeries {
  t: number;
  values: Float64Array; // [D, T]
  centred: Float64Array; // [D, T] values minus the whole-sequence mean of their dimension
  sum: Float64Array; // [D, T + 1] prefix sums
  sumSq: Float64Array; // [D, T + 1] prefix sums of squares
  changes: Int32Array; // [D, T] number of i in [1, t] with x[i] != x[i - 1]
}

function dimSeries(x: Float32Array, offset: number, t: number, d: number): DimSeries {
  const values = new Float64Array(d * t);
  const sum = new Float64Array(d * (t + 1));
  const sumSq = new Float64Array(d * (t + 1));
  const changes = new Int32Array(d * t);
  const centred = new Float64Array(d * t);
  for (let j = 0; j < d; j++) {
    let s = 0;
    let q = 0;
    let c = 0;
    for (let i = 0; i < t; i++) {
      const v = x[offset + i * d + j];
      values[j * t + i] = v;
      if (i > 0 && v !== values[j * t + i - 1]) c++;
      changes[j * t + i] = c;
      s += v;
      q += v * v;
      sum[j * (t + 1) + i + 1] = s;
      sumSq[j * (t + 1) + i + 1] = q;
    }
    const mean = s / t;
    for (let i = 0; i < t; i++) centred[j * t + i] = values[j * t + i] - mean;
  }
  return { t, values, centred, sum, sumSq, changes };
}

/** Sum of squared deviations of x[s, s + n) of dimension j: from prefix sums, or in two passes where they cancel. */
function deviations(a: DimSeries, j: number, s: number, n: number, mean: number): number {
  const base = j * (a.t + 1);
  const sq = a.sumSq[base + s + n] - a.sumSq[base + s];
  const fast = sq - n * mean * mean;
  if (fast > 1e-8 * sq) return fast;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const x = a.values[j * a.t + s + i] - mean;
    v += x * x;
  }
  return v;
}

/**
 * Time-lagged cross-correlation of a reaction with the speaker, as the official `metric/TLCC.py`: for each lag in
 * [-49, 49] frames the mean over dimensions of the Pearson correlation of the overlapping parts (reaction shifted by
 * the lag), rounded to float32 as the official torch tensors are. A dimension that is constant over the overlap
 * gives NaN (numpy's corrcoef divides 0 by 0), and so does the mean.
 * @param pred reaction `[T, D]` at `po`; @param speaker `[T, D]` at `so`
 * @returns the 99 correlations, lag -49 first
 */
export function laggedCorrelations(
  pred: Float32Array,
  po: number,
  speaker: Float32Array,
  so: number,
  t: number,
  d: number,
  maxLag = TLCC_MAX_LAG,
): Float32Array {
  const x = dimSeries(pred, po, t, d);
  const y = dimSeries(speaker, so, t, d);
  const rs = new Float32Array(2 * maxLag + 1);
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    // lag > 0: pred[lag:] against speaker[:-lag]; lag < 0: pred[:lag] against speaker[-lag:].
    const n = t - Math.abs(lag);
    const xs = lag > 0 ? lag : 0;
    const ys = lag < 0 ? -lag : 0;
    let total = 0;
    for (let j = 0; j < d; j++) {
      const xc = x.changes[j * t + xs + n - 1] - x.changes[j * t + xs];
      const yc = y.changes[j * t + ys + n - 1] - y.changes[j * t + ys];
      if (xc === 0 || yc === 0) {
        total = NaN;
        break;
      }
      const mx = (x.sum[j * (t + 1) + xs + n] - x.sum[j * (t + 1) + xs]) / n;
      const my = (y.sum[j * (t + 1) + ys + n] - y.sum[j * (t + 1) + ys]) / n;
      // sum (x - mx)(y - my) over the window, from values centred on whole-sequence means gx, gy:
      // sum (x' - (mx - gx)) (y' - (my - gy)) = sum x'y' - n (mx - gx)(my - gy), no large cancellation.
      const gx = x.sum[j * (t + 1) + t] / t;
      const gy = y.sum[j * (t + 1) + t] / t;
      const sxy = dot4(x.centred, y.centred, j * t + xs, n, j * t + ys) - n * (mx - gx) * (my - gy);
      let r = sxy / Math.sqrt(deviations(x, j, xs, n, mx)) / Math.sqrt(deviations(y, j, ys, n, my));
      r = r > 1 ? 1 : r < -1 ? -1 : r;
      total += Math.fround(r);
    }
    rs[lag + maxLag] = total / d;
  }
  return rs;
}

/**
 * |lag| of the peak correlation of a reaction with the speaker (FRSyn of one reaction). The peak is the first maximum,
 * and a NaN correlation counts as the maximum (torch.argmax semantics), as in the official code.
 */
export function tlccOffset(pred: Float32Array, po: number, speaker: Float32Array, so: number, t: number, d: number): number {
  const rs = laggedCorrelations(pred, po, speaker, so, t, d);
  let arg = 0;
  for (let i = 0; i < rs.length; i++) {
    if (Number.isNaN(rs[i])) {
      arg = i;
      break;
    }
    if (rs[i] > rs[arg]) arg = i;
  }
  return Math.abs((rs.length >> 1) - arg);
}
