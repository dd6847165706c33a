import { TLCC_MAX_LAG } from "./layout";

/**
 * Pearson correlation of x[xo + i*d + j] and y[yo + i*d + j] for i in [0, len): NaN when either is constant, as
 * numpy's corrcoef gives (0/0).
 */
function pearson(x: Float32Array, xo: number, y: Float32Array, yo: number, len: number, d: number): number {
  let mx = 0;
  let my = 0;
  const x0 = x[xo];
  const y0 = y[yo];
  let xConst = true;
  let yConst = true;
  for (let i = 0; i < len; i++) {
    const a = x[xo + i * d];
    const b = y[yo + i * d];
    mx += a;
    my += b;
    if (a !== x0) xConst = false;
    if (b !== y0) yConst = false;
  }
  if (xConst || yConst) return NaN;
  mx /= len;
  my /= len;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < len; i++) {
    const a = x[xo + i * d] - mx;
    const b = y[yo + i * d] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  const r = sxy / Math.sqrt(sxx) / Math.sqrt(syy);
  return r > 1 ? 1 : r < -1 ? -1 : r;
}

/**
 * Time-lagged cross-correlation of a reaction with the speaker, as the official `metric/TLCC.py`: for each lag in
 * [-49, 49] frames the mean over dimensions of the Pearson correlation of the overlapping parts (reaction shifted by
 * the lag), rounded to float32 as the official torch tensors are.
 * @param pred reaction `[T, D]` at `po`; @param speaker `[T, D]` at `so`
 * @returns the 99 correlations, lag -49 first (NaN where a dimension is constant over the overlap)
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
  const rs = new Float32Array(2 * maxLag + 1);
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    // lag > 0: pred[lag:] against speaker[:-lag]; lag < 0: pred[:lag] against speaker[-lag:].
    const len = t - Math.abs(lag);
    const xo = po + (lag > 0 ? lag * d : 0);
    const yo = so + (lag < 0 ? -lag * d : 0);
    let sum = 0;
    for (let j = 0; j < d; j++) sum += Math.fround(pearson(pred, xo + j, speaker, yo + j, len, d));
    rs[lag + maxLag] = sum / d;
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
