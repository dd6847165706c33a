import { DTW_MEMORY_BASE, instantiateDtwModule } from "./dtw-kernel";
import type { FrdistData, FrdistWork } from "./frdist";
import { EMOTION_DIM, FRDIST_GROUPS } from "@perfrdiff/layout";

// FRdist by screening (see asm/dtw.ts for the kernels). Per clip, every (prediction, appropriate reaction) pair is a
// SIMD lane of its own, and the three groups run as separate DTWs:
//  1. AUs: when all AU values of the clip's predictions and reactions are 0/1, exactly, in 8 unsigned 16-bit lanes
//     (integer costs 0..15), for every pair; otherwise a float32 screening DTW in step 3.
//  2. Valence/arousal: float32 screening DTW, 8 pairs per call, for every pair.
//  3. Per prediction, the pair with the least lower bound so far is computed exactly (below), as it is usually the
//     minimum; the remaining groups of the others (AUs that are not 0/1, then expressions) are screened in float32
//     only while their lower bound does not exceed the best exact value or upper bound found for their prediction.
//  4. The exact re-check: the screened pairs whose lower bound does not exceed their prediction's best bound are
//     recomputed with the arithmetic of EmotionDtwKernel (float32 squared differences, float64 accumulation), and the
//     minimum is taken over the exact values. So the minima equal EmotionDtwKernel's.
//
// Error bound of a float32 screening DTW (u = 2^-24): a cell cost of n squared differences is computed with at most
// n + 2 roundings of non-negative terms, so it lies within (1 +- u)^(n+2) of the exact cost; each accumulated cost
// adds one more rounding per step, min is exact, and a warping path of a T x T matrix has at most 2T - 1 cells. So the
// float32 result S lies within (1 +- u)^(n + 2T + 1) of the exact DTW G, and the re-check value R within
// (1 +- u)^(n+3) (plus float64 rounding, 1e-12). Hence |R - S| <= eps * S with eps = 2 (2T + 2n + 6) u, a factor 2 to
// spare (also covering 1/(1 - x) <= 1 + 2x). Subnormal squares add at most 2^-149 each, covered by an absolute 1e-30.

const U = 2 ** -24;
/** Relative slack on float64 sums of square roots (a few roundings of 2^-53 each). */
const F64_SLACK = 1e-12;
const TINY = 1e-30;

function screenEps(t: number, dims: number): number {
  return 2 * (2 * t + 2 * dims + 6) * U;
}

interface ScreenExports {
  memory: WebAssembly.Memory;
  dtwAuMask8(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number): void;
  screenVa8(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number): void;
  screenExp4(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number): void;
  screenAu4(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number): void;
  exactLanes(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number): void;
  exactLanesNoAu(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number): void;
  exactLanesBinaryAu(rows: number, nrows: number, cols: number, ncols: number, work: number, out: number, colsA: number, colsB: number): void;
}

/** How {@link PairDtwKernel.exact} computes the AU group. */
export type ExactAuMode = "none" | "squares" | "binaryRows";

/**
 * EmotionDtwKernel's binary-AU formula, `sum_d a_d^2 + sum_{d: x_d = 1} (1 - 2 a_d)` in float32, is not a sum of
 * non-negative terms: its rounding error is bounded absolutely, not relatively. Per cell it is at most
 * 33 u (sum_d a_d^2 + sum_d |1 - 2 a_d|) (15 + 1 roundings in the squares' sum, one in each 1 - 2a, at most 15 in the
 * sum, each at most u times the largest partial sum); we take 40 u. This returns that bound for the worst frame of a
 * prediction `[T, 25]`, times the 2T - 1 cells of the longest warping path: a bound on |its DTW - the exact DTW|.
 */
function binaryRowAuSlack(data: Float32Array, offset: number, t: number): number {
  let worst = 0;
  for (let i = 0; i < t; i++) {
    let m = 0;
    for (let d = 0; d < 15; d++) {
      const a = data[offset + i * EMOTION_DIM + d];
      m += a * a + Math.abs(1 - 2 * a);
    }
    if (m > worst) worst = m;
  }
  return (2 * t - 1) * 40 * U * worst;
}

/** The 15 AUs of a sequence `[T, 25]` as 15-bit masks `[T]`, or null when an AU value is not exactly 0 or 1. */
export function auMasks(data: Float32Array, offset: number, t: number): Uint16Array | null {
  const out = new Uint16Array(t);
  for (let i = 0; i < t; i++) {
    let m = 0;
    const o = offset + i * EMOTION_DIM;
    for (let au = 0; au < 15; au++) {
      const x = data[o + au];
      if (x === 1) m |= 1 << au;
      else if (x !== 0) return null;
    }
    out[i] = m;
  }
  return out;
}

/**
 * The FRdist DTW kernels with one (real reaction, prediction) pair per SIMD lane (WebAssembly SIMD): exact binary-AU
 * DTW in 16-bit lanes, float32 screening DTWs per group, and the exact float64-accumulated re-check. One instance owns
 * one WebAssembly memory; each worker thread makes its own.
 */
export class PairDtwKernel {
  private readonly ex: ScreenExports;
  private t = 0;
  private rowsPtr = 0;
  private colsPtr = 0;
  private workPtr = 0;
  private outPtr = 0;
  private colsAPtr = 0;
  private colsBPtr = 0;
  /** Listener AU masks by reaction index (null: not all 0/1), kept across clips. */
  readonly listenerMasks = new Map<number, Uint16Array | null>();

  constructor() {
    this.ex = instantiateDtwModule().exports as unknown as ScreenExports;
  }

  private layout(t: number): void {
    if (t === this.t) return;
    // The largest layout is the re-check's f32 [T][25][4] per side and f64 [T][3][4] of work.
    const side = t * EMOTION_DIM * 16;
    this.rowsPtr = DTW_MEMORY_BASE;
    this.colsPtr = this.rowsPtr + side;
    this.workPtr = this.colsPtr + side;
    this.outPtr = this.workPtr + t * 96;
    this.colsAPtr = this.outPtr + 96;
    this.colsBPtr = this.colsAPtr + t * 16;
    const need = this.colsBPtr + t * 15 * 16;
    const have = this.ex.memory.buffer.byteLength;
    if (need > have) this.ex.memory.grow(Math.ceil((need - have) / 65536));
    this.t = t;
  }

  /**
   * Exact squared AU DTW of up to 8 pairs of 0/1 AU sequences given as masks (see {@link auMasks}), `[lanes]`.
   * Needs 15 (2T - 1) < 65535.
   */
  auExact(rowMasks: readonly Uint16Array[], colMasks: readonly Uint16Array[], t: number): Uint16Array {
    if (15 * (2 * t - 1) >= 65535) throw new RangeError("binary-AU DTW in 16 bits needs T <= 2184");
    this.layout(t);
    const mem = this.ex.memory.buffer;
    const rows = new Uint16Array(mem, this.rowsPtr, t * 8);
    const cols = new Uint16Array(mem, this.colsPtr, t * 8);
    const lanes = rowMasks.length;
    for (let l = 0; l < 8; l++) {
      const r = rowMasks[Math.min(l, lanes - 1)];
      const c = colMasks[Math.min(l, lanes - 1)];
      for (let i = 0; i < t; i++) {
        rows[i * 8 + l] = r[i];
        cols[i * 8 + l] = c[i];
      }
    }
    this.ex.dtwAuMask8(this.rowsPtr, t, this.colsPtr, t, this.workPtr, this.outPtr);
    return new Uint16Array(mem, this.outPtr, 8).slice(0, lanes);
  }

  /**
   * Float32 screening DTW (squared, no square root) of one group for up to `lanes` pairs: 8 for valence/arousal,
   * 4 for the others. Row `l` is the sequence `[T, 25]` at `rowOffsets[l]` of `rowData`, column `l` likewise.
   */
  screen(
    group: 0 | 1 | 2,
    rowData: Float32Array,
    rowOffsets: readonly number[],
    colData: Float32Array,
    colOffsets: readonly number[],
    t: number,
  ): Float32Array {
    this.layout(t);
    const [start, end] = FRDIST_GROUPS[group];
    const lanes = group === 1 ? 8 : 4;
    if (rowOffsets.length < 1 || rowOffsets.length > lanes) throw new RangeError(`1 to ${lanes} pairs per call`);
    this.gather(this.rowsPtr, rowData, rowOffsets, lanes, start, end - start, t);
    this.gather(this.colsPtr, colData, colOffsets, lanes, start, end - start, t);
    const f = group === 0 ? this.ex.screenAu4 : group === 1 ? this.ex.screenVa8 : this.ex.screenExp4;
    f(this.rowsPtr, t, this.colsPtr, t, this.workPtr, this.outPtr);
    return new Float32Array(this.ex.memory.buffer, this.outPtr, lanes).slice(0, rowOffsets.length);
  }

  /**
   * The exact DTWs (EmotionDtwKernel's arithmetic) of up to 4 pairs: squared DTW per group `[3][lanes]`. AUs, as
   * `au` says: `none` (entries 0; they are known exactly already), `squares` (15 squared differences, as
   * EmotionDtwKernel for a real reaction whose AUs are not all 0/1), `binaryRows` (every row's AUs are 0/1: the
   * binary-AU formula of EmotionDtwKernel, with the same roundings).
   */
  exact(
    rowData: Float32Array,
    rowOffsets: readonly number[],
    colData: Float32Array,
    colOffsets: readonly number[],
    t: number,
    au: ExactAuMode,
  ): Float64Array[] {
    this.layout(t);
    if (rowOffsets.length < 1 || rowOffsets.length > 4) throw new RangeError("1 to 4 pairs per call");
    this.gather(this.rowsPtr, rowData, rowOffsets, 4, 0, EMOTION_DIM, t);
    this.gather(this.colsPtr, colData, colOffsets, 4, 0, EMOTION_DIM, t);
    const args = [this.rowsPtr, t, this.colsPtr, t, this.workPtr, this.outPtr] as const;
    if (au === "binaryRows") {
      const mem = this.ex.memory.buffer;
      const colsA = new Float32Array(mem, this.colsAPtr, t * 4);
      const colsB = new Float32Array(mem, this.colsBPtr, t * 15 * 4);
      for (let l = 0; l < 4; l++) {
        const off = colOffsets[Math.min(l, colOffsets.length - 1)];
        // As EmotionDtwKernel.setPredictions: float32 sum of float32 squares, and 1 - 2a rounded to float32.
        for (let i = 0; i < t; i++) {
          let sumSq = 0;
          for (let d = 0; d < 15; d++) {
            const a = colData[off + i * EMOTION_DIM + d];
            sumSq = Math.fround(sumSq + Math.fround(a * a));
            colsB[(i * 15 + d) * 4 + l] = 1 - 2 * a;
          }
          colsA[i * 4 + l] = sumSq;
        }
      }
      this.ex.exactLanesBinaryAu(...args, this.colsAPtr, this.colsBPtr);
    } else {
      (au === "squares" ? this.ex.exactLanes : this.ex.exactLanesNoAu)(...args);
    }
    const out = new Float64Array(this.ex.memory.buffer, this.outPtr, 12);
    return [0, 1, 2].map((g) => (g === 0 && au === "none" ? new Float64Array(4) : out.slice(g * 4, g * 4 + 4)));
  }

  /** Interleaves dims `[start, start + dims)` of up to `lanes` sequences as f32 `[T][dims][lanes]` at `ptr`. */
  private gather(ptr: number, data: Float32Array, offsets: readonly number[], lanes: number, start: number, dims: number, t: number): void {
    const dst = new Float32Array(this.ex.memory.buffer, ptr, t * dims * lanes);
    const stride = dims * lanes;
    for (let l = 0; l < lanes; l++) {
      const off = offsets[Math.min(l, offsets.length - 1)] + start;
      let s = off;
      let o = l;
      for (let i = 0; i < t; i++, s += EMOTION_DIM - dims) {
        for (let d = 0; d < dims; d++, s++) dst[o + d * lanes] = data[s];
        o += stride;
      }
    }
  }
}

/**
 * Square root of a screening value's lower / upper end, with slack for the error bound. A float32 value that
 * overflowed to Infinity still bounds the exact (float64-accumulated) value from below by about the float32 maximum.
 */
const F32_MAX = 3.4028234663852886e38;
const lowRoot = (s: number, eps: number, abs = 0) => Math.sqrt(Math.max(0, Math.min(s, F32_MAX) * (1 - eps) - abs - TINY));
const highRoot = (s: number, eps: number, abs = 0) => Math.sqrt(s * (1 + eps) + abs + TINY);

/**
 * For one clip, the minimum over its appropriate real reactions of the weighted DTW distance, for each of its K
 * predictions: `[K]`, by screening (see the top of this file). Gives exactly {@link frdistClipMinima}'s minima.
 * @param neighbours indices into `listener` of the clip's appropriate reactions
 */
export function frdistClipMinimaScreened(
  data: FrdistData,
  clip: number,
  neighbours: Int32Array,
  kernel: PairDtwKernel,
  work?: FrdistWork,
): Float64Array {
  const { predictions, listener, k, t } = data;
  const size = t * EMOTION_DIM;
  const r = neighbours.length;
  const np = k * r; // pair p = prediction (p / r) x reaction (p % r)
  const predOff = (p: number) => (clip * k + Math.floor(p / r)) * size;
  const realOff = (p: number) => neighbours[p % r] * size;
  const [w0, w1, w2] = FRDIST_GROUPS.map((g) => g[2]);
  const best = new Float64Array(k).fill(Infinity);
  if (work) {
    work.pairs += np;
    work.rows += np * t;
    work.rowsWithoutPruning += np * t;
  }

  // AU masks of the reactions (null: not all 0/1; such rows take EmotionDtwKernel's general formula) and, when all
  // of them and all predictions are 0/1, the exact squared AU DTW of every pair.
  const u16 = 15 * (2 * t - 1) < 65535;
  const realMasks = Array.from(neighbours, (nb) => {
    let m = kernel.listenerMasks.get(nb);
    if (m === undefined) {
      m = auMasks(listener, nb * size, t);
      kernel.listenerMasks.set(nb, m);
    }
    return m;
  });
  let auExact: Float64Array | null = null;
  if (u16 && realMasks.every((m) => m !== null)) {
    const predMasks: Uint16Array[] = [];
    for (let kk = 0; kk < k && predMasks.length === kk; kk++) {
      const m = auMasks(predictions, (clip * k + kk) * size, t);
      if (m) predMasks.push(m);
    }
    if (predMasks.length === k) {
      auExact = new Float64Array(np);
      for (let p0 = 0; p0 < np; p0 += 8) {
        const ps = Array.from({ length: Math.min(8, np - p0) }, (_, l) => p0 + l);
        const res = kernel.auExact(ps.map((p) => realMasks[p % r]!), ps.map((p) => predMasks[Math.floor(p / r)]), t);
        for (let l = 0; l < ps.length; l++) auExact[ps[l]] = res[l];
      }
    }
  }

  // The exact values of pairs `ps`, each AU group computed as EmotionDtwKernel would for its reaction.
  const exactValue = new Float64Array(np).fill(NaN);
  const recheckAs = (ps: number[], au: ExactAuMode) => {
    for (let q = 0; q < ps.length; q += 4) {
      const batch = ps.slice(q, q + 4);
      const [a, v, e] = kernel.exact(listener, batch.map(realOff), predictions, batch.map(predOff), t, au);
      for (let l = 0; l < batch.length; l++) {
        const p = batch[l];
        // Same order of operations as EmotionDtwKernel.run: res += w * dtw, group by group.
        let x = 0;
        x += w0 * Math.sqrt(auExact ? auExact[p] : a[l]);
        x += w1 * Math.sqrt(v[l]);
        x += w2 * Math.sqrt(e[l]);
        exactValue[p] = x;
      }
    }
  };
  const recheck = (ps: number[]) => {
    if (auExact) recheckAs(ps, "none");
    else {
      recheckAs(ps.filter((p) => realMasks[p % r] !== null), "binaryRows");
      recheckAs(ps.filter((p) => realMasks[p % r] === null), "squares");
    }
    if (work) work.exactPairs = (work.exactPairs ?? 0) + ps.length;
  };
  // A single reaction: nothing to screen, compute exactly.
  if (r === 1) {
    recheck(Array.from({ length: np }, (_, p) => p));
    for (let kk = 0; kk < k; kk++) best[kk] = exactValue[kk];
    return best;
  }

  // Lower and upper ends of each pair's distance, group by group: the exact AUs (0/1) and valence/arousal of every
  // pair first; AUs that are not 0/1 (15 dimensions, the costliest group then) wait, like the expressions, until a
  // pair can still be the minimum.
  const lo = new Float64Array(np);
  const hi = new Float64Array(np);
  if (auExact) for (let p = 0; p < np; p++) lo[p] = hi[p] = w0 * Math.sqrt(auExact[p]);
  const epsVa = screenEps(t, 2);
  for (let p0 = 0; p0 < np; p0 += 8) {
    const ps = Array.from({ length: Math.min(8, np - p0) }, (_, l) => p0 + l);
    const s = kernel.screen(1, listener, ps.map(realOff), predictions, ps.map(predOff), t);
    for (let l = 0; l < ps.length; l++) {
      lo[ps[l]] += w1 * lowRoot(s[l], epsVa);
      hi[ps[l]] += w1 * highRoot(s[l], epsVa);
    }
  }

  // Per prediction, its pair with the least lower bound so far is usually the minimum (the AU and VA DTWs vary more
  // between reactions than the weighted expression DTW), so it is computed exactly straight away; lanes left over
  // take the next most promising pairs.
  const byLo = (x: number, y: number) => lo[x] - lo[y];
  const pairsOf = (kk: number) => Array.from({ length: r }, (_, j) => kk * r + j);
  const firstOrder = Array.from({ length: k }, (_, kk) => pairsOf(kk).sort(byLo));
  const spare = Array.from({ length: k }, (_, kk) => kk)
    .sort((x, y) => lo[firstOrder[x][1]] - lo[firstOrder[y][1]])
    .slice(0, (4 - (k % 4)) % 4);
  recheck([...firstOrder.map((list) => list[0]), ...spare.map((kk) => firstOrder[kk][1])]);
  // bound[kk]: the least exact value or screening upper bound so far; a pair with a larger lower bound is not the min.
  const bound = new Float64Array(k).fill(Infinity);
  const alive = new Uint8Array(np);
  for (let p = 0; p < np; p++) {
    const kk = Math.floor(p / r);
    if (exactValue[p] < bound[kk]) bound[kk] = exactValue[p];
    alive[p] = Number.isNaN(exactValue[p]) ? 1 : 0;
  }
  const canWin = (p: number) => lo[p] * (1 - F64_SLACK) <= bound[Math.floor(p / r)];

  // The remaining groups, costliest last: a pair is screened only while its lower bound does not exceed its
  // prediction's bound, most promising first. Batches take one pair per prediction in turn, so each batch's results
  // tighten the bounds the next batch is checked against.
  const stages: (0 | 2)[] = auExact ? [2] : [0, 2];
  const slack = new Float64Array(k).fill(NaN);
  const auSlack = (kk: number) => {
    if (Number.isNaN(slack[kk])) slack[kk] = binaryRowAuSlack(predictions, (clip * k + kk) * size, t);
    return slack[kk];
  };
  for (const group of stages) {
    const eps = screenEps(t, group === 0 ? 15 : 8);
    const w = group === 0 ? w0 : w2;
    const last = group === stages[stages.length - 1];
    const order = Array.from({ length: k }, (_, kk) => pairsOf(kk).filter((p) => alive[p]).sort(byLo));
    const next = new Int32Array(k);
    alive.fill(0);
    let turn = 0;
    let screened = 0;
    for (;;) {
      const batch: number[] = [];
      let idle = 0;
      while (batch.length < 4 && idle < k) {
        const kk = turn;
        turn = (turn + 1) % k;
        const p = next[kk] < order[kk].length ? order[kk][next[kk]] : -1;
        if (p >= 0 && canWin(p)) {
          batch.push(p);
          next[kk]++;
          idle = 0;
        } else {
          next[kk] = order[kk].length; // sorted: no later pair of this prediction qualifies either
          idle++;
        }
      }
      if (batch.length === 0) break;
      const s = kernel.screen(group, listener, batch.map(realOff), predictions, batch.map(predOff), t);
      screened += batch.length;
      for (let l = 0; l < batch.length; l++) {
        const p = batch[l];
        // The exact value of a 0/1 reaction's AUs uses the binary-AU formula: its absolute error bound too.
        const abs = group === 0 && realMasks[p % r] !== null ? auSlack(Math.floor(p / r)) : 0;
        lo[p] += w * lowRoot(s[l], eps, abs);
        hi[p] += w * highRoot(s[l], eps, abs);
        alive[p] = 1;
        const kk = Math.floor(p / r);
        const h = hi[p] * (1 + F64_SLACK);
        if (last && h < bound[kk]) bound[kk] = h;
      }
    }
    if (work && group === 2) work.exprPairs = (work.exprPairs ?? 0) + screened;
  }

  // The exact re-check of every screened pair that may still be the minimum, then the minimum of the exact values.
  const candidates: number[] = [];
  for (let p = 0; p < np; p++) if (alive[p] && canWin(p)) candidates.push(p);
  recheck(candidates);
  for (let p = 0; p < np; p++) {
    const kk = Math.floor(p / r);
    if (exactValue[p] < best[kk]) best[kk] = exactValue[p];
  }
  return best;
}
