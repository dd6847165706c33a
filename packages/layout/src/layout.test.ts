import { describe, expect, it } from "vitest";
import {
  ARKIT_BLENDSHAPES,
  EMOTION_COLUMNS,
  EMOTION_DIM,
  EMOTION_GROUPS,
  FACE_COLUMNS,
  FACE_DIM,
  FACE_GROUPS,
  FRDIST_GROUPS,
  columnIndex,
  computeFaceStats,
  denormalise3dmm,
  normalise3dmm,
} from "./index";

const track = (frames: number, dim: number, f: (r: number, c: number) => number) => {
  const data = new Float32Array(frames * dim);
  for (let r = 0; r < frames; r++) for (let c = 0; c < dim; c++) data[r * dim + c] = f(r, c);
  return { frames, dim, data };
};

describe("column metadata", () => {
  it("has 25 emotion and 52 + 6 face columns, all distinct", () => {
    expect(EMOTION_COLUMNS).toHaveLength(EMOTION_DIM);
    expect(new Set(EMOTION_COLUMNS).size).toBe(25);
    expect(ARKIT_BLENDSHAPES).toHaveLength(52);
    expect(new Set(ARKIT_BLENDSHAPES).size).toBe(52);
    expect(FACE_COLUMNS).toHaveLength(FACE_DIM);
    expect(columnIndex(EMOTION_COLUMNS, "valence")).toBe(15);
    expect(columnIndex(EMOTION_COLUMNS, "Neutral")).toBe(17);
    expect(columnIndex(FACE_COLUMNS, "rotX")).toBe(52);
    expect(() => columnIndex(EMOTION_COLUMNS, "AU5")).toThrow(/unknown column 'AU5'/);
  });

  it("groups tile the columns without gaps, FRdist weighting each group by 1 / its width except valence-arousal", () => {
    expect([EMOTION_GROUPS.au, EMOTION_GROUPS.va, EMOTION_GROUPS.expression]).toEqual([[0, 15], [15, 17], [17, 25]]);
    expect(FRDIST_GROUPS.map(([a, b]) => [a, b])).toEqual([[0, 15], [15, 17], [17, 25]]);
    expect(FRDIST_GROUPS.map((g) => g[2])).toEqual([1 / 15, 1, 1 / 8]);
    expect([FACE_GROUPS.expression, FACE_GROUPS.rotation, FACE_GROUPS.translation]).toEqual([[0, 52], [52, 55], [55, 58]]);
    expect(columnIndex(EMOTION_COLUMNS, "AU26")).toBe(EMOTION_GROUPS.au[1] - 1);
  });
});

describe("3DMM normalisation", () => {
  const tracks = [track(10, 58, (r, c) => Math.sin(r + c) * (c + 1)), track(7, 58, (r, c) => Math.cos(r * c) + c)];
  const stats = computeFaceStats(tracks);

  it("computes per-coefficient mean and std", () => {
    const all = [...tracks[0].data, ...tracks[1].data].filter((_, i) => i % 58 === 5);
    const m = all.reduce((a, b) => a + b, 0) / all.length;
    const sd = Math.sqrt(all.reduce((a, b) => a + (b - m) ** 2, 0) / all.length);
    expect(stats.mean[5]).toBeCloseTo(m, 5);
    expect(stats.std[5]).toBeCloseTo(sd, 5);
  });

  it("official mode subtracts the mean only; zscore divides by std; both invert", () => {
    const t = tracks[0];
    const n = normalise3dmm(t, stats);
    expect(n.data[3 * 58 + 7]).toBe(Math.fround(t.data[3 * 58 + 7] - stats.mean[7]));
    const z = normalise3dmm(t, stats, "zscore");
    expect(z.data[3 * 58 + 7]).toBeCloseTo((t.data[3 * 58 + 7] - stats.mean[7]) / stats.std[7], 5);
    for (const [x, mode] of [[n, "official"], [z, "zscore"]] as const) {
      const back = denormalise3dmm(x, stats, mode);
      for (let i = 0; i < t.data.length; i++) expect(back.data[i]).toBeCloseTo(t.data[i], 4);
    }
  });

  it("refuses tracks of another width or whose data does not fill their frames", () => {
    expect(() => normalise3dmm(track(2, 25, () => 0), stats)).toThrow(/25 values per frame; expected 58/);
    expect(() => normalise3dmm({ frames: 3, dim: 58, data: new Float32Array(58) }, stats)).toThrow(/3 frames holds 58 values/);
  });
});
