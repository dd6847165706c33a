import { EigenvalueDecomposition, Matrix } from "ml-matrix";

/**
 * FRRea-feat: a Frechet distance between Gaussian fits of reaction features of generated and real reactions.
 *
 * The official FRRea is the FID of faces rendered from the 3DMM coefficients (pytorch_fid on PIRender frames). We have
 * no renderer, so we report the same Frechet distance in a feature space of the emotion sequences themselves, under
 * its own name; the numbers are NOT comparable with published FRRea/FID values.
 *
 * Features: each reaction is cut into non-overlapping 2 s windows (50 frames); a window's feature is the per-dimension
 * mean, the per-dimension standard deviation and the per-dimension mean absolute frame-to-frame change (3 x 25 = 75
 * values), capturing level, spread and motion.
 */
export const FRREA_WINDOW = 50;

/** Window features of `count` sequences `[T, D]` stored back to back in `data`: `[windows, 3 D]`. */
export function reactionFeatures(data: Float32Array, count: number, t: number, d: number, window = FRREA_WINDOW): Float64Array[] {
  const out: Float64Array[] = [];
  const w = Math.min(window, t);
  for (let s = 0; s < count; s++) {
    for (let start = 0; start + w <= t; start += w) {
      const f = new Float64Array(3 * d);
      const base = (s * t + start) * d;
      for (let j = 0; j < d; j++) {
        let m = 0;
        for (let i = 0; i < w; i++) m += data[base + i * d + j];
        m /= w;
        let v = 0;
        let motion = 0;
        for (let i = 0; i < w; i++) {
          const x = data[base + i * d + j] - m;
          v += x * x;
          if (i > 0) motion += Math.abs(data[base + i * d + j] - data[base + (i - 1) * d + j]);
        }
        f[j] = m;
        f[d + j] = Math.sqrt(v / w);
        f[2 * d + j] = w > 1 ? motion / (w - 1) : 0;
      }
      out.push(f);
    }
  }
  return out;
}

function meanAndCovariance(samples: Float64Array[]): { mean: Float64Array; cov: Matrix } {
  const n = samples.length;
  const p = samples[0].length;
  const mean = new Float64Array(p);
  for (const s of samples) for (let i = 0; i < p; i++) mean[i] += s[i];
  for (let i = 0; i < p; i++) mean[i] /= n;
  // Accumulate the upper triangle in a flat array: ml-matrix's get/set per element is the slow part otherwise.
  const acc = new Float64Array(p * p);
  const c = new Float64Array(p);
  for (const s of samples) {
    for (let i = 0; i < p; i++) c[i] = s[i] - mean[i];
    for (let i = 0; i < p; i++) {
      const a = c[i];
      const row = i * p;
      for (let j = i; j < p; j++) acc[row + j] += a * c[j];
    }
  }
  const cov = Matrix.zeros(p, p);
  for (let i = 0; i < p; i++) {
    for (let j = i; j < p; j++) {
      const v = acc[i * p + j] / Math.max(1, n - 1);
      cov.set(i, j, v);
      cov.set(j, i, v);
    }
  }
  return { mean, cov };
}

/**
 * Frechet distance between two Gaussians: |m1 - m2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).
 * tr((S1 S2)^(1/2)) = sum of the square roots of the eigenvalues of S1^(1/2) S2 S1^(1/2), a symmetric PSD matrix, so
 * only symmetric eigendecompositions are needed (stable where S1 or S2 are singular).
 */
export function frechetDistance(m1: ArrayLike<number>, s1: Matrix, m2: ArrayLike<number>, s2: Matrix): number {
  let dm = 0;
  for (let i = 0; i < m1.length; i++) dm += (m1[i] - m2[i]) ** 2;
  const e1 = new EigenvalueDecomposition(s1, { assumeSymmetric: true });
  const sqrtEig = e1.realEigenvalues.map((v) => Math.sqrt(Math.max(v, 0)));
  const v = e1.eigenvectorMatrix;
  const root1 = v.mmul(Matrix.diag(sqrtEig)).mmul(v.transpose());
  const inner = root1.mmul(s2).mmul(root1);
  // Symmetrise against rounding before the symmetric solver.
  const sym = inner.add(inner.transpose()).mul(0.5);
  const e = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const trSqrt = e.realEigenvalues.reduce((acc, x) => acc + Math.sqrt(Math.max(x, 0)), 0);
  return dm + s1.trace() + s2.trace() - 2 * trSqrt;
}

/** FRRea-feat of generated `[G, T, D]` against real `[R, T, D]` reactions. */
export function frreaFeat(generated: Float32Array, g: number, real: Float32Array, r: number, t: number, d: number): number {
  const a = meanAndCovariance(reactionFeatures(generated, g, t, d));
  const b = meanAndCovariance(reactionFeatures(real, r, t, d));
  return frechetDistance(a.mean, a.cov, b.mean, b.cov);
}
