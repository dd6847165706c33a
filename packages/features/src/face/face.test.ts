import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serializeNpy } from "@perfrdiff/npy";
import { ARKIT_BLENDSHAPES, EMOTION_COLUMNS, FACE_COLUMNS, columnIndex } from "./columns";
import { formatEmotionCsv, parse3dmmNpy, parseEmotionCsv, read3dmm, readEmotionCsv, write3dmm, writeEmotionCsv } from "./io";
import { computeFaceStats, denormalise3dmm, normalise3dmm } from "./normalise";

const track = (frames: number, dim: number, f: (r: number, c: number) => number) => {
  const data = new Float32Array(frames * dim);
  for (let r = 0; r < frames; r++) for (let c = 0; c < dim; c++) data[r * dim + c] = f(r, c);
  return { frames, dim, data };
};

describe("column metadata", () => {
  it("has 25 emotion and 52 + 6 face columns, all distinct", () => {
    expect(EMOTION_COLUMNS).toHaveLength(25);
    expect(new Set(EMOTION_COLUMNS).size).toBe(25);
    expect(ARKIT_BLENDSHAPES).toHaveLength(52);
    expect(new Set(ARKIT_BLENDSHAPES).size).toBe(52);
    expect(FACE_COLUMNS).toHaveLength(58);
    expect(columnIndex(EMOTION_COLUMNS, "valence")).toBe(15);
    expect(columnIndex(EMOTION_COLUMNS, "Neutral")).toBe(17);
    expect(columnIndex(FACE_COLUMNS, "rotX")).toBe(52);
    expect(() => columnIndex(EMOTION_COLUMNS, "AU5")).toThrow(/unknown column 'AU5'/);
  });
});

describe("emotion CSV", () => {
  it("round-trips float32 values exactly", () => {
    const t = track(4, 25, (r, c) => Math.fround(Math.sin(r * 25 + c) / 3));
    const back = parseEmotionCsv(formatEmotionCsv(t));
    expect(back.header).toEqual([...EMOTION_COLUMNS]);
    expect(back.frames).toBe(4);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
  });

  it("reports the file, line and column of bad values", () => {
    const good = formatEmotionCsv(track(2, 25, () => 0.5)).split("\n");
    const bad = [...good];
    bad[2] = bad[2].replace(/^0\.5,0\.5/, "0.5,abc");
    expect(() => parseEmotionCsv(bad.join("\n"), "x.csv")).toThrow(/x\.csv:3: column 2 \(AU2\) is 'abc'/);
    const short = [...good];
    short[1] = "1,2,3";
    expect(() => parseEmotionCsv(short.join("\n"), "y.csv")).toThrow(/y\.csv:2: 3 columns; expected 25/);
    expect(() => parseEmotionCsv("", "z.csv")).toThrow(/z\.csv: empty/);
  });

  it("reads and writes files, refusing to overwrite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "emo-"));
    const p = join(dir, "a", "1.csv");
    const t = track(3, 25, (r, c) => r + c / 100);
    await writeEmotionCsv(p, t);
    await expect(writeEmotionCsv(p, t)).rejects.toThrow(/exists/);
    expect(Array.from((await readEmotionCsv(p)).data)).toEqual(Array.from(t.data));
    await expect(readEmotionCsv(join(dir, "nope.csv"))).rejects.toThrow(/missing emotion CSV: .*nope\.csv/);
  });
});

describe("3DMM files", () => {
  it("round-trips and squeezes unit dimensions as the official loader", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fv-"));
    const t = track(5, 58, (r, c) => r * 0.1 - c * 0.01);
    await write3dmm(join(dir, "1.npy"), t);
    const back = await read3dmm(join(dir, "1.npy"));
    expect(back.frames).toBe(5);
    expect(Array.from(back.data)).toEqual(Array.from(t.data));
    const b3 = serializeNpy({ data: Float64Array.from(t.data), shape: [5, 1, 58] });
    expect(Array.from(parse3dmmNpy(b3).data)).toEqual(Array.from(t.data));
  });

  it("rejects wrong shapes, dtypes and NaN with the path", () => {
    expect(() => parse3dmmNpy(serializeNpy({ data: new Float32Array(10 * 57), shape: [10, 57] }), "p.npy")).toThrow(
      /p\.npy: shape \[10, 57\]; expected \[frames, 58\]/,
    );
    expect(() => parse3dmmNpy(serializeNpy({ data: new Int32Array(58), shape: [1, 58] }), "q.npy")).toThrow(/q\.npy: dtype <i4/);
    const nan = new Float32Array(58);
    nan[3] = Number.NaN;
    expect(() => parse3dmmNpy(serializeNpy({ data: nan, shape: [1, 58] }), "r.npy")).toThrow(/r\.npy: frame 0, coefficient 3 is NaN/);
    const dir = mkdtempSync(join(tmpdir(), "fv-"));
    writeFileSync(join(dir, "junk.npy"), "junk");
    return expect(read3dmm(join(dir, "junk.npy"))).rejects.toThrow(/junk\.npy/);
  });
});

describe("normalisation", () => {
  const tracks = [track(10, 58, (r, c) => Math.sin(r + c) * (c + 1)), track(7, 58, (r, c) => Math.cos(r * c) + c)];
  const stats = computeFaceStats(tracks);

  it("computes per-coefficient mean and std", () => {
    const all = [...tracks[0].data.subarray(0), ...tracks[1].data].filter((_, i) => i % 58 === 5);
    const m = all.reduce((a, b) => a + b, 0) / all.length;
    const sd = Math.sqrt(all.reduce((a, b) => a + (b - m) ** 2, 0) / all.length);
    expect(stats.mean[5]).toBeCloseTo(m, 5);
    expect(stats.std[5]).toBeCloseTo(sd, 5);
  });

  it("official mode subtracts the mean only; zscore divides by std; both invert", () => {
    const t = tracks[0];
    const n = normalise3dmm(t, stats);
    expect(n.data[3 * 58 + 7]).toBeCloseTo(t.data[3 * 58 + 7] - stats.mean[7], 6);
    const z = normalise3dmm(t, stats, "zscore");
    expect(z.data[3 * 58 + 7]).toBeCloseTo((t.data[3 * 58 + 7] - stats.mean[7]) / stats.std[7], 5);
    for (const [x, mode] of [[n, "official"], [z, "zscore"]] as const) {
      const back = denormalise3dmm(x, stats, mode);
      for (let i = 0; i < t.data.length; i++) expect(back.data[i]).toBeCloseTo(t.data[i], 4);
    }
  });
});
