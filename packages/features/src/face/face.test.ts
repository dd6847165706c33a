import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { serializeNpy } from "@perfrdiff/npy";
import { EMOTION_COLUMNS } from "@perfrdiff/layout";
import { formatEmotionCsv, parse3dmmNpy, parseEmotionCsv, read3dmm, readEmotionCsv, write3dmm, writeEmotionCsv } from "./io";

const track = (frames: number, dim: number, f: (r: number, c: number) => number) => {
  const data = new Float32Array(frames * dim);
  for (let r = 0; r < frames; r++) for (let c = 0; c < dim; c++) data[r * dim + c] = f(r, c);
  return { frames, dim, data };
};

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

