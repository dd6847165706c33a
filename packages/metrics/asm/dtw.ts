// AssemblyScript source of the CPU DTW kernel (compiled to WebAssembly with SIMD by scripts/build-wasm.mjs).
//
// Why WebAssembly: plain JS spends ~30 ns per DTW cell here (the 25-dim squared distance is latency bound), which
// makes FRdist as slow as the official numba code. This kernel runs 4 DTW problems in the 4 lanes of a SIMD vector:
// one "row" sequence (an appropriate real reaction) against 4 "column" sequences (4 predictions), for the 3 REACT
// emotion groups at once (AUs 0:15, VA 15:17, expressions 17:25). Squared distances are computed in float32 lanes,
// accumulated cost in float64. It also supports exact early abandoning: every `checkEvery` rows the minimum of each
// cost row is a lower bound of the final cost (costs are non-negative and every warping path crosses every row), so a
// problem whose weighted lower bound already exceeds the best distance found for its prediction cannot be the min.
//
// Memory layout (byte pointers into linear memory):
//   row:  f32 [rows][25]                 the real reaction
//   cols: f32 [cols][25][4]              4 predictions, interleaved by lane
//   work: f64 [2][cols + 1][3][2][2]     two cost rows; per cell 3 groups x (lanes 0-1, lanes 2-3)
//   out:  f64 [3][4]                     squared DTW per group and lane
//   thr:  f64 [4]                        per-lane abandon threshold on sum_g w_g sqrt(cost_g) (Infinity: never)
//   splat: f32 [25][4]                   scratch: the current row value broadcast to 4 lanes (kept in memory, not in
//                                        25 locals, because V8 would spill them; this measured ~10% faster)

// dtwLanes returns the number of rows computed: positive when finished, negative when abandoned.

const W0: f64 = 1.0 / 15.0;
const W2: f64 = 1.0 / 8.0;

@inline function sq(acc: v128, x: v128, a: v128): v128 {
  const d = f32x4.sub(x, a);
  return f32x4.add(acc, f32x4.mul(d, d));
}

export function dtwLanes(row: usize, rows: i32, cols: usize, ncols: i32, work: usize, out: usize, thr: usize, checkEvery: i32, splat: usize): i32 {
  return dtwCore(row, rows, cols, ncols, work, out, thr, checkEvery, splat, 0, 0, 0, false);
}

// The same DTW for a row sequence whose 15 AU values are all exactly 0 or 1 (REACT's real AU occurrences are): with
// x in {0, 1}, sum_d (x_d - a_d)^2 = sum_d a_d^2 + sum_{d: x_d = 1} (1 - 2 a_d), so a cell's AU distance is one
// precomputed column sum plus one term per active AU of the row (typically 0-4) instead of 15 squared differences.
//   colsA: f32 [cols][4]       sum_d a_d^2 over the 15 AUs, per lane
//   colsB: f32 [cols][15][4]   1 - 2 a_d, per AU and lane
//   active: i32 [15]           scratch: byte offsets of the row's active AUs
export function dtwLanesBinaryAu(row: usize, rows: i32, cols: usize, ncols: i32, work: usize, out: usize, thr: usize, checkEvery: i32, splat: usize, colsA: usize, colsB: usize, active: usize): i32 {
  return dtwCore(row, rows, cols, ncols, work, out, thr, checkEvery, splat, colsA, colsB, active, true);
}

// One body for both kernels: `binaryAu` is a constant at each (inlined) call, so the optimiser removes the unused
// branch from each.
@inline function dtwCore(row: usize, rows: i32, cols: usize, ncols: i32, work: usize, out: usize, thr: usize, checkEvery: i32, splat: usize, colsA: usize, colsB: usize, active: usize, binaryAu: bool): i32 {
  const cellBytes: usize = 96;
  const rowBytes: usize = <usize>(ncols + 1) * cellBytes;
  let prev = work;
  let cur = work + rowBytes;
  const inf = f64x2.splat(Infinity);
  // prev row = D[-1][*]: 0 at the origin, infinite elsewhere.
  for (let j: usize = 0; j <= <usize>ncols; j++) {
    const p = prev + j * cellBytes;
    for (let k: usize = 0; k < 96; k += 16) v128.store(p + k, inf);
  }
  const zero = f64x2.splat(0);
  for (let k: usize = 0; k < 96; k += 16) v128.store(prev + k, zero);

  for (let i = 0; i < rows; i++) {
    const r = row + <usize>i * 100;
    for (let d: usize = 0; d < 25; d++) v128.store(splat + d * 16, f32x4.splat(load<f32>(r + d * 4)));
    let na: usize = 0;
    if (binaryAu) {
      for (let d: usize = 0; d < 15; d++) {
        if (load<f32>(r + d * 4) != 0) {
          store<i32>(active + na * 4, <i32>(d * 16));
          na++;
        }
      }
    }
    // D[i][-1] = infinity; diagonal starts at D[i-1][-1].
    let l0a = inf, l0b = inf, l1a = inf, l1b = inf, l2a = inf, l2b = inf;
    let g0a = v128.load(prev, 0), g0b = v128.load(prev, 16), g1a = v128.load(prev, 32);
    let g1b = v128.load(prev, 48), g2a = v128.load(prev, 64), g2b = v128.load(prev, 80);
    for (let k: usize = 0; k < 96; k += 16) v128.store(cur + k, inf);

    let a = cols;
    let up = prev + cellBytes;
    let c = cur + cellBytes;
    for (let j = 0; j < ncols; j++) {
      let c0: v128;
      if (binaryAu) {
        c0 = v128.load(colsA + <usize>j * 16);
        const bj = colsB + <usize>j * 240;
        for (let q: usize = 0; q < na; q++) c0 = f32x4.add(c0, v128.load(bj + <usize>load<i32>(active + q * 4)));
      } else {
        // AUs: three accumulators break the add dependency chain.
        let s = sq(f32x4.splat(0), v128.load(splat, 0), v128.load(a, 0));
        let t = sq(f32x4.splat(0), v128.load(splat, 16), v128.load(a, 16));
        let u = sq(f32x4.splat(0), v128.load(splat, 32), v128.load(a, 32));
        s = sq(s, v128.load(splat, 48), v128.load(a, 48)); t = sq(t, v128.load(splat, 64), v128.load(a, 64)); u = sq(u, v128.load(splat, 80), v128.load(a, 80));
        s = sq(s, v128.load(splat, 96), v128.load(a, 96)); t = sq(t, v128.load(splat, 112), v128.load(a, 112)); u = sq(u, v128.load(splat, 128), v128.load(a, 128));
        s = sq(s, v128.load(splat, 144), v128.load(a, 144)); t = sq(t, v128.load(splat, 160), v128.load(a, 160)); u = sq(u, v128.load(splat, 176), v128.load(a, 176));
        s = sq(s, v128.load(splat, 192), v128.load(a, 192)); t = sq(t, v128.load(splat, 208), v128.load(a, 208)); u = sq(u, v128.load(splat, 224), v128.load(a, 224));
        c0 = f32x4.add(f32x4.add(s, t), u);
      }
      const c1 = sq(sq(f32x4.splat(0), v128.load(splat, 240), v128.load(a, 240)), v128.load(splat, 256), v128.load(a, 256));
      let e = sq(f32x4.splat(0), v128.load(splat, 272), v128.load(a, 272));
      let f = sq(f32x4.splat(0), v128.load(splat, 288), v128.load(a, 288));
      e = sq(e, v128.load(splat, 304), v128.load(a, 304)); f = sq(f, v128.load(splat, 320), v128.load(a, 320));
      e = sq(e, v128.load(splat, 336), v128.load(a, 336)); f = sq(f, v128.load(splat, 352), v128.load(a, 352));
      e = sq(e, v128.load(splat, 368), v128.load(a, 368)); f = sq(f, v128.load(splat, 384), v128.load(a, 384));
      const c2 = f32x4.add(e, f);

      const u0a = v128.load(up, 0), u0b = v128.load(up, 16), u1a = v128.load(up, 32);
      const u1b = v128.load(up, 48), u2a = v128.load(up, 64), u2b = v128.load(up, 80);
      // pmin is a single minpd; costs are never NaN (inputs are validated) so NaN rules do not matter.
      l0a = f64x2.add(f64x2.promote_low_f32x4(c0), f64x2.pmin(f64x2.pmin(u0a, g0a), l0a));
      l0b = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(c0, c0, 2, 3, 0, 1)), f64x2.pmin(f64x2.pmin(u0b, g0b), l0b));
      l1a = f64x2.add(f64x2.promote_low_f32x4(c1), f64x2.pmin(f64x2.pmin(u1a, g1a), l1a));
      l1b = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(c1, c1, 2, 3, 0, 1)), f64x2.pmin(f64x2.pmin(u1b, g1b), l1b));
      l2a = f64x2.add(f64x2.promote_low_f32x4(c2), f64x2.pmin(f64x2.pmin(u2a, g2a), l2a));
      l2b = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(c2, c2, 2, 3, 0, 1)), f64x2.pmin(f64x2.pmin(u2b, g2b), l2b));
      v128.store(c, l0a, 0); v128.store(c, l0b, 16); v128.store(c, l1a, 32);
      v128.store(c, l1b, 48); v128.store(c, l2a, 64); v128.store(c, l2b, 80);
      g0a = u0a; g0b = u0b; g1a = u1a; g1b = u1b; g2a = u2a; g2b = u2b;
      a += 400;
      up += cellBytes;
      c += cellBytes;
    }
    const tmp = prev;
    prev = cur;
    cur = tmp;

    if (checkEvery > 0 && (i + 1) % checkEvery == 0 && i + 1 < rows) {
      if (allAbandoned(prev, ncols, thr)) return -(i + 1);
    }
  }
  const last = prev + <usize>ncols * cellBytes;
  for (let k: usize = 0; k < 96; k += 8) {
    // work cell order is [group][half][2 lanes]; out order is [group][lane].
    store<f64>(out + k, load<f64>(last + k));
  }
  return rows;
}

// True when, for every lane, sum_g w_g sqrt(min over the row of cost_g) exceeds the lane's threshold.
function allAbandoned(rowPtr: usize, ncols: i32, thr: usize): bool {
  let m0a = f64x2.splat(Infinity), m0b = m0a, m1a = m0a, m1b = m0a, m2a = m0a, m2b = m0a;
  let p = rowPtr + 96;
  for (let j = 0; j < ncols; j++) {
    m0a = f64x2.pmin(m0a, v128.load(p, 0)); m0b = f64x2.pmin(m0b, v128.load(p, 16));
    m1a = f64x2.pmin(m1a, v128.load(p, 32)); m1b = f64x2.pmin(m1b, v128.load(p, 48));
    m2a = f64x2.pmin(m2a, v128.load(p, 64)); m2b = f64x2.pmin(m2b, v128.load(p, 80));
    p += 96;
  }
  const lb0 = f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(W0), f64x2.sqrt(m0a)), f64x2.sqrt(m1a)), f64x2.mul(f64x2.splat(W2), f64x2.sqrt(m2a)));
  const lb1 = f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(W0), f64x2.sqrt(m0b)), f64x2.sqrt(m1b)), f64x2.mul(f64x2.splat(W2), f64x2.sqrt(m2b)));
  return f64x2.extract_lane(lb0, 0) > load<f64>(thr, 0) && f64x2.extract_lane(lb0, 1) > load<f64>(thr, 8)
    && f64x2.extract_lane(lb1, 0) > load<f64>(thr, 16) && f64x2.extract_lane(lb1, 1) > load<f64>(thr, 24);
}

// ---------------------------------------------------------------------------------------------------------------------
// Screening kernels: one (real reaction, prediction) pair per lane, each lane with its own row and column sequence, and
// one group per call. They run a whole clip's pairs, are exact (0/1 AUs) or give float32 values with a rigorous error
// bound (see src/dtw-screen.ts), and keep one cost row updated in place:
//   D[i][j] = c(i, j) + min(D[i-1][j] (the old value at j), D[i-1][j-1] (the old value at j-1), D[i][j-1]).
// Row -1 is infinite except the origin D[-1][-1] = 0, column -1 is infinite.

// Binary-AU DTW, exact in unsigned 16-bit lanes: with 0/1 AUs a frame is a 15-bit mask, the squared distance of two
// frames is the popcount of their XOR (0..15), and an accumulated cost is at most 15 x (rows + cols - 1), which fits
// below the saturating "infinity" 65535 for rows + cols <= 4369. Eight pairs per vector (float64 lanes hold two).
//   rows: u16 [rows][8], cols: u16 [cols][8] masks; work: u16 [cols][8]; out: u16 [8]
export function dtwAuMask8(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize): void {
  const inf = i16x8.splat(-1); // 65535 unsigned
  for (let j: usize = 0; j < <usize>ncols; j++) v128.store(work + j * 16, inf);
  for (let i = 0; i < nrows; i++) {
    const r = v128.load(rows + <usize>i * 16);
    let diag = i == 0 ? i16x8.splat(0) : inf;
    let left = inf;
    let a = cols;
    let w = work;
    const end = work + <usize>ncols * 16;
    while (w < end) {
      const c = i16x8.extadd_pairwise_i8x16_u(i8x16.popcnt(v128.xor(v128.load(a), r)));
      const up = v128.load(w);
      left = i16x8.add_sat_u(c, i16x8.min_u(i16x8.min_u(up, diag), left));
      v128.store(w, left);
      diag = up;
      a += 16;
      w += 16;
    }
  }
  v128.store(out, v128.load(work + <usize>(ncols - 1) * 16));
}

@inline function sqd(x: v128, a: v128): v128 {
  const d = f32x4.sub(x, a);
  return f32x4.mul(d, d);
}

/**
 * Squared AU distances of 4 lanes: 15 dims interleaved by lane (240 bytes at r and at a), summed in three
 * accumulators (the same order of additions wherever it is used, so screening and re-check round alike).
 */
@inline function auDistances(r: usize, a: usize): v128 {
  let s = sqd(v128.load(r, 0), v128.load(a, 0));
  let t = sqd(v128.load(r, 16), v128.load(a, 16));
  let u = sqd(v128.load(r, 32), v128.load(a, 32));
  for (let d: usize = 48; d < 240; d += 48) {
    s = f32x4.add(s, sqd(v128.load(r + d, 0), v128.load(a + d, 0)));
    t = f32x4.add(t, sqd(v128.load(r + d, 16), v128.load(a + d, 16)));
    u = f32x4.add(u, sqd(v128.load(r + d, 32), v128.load(a + d, 32)));
  }
  return f32x4.add(f32x4.add(s, t), u);
}

// Float32 screening DTW of `dims` (2, 8 or 15) dimensions, 4 pairs per vector. Valence/arousal runs 2 vectors per
// call (`vecs`), so that 2 independent recurrences hide the min/add latency; for the larger groups 2 vectors measured
// slower (register pressure).
//   rows: f32 [rows][dims][vecs][4], cols: f32 [cols][dims][vecs][4]; work: f32 [cols][vecs][4]; out: f32 [vecs][4]
// Minimum of non-negative float32 lanes as signed 32-bit integers (their bit patterns order the same way, +Infinity
// included): integer SIMD min runs on more execution ports than the float min, which competes with the adds.
@inline function imin(a: v128, b: v128): v128 {
  return i32x4.min_s(a, b);
}

@inline function screenCore(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize, dims: i32, vecs: i32): void {
  const inf = f32x4.splat(Infinity);
  const stride: usize = <usize>(dims * vecs * 16);
  const wstride: usize = <usize>(vecs * 16);
  for (let j: usize = 0; j < <usize>(ncols * vecs); j++) v128.store(work + j * 16, inf);
  for (let i = 0; i < nrows; i++) {
    const r = rows + <usize>i * stride;
    let diag0 = i == 0 ? f32x4.splat(0) : inf;
    let diag1 = diag0;
    let left0 = inf;
    let left1 = inf;
    let a = cols;
    let w = work;
    const end = work + <usize>ncols * wstride;
    if (dims == 2 && vecs == 2) {
      const x0 = v128.load(r, 0), x1 = v128.load(r, 16), y0 = v128.load(r, 32), y1 = v128.load(r, 48);
      while (w < end) {
        const c0 = f32x4.add(sqd(x0, v128.load(a, 0)), sqd(y0, v128.load(a, 32)));
        const c1 = f32x4.add(sqd(x1, v128.load(a, 16)), sqd(y1, v128.load(a, 48)));
        const u0 = v128.load(w, 0);
        const u1 = v128.load(w, 16);
        left0 = f32x4.add(c0, imin(imin(u0, diag0), left0));
        left1 = f32x4.add(c1, imin(imin(u1, diag1), left1));
        v128.store(w, left0, 0);
        v128.store(w, left1, 16);
        diag0 = u0;
        diag1 = u1;
        a += stride;
        w += wstride;
      }
    } else if (dims == 8 && vecs == 1) {
      // Row values from memory: 8 of them in locals would be spilled.
      while (w < end) {
        const s = f32x4.add(f32x4.add(sqd(v128.load(r, 0), v128.load(a, 0)), sqd(v128.load(r, 16), v128.load(a, 16))), f32x4.add(sqd(v128.load(r, 32), v128.load(a, 32)), sqd(v128.load(r, 48), v128.load(a, 48))));
        const t = f32x4.add(f32x4.add(sqd(v128.load(r, 64), v128.load(a, 64)), sqd(v128.load(r, 80), v128.load(a, 80))), f32x4.add(sqd(v128.load(r, 96), v128.load(a, 96)), sqd(v128.load(r, 112), v128.load(a, 112))));
        const u0 = v128.load(w);
        left0 = f32x4.add(f32x4.add(s, t), imin(imin(u0, diag0), left0));
        v128.store(w, left0);
        diag0 = u0;
        a += stride;
        w += wstride;
      }
    } else {
      // 15 dimensions (AUs that are not all 0/1): row values stay in memory, three accumulators.
      while (w < end) {
        const u0 = v128.load(w);
        left0 = f32x4.add(auDistances(r, a), imin(imin(u0, diag0), left0));
        v128.store(w, left0);
        diag0 = u0;
        a += stride;
        w += wstride;
      }
    }
  }
  const last = work + <usize>(ncols - 1) * wstride;
  v128.store(out, v128.load(last));
  if (vecs == 2) v128.store(out, v128.load(last, 16), 16);
}

export function screenVa8(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize): void {
  screenCore(rows, nrows, cols, ncols, work, out, 2, 2);
}
export function screenExp4(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize): void {
  screenCore(rows, nrows, cols, ncols, work, out, 8, 1);
}
export function screenAu4(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize): void {
  screenCore(rows, nrows, cols, ncols, work, out, 15, 1);
}

// The exact re-check: the same arithmetic as dtwLanes / dtwLanesBinaryAu (float32 squared differences summed in the
// same order, float64 accumulation), for 4 pairs with their own rows, and only the groups asked for. `auMode` 0: no
// AUs (they were already exact); 1: 15 squared differences as dtwLanes; 2: rows whose AUs are 0/1, as
// dtwLanesBinaryAu: colsA + the colsB term of each active AU in increasing order (an inactive AU adds x * b = +-0,
// which leaves the float32 sum unchanged, so each lane sees exactly dtwLanesBinaryAu's sequence of roundings).
// Groups are laid out as in the screening kernels, all 25 dimensions per frame:
//   rows: f32 [rows][25][4], cols: f32 [cols][25][4]; work: f64 [cols][3][4]; out: f64 [3][4]
//   colsA: f32 [cols][4], colsB: f32 [cols][15][4] (auMode 2; as in dtwLanesBinaryAu)
@inline function exactCore(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize, auMode: i32, colsA: usize, colsB: usize): void {
  const inf = f64x2.splat(Infinity);
  for (let j: usize = 0; j < <usize>ncols * 6; j++) v128.store(work + j * 16, inf);
  for (let i = 0; i < nrows; i++) {
    const r = rows + <usize>i * 400;
    const d0 = i == 0 ? f64x2.splat(0) : inf;
    let g0a = d0, g0b = d0, g1a = d0, g1b = d0, g2a = d0, g2b = d0;
    let l0a = inf, l0b = inf, l1a = inf, l1b = inf, l2a = inf, l2b = inf;
    let a = cols;
    let w = work;
    const end = work + <usize>ncols * 96;
    let ca = colsA;
    let cb = colsB;
    while (w < end) {
      if (auMode != 0) {
        let c0: v128;
        if (auMode == 1) {
          c0 = auDistances(r, a);
        } else {
          c0 = v128.load(ca);
          for (let d: usize = 0; d < 240; d += 16) c0 = f32x4.add(c0, f32x4.mul(v128.load(r + d), v128.load(cb + d)));
          ca += 16;
          cb += 240;
        }
        const u0a = v128.load(w, 0), u0b = v128.load(w, 16);
        l0a = f64x2.add(f64x2.promote_low_f32x4(c0), f64x2.pmin(f64x2.pmin(u0a, g0a), l0a));
        l0b = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(c0, c0, 2, 3, 0, 1)), f64x2.pmin(f64x2.pmin(u0b, g0b), l0b));
        v128.store(w, l0a, 0); v128.store(w, l0b, 16);
        g0a = u0a; g0b = u0b;
      }
      const c1 = f32x4.add(sqd(v128.load(r, 240), v128.load(a, 240)), sqd(v128.load(r, 256), v128.load(a, 256)));
      let e = sqd(v128.load(r, 272), v128.load(a, 272));
      let f = sqd(v128.load(r, 288), v128.load(a, 288));
      e = f32x4.add(e, sqd(v128.load(r, 304), v128.load(a, 304))); f = f32x4.add(f, sqd(v128.load(r, 320), v128.load(a, 320)));
      e = f32x4.add(e, sqd(v128.load(r, 336), v128.load(a, 336))); f = f32x4.add(f, sqd(v128.load(r, 352), v128.load(a, 352)));
      e = f32x4.add(e, sqd(v128.load(r, 368), v128.load(a, 368))); f = f32x4.add(f, sqd(v128.load(r, 384), v128.load(a, 384)));
      const c2 = f32x4.add(e, f);
      const u1a = v128.load(w, 32), u1b = v128.load(w, 48), u2a = v128.load(w, 64), u2b = v128.load(w, 80);
      l1a = f64x2.add(f64x2.promote_low_f32x4(c1), f64x2.pmin(f64x2.pmin(u1a, g1a), l1a));
      l1b = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(c1, c1, 2, 3, 0, 1)), f64x2.pmin(f64x2.pmin(u1b, g1b), l1b));
      l2a = f64x2.add(f64x2.promote_low_f32x4(c2), f64x2.pmin(f64x2.pmin(u2a, g2a), l2a));
      l2b = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(c2, c2, 2, 3, 0, 1)), f64x2.pmin(f64x2.pmin(u2b, g2b), l2b));
      v128.store(w, l1a, 32); v128.store(w, l1b, 48); v128.store(w, l2a, 64); v128.store(w, l2b, 80);
      g1a = u1a; g1b = u1b; g2a = u2a; g2b = u2b;
      a += 400;
      w += 96;
    }
  }
  const last = work + <usize>(ncols - 1) * 96;
  for (let k: usize = 0; k < 96; k += 16) v128.store(out + k, v128.load(last + k));
}

export function exactLanes(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize): void {
  exactCore(rows, nrows, cols, ncols, work, out, 1, 0, 0);
}
export function exactLanesNoAu(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize): void {
  exactCore(rows, nrows, cols, ncols, work, out, 0, 0, 0);
}
export function exactLanesBinaryAu(rows: usize, nrows: i32, cols: usize, ncols: i32, work: usize, out: usize, colsA: usize, colsB: usize): void {
  exactCore(rows, nrows, cols, ncols, work, out, 2, colsA, colsB);
}
