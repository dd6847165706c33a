/**
 * Power spectra of real frames of any length.
 *
 * Hand-written (about 100 lines) because the maintained npm FFTs (fft.js, ...) take powers of two only, while the
 * torchaudio-compatible standard MFCC needs n_fft = 400; Bluestein's algorithm covers the other lengths.
 */

/** In-place iterative radix-2 complex FFT; `n` must be a power of two. */
function fftRadix2(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  const sign = inverse ? 1 : -1;
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (sign * 2 * Math.PI) / len;
    const half = len >> 1;
    // Twiddles computed directly (not by repeated multiplication) to keep the error at machine precision.
    for (let k = 0; k < half; k++) {
      const wr = Math.cos(ang * k);
      const wi = Math.sin(ang * k);
      for (let i = k; i < n; i += len) {
        const j = i + half;
        const xr = re[j] * wr - im[j] * wi;
        const xi = re[j] * wi + im[j] * wr;
        re[j] = re[i] - xr;
        im[j] = im[i] - xi;
        re[i] += xr;
        im[i] += xi;
      }
    }
  }
}

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Plans the power spectrum `|rfft(x)|^2` (n/2 + 1 bins) of real frames of one fixed length `n`. */
export class PowerSpectrum {
  readonly n: number;
  readonly bins: number;
  private readonly m: number;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  // Bluestein chirp and the FFT of its conjugate filter, for lengths that are not powers of two.
  private readonly chirpRe?: Float64Array;
  private readonly chirpIm?: Float64Array;
  private readonly filtRe?: Float64Array;
  private readonly filtIm?: Float64Array;

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`FFT length must be a positive integer, got ${n}`);
    this.n = n;
    this.bins = Math.floor(n / 2) + 1;
    if (isPow2(n)) {
      this.m = n;
    } else {
      let m = 1;
      while (m < 2 * n - 1) m <<= 1;
      this.m = m;
      this.chirpRe = new Float64Array(n);
      this.chirpIm = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        // k^2 mod 2n keeps the angle small and exact for large k.
        const a = (Math.PI * ((k * k) % (2 * n))) / n;
        this.chirpRe[k] = Math.cos(a);
        this.chirpIm[k] = -Math.sin(a);
      }
      this.filtRe = new Float64Array(m);
      this.filtIm = new Float64Array(m);
      for (let k = 0; k < n; k++) {
        this.filtRe[k] = this.chirpRe[k];
        this.filtIm[k] = -this.chirpIm[k];
        if (k > 0) {
          this.filtRe[m - k] = this.chirpRe[k];
          this.filtIm[m - k] = -this.chirpIm[k];
        }
      }
      fftRadix2(this.filtRe, this.filtIm, false);
    }
    this.re = new Float64Array(this.m);
    this.im = new Float64Array(this.m);
  }

  /** Writes `|X_k|^2` for k = 0..n/2 of the frame `x` (length n) into `out` (length n/2+1) and returns it. */
  compute(x: ArrayLike<number>, out: Float64Array = new Float64Array(this.bins)): Float64Array {
    const { n, m, re, im } = this;
    if (x.length !== n) throw new Error(`FFT frame has ${x.length} samples; this plan is for ${n}`);
    re.fill(0);
    im.fill(0);
    if (!this.chirpRe) {
      for (let i = 0; i < n; i++) re[i] = x[i];
      fftRadix2(re, im, false);
    } else {
      const cr = this.chirpRe;
      const ci = this.chirpIm!;
      for (let i = 0; i < n; i++) {
        re[i] = x[i] * cr[i];
        im[i] = x[i] * ci[i];
      }
      fftRadix2(re, im, false);
      const fr = this.filtRe!;
      const fi = this.filtIm!;
      for (let i = 0; i < m; i++) {
        const r = re[i] * fr[i] - im[i] * fi[i];
        im[i] = re[i] * fi[i] + im[i] * fr[i];
        re[i] = r;
      }
      fftRadix2(re, im, true);
      for (let k = 0; k < this.bins; k++) {
        const r = re[k] / m;
        const i2 = im[k] / m;
        re[k] = r * cr[k] - i2 * ci[k];
        im[k] = r * ci[k] + i2 * cr[k];
      }
    }
    for (let k = 0; k < this.bins; k++) out[k] = re[k] * re[k] + im[k] * im[k];
    return out;
  }
}
