import { FRDIST_GROUPS } from "@perfrdiff/layout";

/**
 * Straightforward DTW, as tslearn defines it: the square root of the minimal accumulated squared Euclidean distance
 * over warping paths (no window), computed in float64 on a full cost matrix. Kept as the readable reference that the
 * fast kernels are tested and benchmarked against.
 * @param a sequence `[ta, dims]` (row-major), read from `aOffset`
 * @param b sequence `[tb, dims]`, read from `bOffset`
 * @param dims values per frame in the arrays; the distance uses dimensions `[start, end)`.
 */
export function dtwReference(
  a: ArrayLike<number>,
  ta: number,
  b: ArrayLike<number>,
  tb: number,
  dims: number,
  start = 0,
  end = dims,
  aOffset = 0,
  bOffset = 0,
): number {
  const w = tb + 1;
  const acc = new Float64Array((ta + 1) * w).fill(Infinity);
  acc[0] = 0;
  for (let i = 1; i <= ta; i++) {
    for (let j = 1; j <= tb; j++) {
      let s = 0;
      for (let d = start; d < end; d++) {
        const diff = a[aOffset + (i - 1) * dims + d] - b[bOffset + (j - 1) * dims + d];
        s += diff * diff;
      }
      acc[i * w + j] = s + Math.min(acc[(i - 1) * w + j], acc[i * w + j - 1], acc[(i - 1) * w + j - 1]);
    }
  }
  return Math.sqrt(acc[ta * w + tb]);
}

/** The FRdist distance of two 25-d emotion sequences: sum over groups of weight x DTW (reference implementation). */
export function emotionDtwReference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  t: number,
  aOffset = 0,
  bOffset = 0,
): number {
  let res = 0;
  for (const [st, ed, w] of FRDIST_GROUPS) res += w * dtwReference(a, t, b, t, 25, st, ed, aOffset, bOffset);
  return res;
}
