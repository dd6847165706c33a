import { columnIndex, FACE_COLUMNS, FACE_DIM, type FrameTrack } from "@perfrdiff/layout";

/** Style of a listener as measured from its files (what a personalised model must pick up). */
export interface MeasuredStyle {
  /** Lag (s) maximising the cross-correlation of speaker and listener smiles (mouthSmileLeft + Right). */
  latency: number;
  /** Least-squares gain of the listener's smile on the speaker's smile at that lag. */
  smileGain: number;
  /** Standard deviation of the listener's head pitch (rad). */
  headPitchStd: number;
  /** Pairs and frames used. */
  pairs: number;
  frames: number;
}

const SMILE_L = columnIndex(FACE_COLUMNS, "mouthSmileLeft");
const SMILE_R = columnIndex(FACE_COLUMNS, "mouthSmileRight");
const PITCH = columnIndex(FACE_COLUMNS, "rotX");

function smile(t: FrameTrack): Float64Array {
  if (t.dim !== FACE_DIM) throw new Error(`3DMM track has ${t.dim} values per frame; expected 58`);
  return Float64Array.from({ length: t.frames }, (_, f) => t.data[f * FACE_DIM + SMILE_L] + t.data[f * FACE_DIM + SMILE_R]);
}

/**
 * Measures a listener's reaction style from (speaker, listener) 3DMM track pairs `[frames, 58]` of that listener,
 * e.g. to check that a corpus makes personalisation measurable, or to compare generated with real reactions.
 * @param maxLag seconds searched for the smile latency (default 2)
 */
export function measureListenerStyle(
  pairs: readonly { speaker3dmm: FrameTrack; listener3dmm: FrameTrack }[],
  fps = 25,
  maxLag = 2,
): MeasuredStyle {
  if (pairs.length === 0) throw new Error("measureListenerStyle needs at least one pair");
  const L = Math.round(maxLag * fps);
  const xs = pairs.map((p) => smile(p.speaker3dmm));
  const ys = pairs.map((p) => smile(p.listener3dmm));
  xs.forEach((x, i) => {
    if (x.length !== ys[i].length) throw new Error(`pair ${i}: speaker has ${x.length} frames, listener ${ys[i].length}`);
  });
  // Correlation pooled over pairs at each lag (listener behind speaker by `lag` frames).
  let bestLag = 0;
  let best = -Infinity;
  for (let lag = 0; lag <= L; lag++) {
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    let sx = 0;
    let sy = 0;
    let n = 0;
    for (let p = 0; p < xs.length; p++) {
      const x = xs[p];
      const y = ys[p];
      for (let t = lag; t < x.length; t++) {
        const a = x[t - lag];
        const b = y[t];
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
        sx += a;
        sy += b;
        n++;
      }
    }
    const cov = sxy / n - (sx / n) * (sy / n);
    const den = Math.sqrt(Math.max(1e-12, (sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2)));
    if (cov / den > best) {
      best = cov / den;
      bestLag = lag;
    }
  }
  let sxy = 0;
  let sxx = 0;
  let frames = 0;
  let ps = 0;
  let pss = 0;
  for (let p = 0; p < xs.length; p++) {
    const x = xs[p];
    const y = ys[p];
    for (let t = bestLag; t < x.length; t++) {
      sxy += x[t - bestLag] * y[t];
      sxx += x[t - bestLag] ** 2;
    }
    const lt = pairs[p].listener3dmm;
    for (let f = 0; f < lt.frames; f++) {
      const v = lt.data[f * FACE_DIM + PITCH];
      ps += v;
      pss += v * v;
      frames++;
    }
  }
  const mean = ps / frames;
  return {
    latency: bestLag / fps,
    smileGain: sxx > 0 ? sxy / sxx : 0,
    headPitchStd: Math.sqrt(Math.max(0, pss / frames - mean * mean)),
    pairs: pairs.length,
    frames,
  };
}
