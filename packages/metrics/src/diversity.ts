/**
 * Diversity metrics of generated reactions `[N, K, T, D]`, as the official REACT code defines them.
 * Pairwise squared distances use the exact identity sum_{i,j} |x_i - x_j|^2 = 2 n sum_i |x_i - mean|^2 (no
 * cancellation: the sum is over centred values), in float64.
 */

function centredSumOfSquares(data: Float32Array, offsets: readonly number[], size: number): number {
  const mean = new Float64Array(size);
  for (const o of offsets) for (let i = 0; i < size; i++) mean[i] += data[o + i];
  for (let i = 0; i < size; i++) mean[i] /= offsets.length;
  let s = 0;
  for (const o of offsets) {
    for (let i = 0; i < size; i++) {
      const x = data[o + i] - mean[i];
      s += x * x;
    }
  }
  return s;
}

/**
 * FRDiv (S-MSE): for each clip, the mean squared distance between its K predictions over all ordered pairs,
 * `sum_{i,j} |p_i - p_j|^2 / (K (K - 1) T D)`, averaged over clips. 0 when K = 1 (as the official code returns).
 */
export function frdiv(predictions: Float32Array, n: number, k: number, t: number, d: number): number {
  if (k === 1) return 0;
  const size = t * d;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const offsets = Array.from({ length: k }, (_, kk) => (i * k + kk) * size);
    total += (2 * k * centredSumOfSquares(predictions, offsets, size)) / (k * (k - 1) * size);
  }
  return total / n;
}

/**
 * FRDvs: for each k, the squared distances between the k-th predictions of different clips, summed over all ordered
 * pairs and over k, divided by `N (N - 1) K T D`. NaN when N = 1 (the official code divides by zero).
 */
export function frdvs(predictions: Float32Array, n: number, k: number, t: number, d: number): number {
  const size = t * d;
  let total = 0;
  for (let kk = 0; kk < k; kk++) {
    const offsets = Array.from({ length: n }, (_, i) => (i * k + kk) * size);
    total += 2 * n * centredSumOfSquares(predictions, offsets, size);
  }
  return total / (n * (n - 1) * k) / size;
}

/** FRVar: the unbiased variance over time of each (clip, prediction, dimension), averaged. */
export function frvar(predictions: Float32Array, n: number, k: number, t: number, d: number): number {
  let total = 0;
  const mean = new Float64Array(d);
  for (let s = 0; s < n * k; s++) {
    const off = s * t * d;
    mean.fill(0);
    for (let i = 0; i < t; i++) for (let j = 0; j < d; j++) mean[j] += predictions[off + i * d + j];
    for (let j = 0; j < d; j++) mean[j] /= t;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < d; j++) {
        const x = predictions[off + i * d + j] - mean[j];
        total += x * x;
      }
    }
  }
  return total / (t - 1) / (n * k * d);
}
