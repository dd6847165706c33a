import { PowerSpectrum } from "./fft";

/**
 * Options of {@link kaldiMfcc}, named and defaulted as in `torchaudio.compliance.kaldi.mfcc` (which follows Kaldi's
 * `compute-mfcc-feats`). Only the options the REACT features need are offered; dither is always 0 (deterministic).
 */
export interface KaldiMfccOptions {
  /** Hz (default 16000; the official features pass the file's rate). */
  sampleFrequency?: number;
  /** ms (default 25). */
  frameLength?: number;
  /** ms (default 10). */
  frameShift?: number;
  /** default 13 */
  numCeps?: number;
  /** default 23 */
  numMelBins?: number;
  /** Replace c0 by the log energy of the frame (default false; the official features pass true). */
  useEnergy?: boolean;
  /** Energy before pre-emphasis and windowing (default true). */
  rawEnergy?: boolean;
  /** Floor of the energy, linear (default 1.0, i.e. log energy >= 0). */
  energyFloor?: number;
  /** default 0.97 */
  preemphasisCoefficient?: number;
  /** default 22 */
  cepstralLifter?: number;
  /** Hz (default 20) */
  lowFreq?: number;
  /** Hz; <= 0 means offset from Nyquist (default 0). */
  highFreq?: number;
  /** default true */
  removeDcOffset?: boolean;
  /** default true */
  roundToPowerOfTwo?: boolean;
  /** default "povey" */
  windowType?: "povey" | "hanning" | "hamming" | "rectangular" | "blackman";
  /** default 0.42 */
  blackmanCoeff?: number;
}

/** A row-major matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** float32 machine epsilon: torchaudio floors energies at `torch.finfo(torch.float).eps`. */
const FLT_EPS = 1.1920928955078125e-7;

const melScale = (f: number): number => 1127 * Math.log(1 + f / 700);

interface KaldiPlan {
  windowSize: number;
  windowShift: number;
  padded: number;
  window: Float64Array;
  /** `[numMelBins][padded/2]` triangular weights on the power spectrum (the Nyquist bin has weight 0). */
  melBanks: Float64Array[];
  /** `[numMelBins][numCeps]` */
  dct: Float64Array;
  lifter: Float64Array;
  spectrum: PowerSpectrum;
  o: Required<KaldiMfccOptions>;
}

const planCache = new Map<string, KaldiPlan>();

function resolve(opts: KaldiMfccOptions): Required<KaldiMfccOptions> {
  return {
    sampleFrequency: opts.sampleFrequency ?? 16000,
    frameLength: opts.frameLength ?? 25,
    frameShift: opts.frameShift ?? 10,
    numCeps: opts.numCeps ?? 13,
    numMelBins: opts.numMelBins ?? 23,
    useEnergy: opts.useEnergy ?? false,
    rawEnergy: opts.rawEnergy ?? true,
    energyFloor: opts.energyFloor ?? 1.0,
    preemphasisCoefficient: opts.preemphasisCoefficient ?? 0.97,
    cepstralLifter: opts.cepstralLifter ?? 22,
    lowFreq: opts.lowFreq ?? 20,
    highFreq: opts.highFreq ?? 0,
    removeDcOffset: opts.removeDcOffset ?? true,
    roundToPowerOfTwo: opts.roundToPowerOfTwo ?? true,
    windowType: opts.windowType ?? "povey",
    blackmanCoeff: opts.blackmanCoeff ?? 0.42,
  };
}

function makeWindow(type: string, n: number, blackman: number): Float64Array {
  const w = new Float64Array(n);
  const a = (2 * Math.PI) / (n - 1);
  for (let i = 0; i < n; i++) {
    const hann = n === 1 ? 1 : 0.5 - 0.5 * Math.cos(a * i);
    switch (type) {
      case "povey":
        w[i] = hann ** 0.85;
        break;
      case "hanning":
        w[i] = hann;
        break;
      case "hamming":
        w[i] = 0.54 - 0.46 * Math.cos(a * i);
        break;
      case "rectangular":
        w[i] = 1;
        break;
      case "blackman":
        w[i] = blackman - 0.5 * Math.cos(a * i) + (0.5 - blackman) * Math.cos(2 * a * i);
        break;
      default:
        throw new Error(`unknown window type '${type}'`);
    }
  }
  return w;
}

function getPlan(opts: KaldiMfccOptions): KaldiPlan {
  const o = resolve(opts);
  const key = JSON.stringify(o);
  const cached = planCache.get(key);
  if (cached) return cached;
  const sr = o.sampleFrequency;
  // Same expression order as torchaudio so that e.g. 44100 Hz gives 1102 and 441 samples.
  const windowShift = Math.trunc(sr * o.frameShift * 0.001);
  const windowSize = Math.trunc(sr * o.frameLength * 0.001);
  if (windowSize < 2) throw new Error(`frame of ${o.frameLength} ms at ${sr} Hz has fewer than 2 samples`);
  if (windowShift < 1) throw new Error(`frame shift of ${o.frameShift} ms at ${sr} Hz is under one sample`);
  let padded = windowSize;
  if (o.roundToPowerOfTwo) {
    padded = 1;
    while (padded < windowSize) padded <<= 1;
  }
  if (o.numCeps > o.numMelBins) throw new Error(`numCeps (${o.numCeps}) exceeds numMelBins (${o.numMelBins})`);
  const nyquist = 0.5 * sr;
  const highFreq = o.highFreq <= 0 ? o.highFreq + nyquist : o.highFreq;
  if (!(o.lowFreq >= 0 && o.lowFreq < nyquist && highFreq > 0 && highFreq <= nyquist && o.lowFreq < highFreq)) {
    throw new Error(`bad mel band ${o.lowFreq}..${highFreq} Hz for a ${sr} Hz signal`);
  }
  const numFftBins = padded / 2;
  const binWidth = sr / padded;
  const melLow = melScale(o.lowFreq);
  const melHigh = melScale(highFreq);
  const delta = (melHigh - melLow) / (o.numMelBins + 1);
  const melBanks: Float64Array[] = [];
  for (let b = 0; b < o.numMelBins; b++) {
    const left = melLow + b * delta;
    const center = melLow + (b + 1) * delta;
    const right = melLow + (b + 2) * delta;
    const row = new Float64Array(numFftBins);
    for (let k = 0; k < numFftBins; k++) {
      const mel = melScale(binWidth * k);
      const up = (mel - left) / (center - left);
      const down = (right - mel) / (right - center);
      row[k] = Math.max(0, Math.min(up, down));
    }
    melBanks.push(row);
  }
  // DCT-II, orthonormal, with Kaldi's first column sqrt(1/N); `[numMelBins][numCeps]`.
  const N = o.numMelBins;
  const dct = new Float64Array(N * o.numCeps);
  for (let m = 0; m < N; m++) {
    for (let k = 0; k < o.numCeps; k++) {
      dct[m * o.numCeps + k] =
        k === 0 ? Math.sqrt(1 / N) : Math.sqrt(2 / N) * Math.cos((Math.PI / N) * (m + 0.5) * k);
    }
  }
  const lifter = new Float64Array(o.numCeps);
  for (let i = 0; i < o.numCeps; i++) {
    lifter[i] = o.cepstralLifter !== 0 ? 1 + 0.5 * o.cepstralLifter * Math.sin((Math.PI * i) / o.cepstralLifter) : 1;
  }
  const plan: KaldiPlan = {
    windowSize,
    windowShift,
    padded,
    window: makeWindow(o.windowType, windowSize, o.blackmanCoeff),
    melBanks,
    dct,
    lifter,
    spectrum: new PowerSpectrum(padded),
    o,
  };
  planCache.set(key, plan);
  return plan;
}

/** Number of frames Kaldi (snip_edges = true) cuts from `numSamples` samples. */
export function kaldiFrameCount(numSamples: number, opts: KaldiMfccOptions = {}): number {
  const { windowSize, windowShift } = getPlan(opts);
  return numSamples < windowSize ? 0 : 1 + Math.floor((numSamples - windowSize) / windowShift);
}

/**
 * Kaldi-compatible MFCC, as `torchaudio.compliance.kaldi.mfcc(waveform, ...)` (snip_edges, no dither, no VTLN).
 * Computed in float64; torchaudio computes in float32, so results agree to about 1e-5 relative.
 * @param samples `[samples]` of one channel
 * @returns `[frames, numCeps]` (frames = {@link kaldiFrameCount}; 0 rows when the signal is shorter than a frame)
 */
export function kaldiMfcc(samples: ArrayLike<number>, opts: KaldiMfccOptions = {}): Matrix {
  const plan = getPlan(opts);
  const { windowSize, windowShift, padded, window, melBanks, dct, lifter, spectrum, o } = plan;
  const frames = kaldiFrameCount(samples.length, opts);
  const C = o.numCeps;
  const out = new Float64Array(frames * C);
  const buf = new Float64Array(padded);
  const frame = new Float64Array(windowSize);
  const power = new Float64Array(spectrum.bins);
  const logMel = new Float64Array(o.numMelBins);
  const logFloor = o.energyFloor !== 0 ? Math.log(o.energyFloor) : -Infinity;
  for (let f = 0; f < frames; f++) {
    const start = f * windowShift;
    for (let i = 0; i < windowSize; i++) {
      const v = samples[start + i];
      if (!Number.isFinite(v)) throw new Error(`kaldiMfcc: sample ${start + i} is ${v}`);
      frame[i] = v;
    }
    if (o.removeDcOffset) {
      let mean = 0;
      for (let i = 0; i < windowSize; i++) mean += frame[i];
      mean /= windowSize;
      for (let i = 0; i < windowSize; i++) frame[i] -= mean;
    }
    const energyOf = (x: Float64Array, n: number): number => {
      let e = 0;
      for (let i = 0; i < n; i++) e += x[i] * x[i];
      return Math.max(Math.log(Math.max(e, FLT_EPS)), logFloor);
    };
    let logEnergy = o.rawEnergy ? energyOf(frame, windowSize) : 0;
    buf.fill(0);
    if (o.preemphasisCoefficient !== 0) {
      // Kaldi pre-emphasis: x[i] - c * x[i-1], with x[-1] = x[0].
      for (let i = windowSize - 1; i > 0; i--) buf[i] = frame[i] - o.preemphasisCoefficient * frame[i - 1];
      buf[0] = frame[0] - o.preemphasisCoefficient * frame[0];
    } else {
      for (let i = 0; i < windowSize; i++) buf[i] = frame[i];
    }
    for (let i = 0; i < windowSize; i++) buf[i] *= window[i];
    if (!o.rawEnergy) logEnergy = energyOf(buf, padded);
    spectrum.compute(buf, power);
    for (let b = 0; b < o.numMelBins; b++) {
      const row = melBanks[b];
      let s = 0;
      for (let k = 0; k < row.length; k++) s += row[k] * power[k];
      logMel[b] = Math.log(Math.max(s, FLT_EPS));
    }
    for (let k = 0; k < C; k++) {
      let s = 0;
      for (let m = 0; m < o.numMelBins; m++) s += logMel[m] * dct[m * C + k];
      out[f * C + k] = s * lifter[k];
    }
    if (o.useEnergy) out[f * C] = logEnergy;
  }
  return { rows: frames, cols: C, data: out };
}

/**
 * `torchaudio.functional.compute_deltas` along time with replicate padding:
 * d[t] = sum_{k=1..n} k (x[t+k] - x[t-k]) / (2 sum k^2), n = (winLength - 1) / 2.
 * @param x `[frames, dims]` (time is the row index)
 * @returns `[frames, dims]`
 */
export function computeDeltas(x: Matrix, winLength = 5): Matrix {
  if (!Number.isInteger(winLength) || winLength < 3) throw new Error(`winLength must be an integer >= 3, got ${winLength}`);
  const n = Math.floor((winLength - 1) / 2);
  const denom = (n * (n + 1) * (2 * n + 1)) / 3;
  const { rows, cols, data } = x;
  const out = new Float64Array(rows * cols);
  const at = (t: number, c: number): number => data[Math.min(rows - 1, Math.max(0, t)) * cols + c];
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = -n; k <= n; k++) s += k * at(t + k, c);
      out[t * cols + c] = s / denom;
    }
  }
  return { rows, cols, data: out };
}
