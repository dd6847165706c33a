import type { FrameTrack } from "./clip";
import { FACE_DIM } from "./face";

/** Per-coefficient statistics of FaceVerse vectors (the official `mean_face.npy` / `std_face.npy`), each `[58]`. */
export interface FaceStats {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * How 3DMM vectors are normalised:
 * - `"official"`: `x - mean`. This is what the official PerFRDiff and REACT 2024 loaders do (`e - mean_face`); they
 *   load `std_face.npy` but never divide by it, and the renderer adds `mean_face` back.
 * - `"zscore"`: `(x - mean) / std`, for models trained by us that want unit scale. Not comparable with official
 *   checkpoints.
 */
export type FaceNormalisation = "official" | "zscore";

/** Mean and (population) standard deviation of every coefficient over all frames of the tracks, `[58]` each. */
export function computeFaceStats(tracks: Iterable<FrameTrack>): FaceStats {
  const sum = new Float64Array(FACE_DIM);
  const sq = new Float64Array(FACE_DIM);
  let n = 0;
  for (const t of tracks) {
    if (t.dim !== FACE_DIM) throw new Error(`track has ${t.dim} values per frame; expected ${FACE_DIM}`);
    for (let f = 0; f < t.frames; f++) {
      for (let c = 0; c < FACE_DIM; c++) {
        const v = t.data[f * FACE_DIM + c];
        sum[c] += v;
        sq[c] += v * v;
      }
    }
    n += t.frames;
  }
  if (n === 0) throw new Error("computeFaceStats needs at least one frame");
  const mean = new Float32Array(FACE_DIM);
  const std = new Float32Array(FACE_DIM);
  for (let c = 0; c < FACE_DIM; c++) {
    mean[c] = sum[c] / n;
    std[c] = Math.sqrt(Math.max(0, sq[c] / n - (sum[c] / n) ** 2));
  }
  return { mean, std };
}

function apply(track: FrameTrack, stats: FaceStats, mode: FaceNormalisation, inverse: boolean): FrameTrack {
  if (track.dim !== FACE_DIM) throw new Error(`3DMM track has ${track.dim} values per frame; expected ${FACE_DIM}`);
  if (track.data.length !== track.frames * FACE_DIM) {
    throw new Error(`3DMM track of ${track.frames} frames holds ${track.data.length} values; expected ${track.frames * FACE_DIM}`);
  }
  if (mode !== "official" && mode !== "zscore") throw new Error(`unknown normalisation '${mode as string}'`);
  const out = new Float32Array(track.data.length);
  for (let f = 0; f < track.frames; f++) {
    for (let c = 0; c < FACE_DIM; c++) {
      const i = f * FACE_DIM + c;
      const s = mode === "zscore" ? stats.std[c] : 1;
      if (mode === "zscore" && !(s > 0)) throw new Error(`std of coefficient ${c} is ${s}; cannot z-score`);
      out[i] = inverse ? track.data[i] * s + stats.mean[c] : (track.data[i] - stats.mean[c]) / s;
    }
  }
  return { frames: track.frames, dim: FACE_DIM, data: out };
}

/** Normalises `[frames, 58]` (default: the official `x - mean`); returns a new track. */
export function normalise3dmm(track: FrameTrack, stats: FaceStats, mode: FaceNormalisation = "official"): FrameTrack {
  return apply(track, stats, mode, false);
}

/** Inverse of {@link normalise3dmm}: model-space `[frames, 58]` back to the dataset's coefficients. */
export function denormalise3dmm(track: FrameTrack, stats: FaceStats, mode: FaceNormalisation = "official"): FrameTrack {
  return apply(track, stats, mode, true);
}
