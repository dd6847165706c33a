import { PowerSpectrum } from "./fft";
import type { Matrix } from "./kaldi";

/** Options of {@link mfcc}, named and defaulted as `torchaudio.transforms.MFCC` (with its MelSpectrogram defaults). */
export interface MfccOptions {
  /** Hz (default 16000) */
  sampleRate?: number;
  /** default 40 */
  nMfcc?: number;
  /** default 400 */
  nFft?: number;
  /** default nFft */
  winLength?: number;
  /** default winLength / 2 (floor) */
  hopLength?: number;
  /** default 128 */
  nMels?: number;
  /** Hz (default 0) */
  fMin?: number;
  /** Hz (default floor(sampleRate / 2)) */
  fMax?: number;
  /** Reflect-pad nFft/2 on both sides (default true). */
  center?: boolean;
  /** `log(mel + 1e-6)` instead of decibels (default false). */
  logMels?: boolean;
  /** Dynamic range of the decibel spectrogram (default 80; null for none). */
  topDb?: number | null;
}

const hzToMel = (f: number): number => 2595 * Math.log10(1 + f / 700);
const melToHz = (m: number): number => 700 * (10 ** (m / 2595) - 1);

function linspace(a: number, b: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = a;
    return out;
  }
  const step = (b - a) / (n - 1);
  // torch.linspace fills the second half from the end, which keeps the last value exact.
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < half ? a + step * i : b - step * (n - 1 - i);
  return out;
}

/**
 * HTK-scale triangular mel filters without normalisation, as `torchaudio.functional.melscale_fbanks(..., norm=None,
 * mel_scale="htk")`. Returns `[nFreqs][nMels]` flattened row-major.
 */
export function melFilterbank(nFreqs: number, fMin: number, fMax: number, nMels: number, sampleRate: number): Float64Array {
  const allFreqs = linspace(0, Math.floor(sampleRate / 2), nFreqs);
  const mPts = linspace(hzToMel(fMin), hzToMel(fMax), nMels + 2);
  const fPts = Array.from(mPts, melToHz);
  const fb = new Float64Array(nFreqs * nMels);
  for (let i = 0; i < nFreqs; i++) {
    for (let m = 0; m < nMels; m++) {
      const down = (fPts[m] - allFreqs[i]) * -1 / (fPts[m + 1] - fPts[m]);
      const up = (fPts[m + 2] - allFreqs[i]) / (fPts[m + 2] - fPts[m + 1]);
      fb[i * nMels + m] = Math.max(0, Math.min(down, up));
    }
  }
  return fb;
}

/**
 * Standard MFCC, numerically as `torchaudio.transforms.MFCC(sample_rate, n_mfcc, melkwargs=...)` on one channel:
 * centred STFT with a periodic Hann window, power spectrum, HTK mel filters, `AmplitudeToDB("power", top_db=80)`
 * over the whole clip, orthonormal DCT-II.
 * @param samples `[samples]`
 * @returns `[nMfcc, frames]` (coefficient-major, as torchaudio), frames = 1 + floor(samples / hop) when centred
 */
export function mfcc(samples: ArrayLike<number>, options: MfccOptions = {}): Matrix {
  const sr = options.sampleRate ?? 16000;
  const nMfcc = options.nMfcc ?? 40;
  const nFft = options.nFft ?? 400;
  const winLength = options.winLength ?? nFft;
  const hop = options.hopLength ?? Math.floor(winLength / 2);
  const nMels = options.nMels ?? 128;
  const fMin = options.fMin ?? 0;
  const fMax = options.fMax ?? Math.floor(sr / 2);
  const center = options.center ?? true;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  if (nMfcc > nMels) throw new Error(`nMfcc (${nMfcc}) must not exceed nMels (${nMels})`);
  if (winLength > nFft) throw new Error(`winLength (${winLength}) must not exceed nFft (${nFft})`);
  let x: Float64Array;
  if (center) {
    const pad = Math.floor(nFft / 2);
    if (samples.length <= pad) throw new Error(`reflect padding of ${pad} needs more than ${pad} samples, got ${samples.length}`);
    x = new Float64Array(samples.length + 2 * pad);
    for (let i = 0; i < samples.length; i++) x[pad + i] = samples[i];
    for (let i = 0; i < pad; i++) {
      x[pad - 1 - i] = samples[i + 1];
      x[pad + samples.length + i] = samples[samples.length - 2 - i];
    }
  } else {
    x = Float64Array.from(samples);
  }
  if (x.length < nFft) throw new Error(`signal of ${samples.length} samples is shorter than nFft ${nFft}`);
  const frames = 1 + Math.floor((x.length - nFft) / hop);
  // Periodic Hann of winLength, centred in nFft as torch.stft does.
  const window = new Float64Array(nFft);
  const off = Math.floor((nFft - winLength) / 2);
  for (let i = 0; i < winLength; i++) window[off + i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / winLength);
  const plan = new PowerSpectrum(nFft);
  const nFreqs = plan.bins;
  const fb = melFilterbank(nFreqs, fMin, fMax, nMels, sr);
  const mel = new Float64Array(nMels * frames);
  const frame = new Float64Array(nFft);
  const power = new Float64Array(nFreqs);
  for (let t = 0; t < frames; t++) {
    for (let i = 0; i < nFft; i++) frame[i] = x[t * hop + i] * window[i];
    plan.compute(frame, power);
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = 0; k < nFreqs; k++) s += power[k] * fb[k * nMels + m];
      mel[m * frames + t] = s;
    }
  }
  if (options.logMels) {
    for (let i = 0; i < mel.length; i++) mel[i] = Math.log(mel[i] + 1e-6);
  } else {
    let max = -Infinity;
    for (let i = 0; i < mel.length; i++) {
      mel[i] = 10 * Math.log10(Math.max(mel[i], 1e-10));
      if (mel[i] > max) max = mel[i];
    }
    if (topDb !== null) for (let i = 0; i < mel.length; i++) mel[i] = Math.max(mel[i], max - topDb);
  }
  const out = new Float64Array(nMfcc * frames);
  for (let k = 0; k < nMfcc; k++) {
    const s0 = k === 0 ? Math.sqrt(1 / nMels) : Math.sqrt(2 / nMels);
    for (let m = 0; m < nMels; m++) {
      const c = s0 * Math.cos((Math.PI / nMels) * (m + 0.5) * k);
      for (let t = 0; t < frames; t++) out[k * frames + t] += c * mel[m * frames + t];
    }
  }
  return { rows: nMfcc, cols: frames, data: out };
}
