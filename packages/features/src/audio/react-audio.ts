import { computeDeltas, kaldiFrameCount, kaldiMfcc, type KaldiMfccOptions } from "./kaldi";

/** REACT/PerFRDiff audio features for `nFrames` video frames, row-major `[nFrames, dim]`. */
export interface ReactAudioFeatures {
  frames: number;
  /** 39 x MFCC frames per video frame: 78 at 25 fps for the usual sample rates. */
  dim: number;
  data: Float32Array;
}

/** Samples per video frame, `int(sr / fps)` as in the official loader. */
export function samplesPerVideoFrame(sampleRate: number, fps: number): number {
  if (!(sampleRate > 0) || !(fps > 0)) throw new Error(`sample rate and fps must be positive, got ${sampleRate}, ${fps}`);
  const n = Math.trunc(sampleRate / fps);
  if (n < 1) throw new Error(`fps ${fps} exceeds the sample rate ${sampleRate}`);
  return n;
}

/**
 * Feature dimension per video frame: 3 (MFCC, delta, delta-delta) x 13 x the Kaldi frames in one slice.
 * 78 for 25 fps at 8, 16, 22.05, 44.1 and 48 kHz.
 */
export function reactAudioDim(sampleRate: number, fps: number): number {
  const opts = kaldiOptions(sampleRate);
  const f = kaldiFrameCount(samplesPerVideoFrame(sampleRate, fps), opts);
  if (f === 0) throw new Error(`a video frame at ${fps} fps (${samplesPerVideoFrame(sampleRate, fps)} samples) is shorter than one 25 ms MFCC frame`);
  return 3 * 13 * f;
}

const kaldiOptions = (sampleRate: number): KaldiMfccOptions => ({ sampleFrequency: sampleRate, useEnergy: true });

/**
 * Features of one video frame's slice of samples, written to `out` at `offset`: Kaldi MFCC (13 cepstra, c0 = log
 * energy) of the slice alone, its deltas and delta-deltas (window 5, computed within the slice), stacked as
 * `[3][13][mfccFrames]` and flattened, the layout of `np.stack((mfcc.T, d.T, dd.T)).reshape(-1)`.
 */
function sliceFeatures(slice: ArrayLike<number>, sampleRate: number, out: Float32Array, offset: number): void {
  const m = kaldiMfcc(slice, kaldiOptions(sampleRate));
  const d = computeDeltas(m);
  const dd = computeDeltas(d);
  const T = m.rows;
  const C = m.cols;
  let o = offset;
  for (const mat of [m, d, dd]) {
    for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) out[o++] = mat.data[t * C + c];
  }
}

/**
 * The official PerFRDiff / REACT 2024 per-video-frame audio features (`extract_audio_features` in the official
 * `dataset.py`): the mono signal is cut or zero-padded to `nFrames * int(sr / fps)` samples, and each video frame's
 * slice gets its own Kaldi MFCC + deltas + delta-deltas.
 * @param samples mono `[samples]` in [-1, 1] (see {@link toMono})
 * @param nFrames default: enough frames to cover every sample (the last one zero-padded)
 * @returns `[nFrames, 78]` float32 at 25 fps (dim = {@link reactAudioDim})
 */
export function extractReactAudioFeatures(
  samples: ArrayLike<number>,
  sampleRate: number,
  fps = 25,
  nFrames?: number,
): ReactAudioFeatures {
  const per = samplesPerVideoFrame(sampleRate, fps);
  const frames = nFrames ?? Math.ceil(samples.length / per);
  if (!Number.isInteger(frames) || frames < 0) throw new Error(`nFrames must be a non-negative integer, got ${nFrames}`);
  const dim = reactAudioDim(sampleRate, fps);
  const data = new Float32Array(frames * dim);
  const slice = new Float64Array(per);
  for (let f = 0; f < frames; f++) {
    slice.fill(0);
    const start = f * per;
    const end = Math.min(samples.length, start + per);
    for (let i = start; i < end; i++) slice[i - start] = samples[i];
    sliceFeatures(slice, sampleRate, data, f * dim);
  }
  return { frames, dim, data };
}

/**
 * Online version of {@link extractReactAudioFeatures}: push audio as it arrives, get the features of every video
 * frame whose samples are complete. Because each frame's features depend on its own slice only, the concatenated
 * output equals the offline features exactly, whatever the chunking.
 */
export class StreamingReactAudio {
  readonly sampleRate: number;
  readonly fps: number;
  readonly dim: number;
  private readonly per: number;
  private readonly pending: Float64Array;
  private filled = 0;
  private emitted = 0;

  constructor(sampleRate: number, fps = 25) {
    this.sampleRate = sampleRate;
    this.fps = fps;
    this.per = samplesPerVideoFrame(sampleRate, fps);
    this.dim = reactAudioDim(sampleRate, fps);
    this.pending = new Float64Array(this.per);
  }

  /** Video frames emitted so far. */
  get framesEmitted(): number {
    return this.emitted;
  }

  /**
   * Adds mono samples; returns the features of the video frames completed by them, `[k, dim]` (k may be 0).
   */
  push(chunk: ArrayLike<number>): ReactAudioFeatures {
    const complete = Math.floor((this.filled + chunk.length) / this.per);
    const data = new Float32Array(complete * this.dim);
    let k = 0;
    for (let i = 0; i < chunk.length; i++) {
      this.pending[this.filled++] = chunk[i];
      if (this.filled === this.per) {
        sliceFeatures(this.pending, this.sampleRate, data, k * this.dim);
        k++;
        this.filled = 0;
      }
    }
    this.emitted += complete;
    return { frames: complete, dim: this.dim, data };
  }

  /**
   * Ends the stream: a partial last frame is zero-padded and emitted (as the offline padding does); with
   * `totalFrames`, zero frames are added (or nothing more is emitted) so that exactly that many have been emitted.
   */
  flush(totalFrames?: number): ReactAudioFeatures {
    let want = this.filled > 0 ? 1 : 0;
    if (totalFrames !== undefined) want = Math.max(0, totalFrames - this.emitted);
    const data = new Float32Array(want * this.dim);
    for (let k = 0; k < want; k++) {
      if (k > 0) this.filled = 0;
      this.pending.fill(0, this.filled);
      sliceFeatures(this.pending, this.sampleRate, data, k * this.dim);
    }
    this.filled = 0;
    this.emitted += want;
    return { frames: want, dim: this.dim, data };
  }
}
