/** Options of {@link resample}, named as in `torchaudio.functional.resample`. */
export interface ResampleOptions {
  /** Zero crossings of the sinc on each side (default 6). */
  lowpassFilterWidth?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.99). */
  rolloff?: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Band-limited resampling, numerically the same as `torchaudio.functional.resample(x, orig, new)` with its defaults
 * (`sinc_interp_hann`, width 6, rolloff 0.99): the same polyphase kernel, the same zero padding and the same output
 * length `ceil(new * length / orig)` with the rates reduced by their gcd.
 * @param samples `[samples]` at `origFreq`
 * @returns `[ceil(samples * newFreq / origFreq)]` at `newFreq`
 */
export function resample(
  samples: ArrayLike<number>,
  origFreq: number,
  newFreq: number,
  options: ResampleOptions = {},
): Float64Array {
  const width0 = options.lowpassFilterWidth ?? 6;
  const rolloff = options.rolloff ?? 0.99;
  if (!Number.isInteger(origFreq) || !Number.isInteger(newFreq) || origFreq <= 0 || newFreq <= 0) {
    throw new Error(`resample: sample rates must be positive integers, got ${origFreq} -> ${newFreq}`);
  }
  if (!(width0 > 0)) throw new Error(`resample: lowpassFilterWidth must be positive, got ${width0}`);
  if (origFreq === newFreq) return Float64Array.from(samples);
  const g = gcd(origFreq, newFreq);
  const orig = origFreq / g;
  const nw = newFreq / g;
  const baseFreq = Math.min(orig, nw) * rolloff;
  const width = Math.ceil((width0 * orig) / baseFreq);
  const taps = 2 * width + orig;
  // kernel[j][k]: weight of padded input sample (block start + k) for output phase j.
  const kernel = new Float64Array(nw * taps);
  const scale = baseFreq / orig;
  for (let j = 0; j < nw; j++) {
    for (let k = 0; k < taps; k++) {
      let t = (-j / nw + (k - width) / orig) * baseFreq;
      t = Math.max(-width0, Math.min(width0, t));
      const w = Math.cos((t * Math.PI) / width0 / 2) ** 2;
      const tp = t * Math.PI;
      kernel[j * taps + k] = (tp === 0 ? 1 : Math.sin(tp) / tp) * w * scale;
    }
  }
  const length = samples.length;
  const padded = new Float64Array(length + 2 * width + orig);
  for (let i = 0; i < length; i++) padded[width + i] = samples[i];
  const blocks = Math.floor((padded.length - taps) / orig) + 1;
  const target = Math.ceil((nw * length) / orig);
  const out = new Float64Array(target);
  for (let b = 0; b < blocks; b++) {
    const start = b * orig;
    for (let j = 0; j < nw; j++) {
      const o = b * nw + j;
      if (o >= target) return out;
      let s = 0;
      const kr = j * taps;
      for (let k = 0; k < taps; k++) s += kernel[kr + k] * padded[start + k];
      out[o] = s;
    }
  }
  return out;
}
