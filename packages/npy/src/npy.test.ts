import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { NpyFormatError, parseNpy, readNpy, serializeNpy, writeNpy } from "./index";

const fixture = (name: string) => join(__dirname, "..", "test", "fixtures", name);

describe("parseNpy on files written by NumPy (test/make_fixtures.py)", () => {
  it("reads float32 with its shape and values", async () => {
    const a = await readNpy(fixture("f4_2x3.npy"));
    expect(a.dtype).toBe("<f4");
    expect(a.shape).toEqual([2, 3]);
    expect(Array.from(a.data as Float32Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
  });
  it("swaps big-endian float64", async () => {
    const a = await readNpy(fixture("f8_big_endian.npy"));
    expect(a.dtype).toBe("<f8");
    expect(Array.from(a.data as Float64Array)).toEqual([1.5, -2.25, 1e300]);
  });
  it("reads booleans and int64", async () => {
    const b = await readNpy(fixture("b1_3.npy"));
    expect(b.dtype).toBe("|b1");
    expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1]);
    const i = await readNpy(fixture("i8_2x2.npy"));
    expect(i.shape).toEqual([2, 2]);
    expect(Array.from(i.data as BigInt64Array)).toEqual([1n, -2n, 3n, 2n ** 40n]);
  });
  it("reads a 0-d array as shape []", async () => {
    const s = await readNpy(fixture("scalar.npy"));
    expect(s.shape).toEqual([]);
    expect(s.data[0]).toBe(3.5);
  });
  it("refuses Fortran order and complex dtypes with a message naming the problem and the file", async () => {
    await expect(readNpy(fixture("fortran.npy"))).rejects.toThrow(/fortran\.npy: Fortran-ordered/);
    await expect(readNpy(fixture("complex.npy"))).rejects.toThrow(/unsupported \.npy dtype '<c8'/);
  });
  it("names a missing file", async () => {
    await expect(readNpy("/nonexistent/x.npy")).rejects.toThrow("no such .npy file: /nonexistent/x.npy");
  });
  it("refuses bytes that are not .npy and truncated payloads", () => {
    expect(() => parseNpy(new Uint8Array([1, 2, 3]))).toThrow(NpyFormatError);
    const ok = serializeNpy({ data: new Float32Array([1, 2, 3, 4]), shape: [4] });
    expect(() => parseNpy(ok.subarray(0, ok.length - 4))).toThrow(/payload has 12 bytes .* needs 16/);
  });
});

describe("serializeNpy", () => {
  it("writes the exact bytes NumPy writes for the same array", () => {
    const mine = serializeNpy({ data: new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]), shape: [2, 3] });
    expect(Buffer.from(mine).equals(readFileSync(fixture("f4_2x3.npy")))).toBe(true);
    const bools = serializeNpy({ data: new Uint8Array([1, 0, 1]), shape: [3], dtype: "|b1" });
    expect(Buffer.from(bools).equals(readFileSync(fixture("b1_3.npy")))).toBe(true);
  });
  it("round-trips float64 through a file and refuses to overwrite it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "npy-"));
    const path = join(dir, "sub", "a.npy");
    const data = new Float64Array([Math.PI, -0, 1e-310, Infinity]);
    await writeNpy(path, { data, shape: [2, 2] });
    const back = await readNpy(path);
    expect(back.shape).toEqual([2, 2]);
    expect(Array.from(back.data as Float64Array)).toEqual(Array.from(data));
    await expect(writeNpy(path, { data, shape: [2, 2] })).rejects.toThrow(/exists; pass overwrite/);
    await writeNpy(path, { data: new Float64Array([1]), shape: [1] }, { overwrite: true });
    expect((await readNpy(path)).shape).toEqual([1]);
  });
  it("refuses a shape that does not match the data", () => {
    expect(() => serializeNpy({ data: new Float32Array(5), shape: [2, 3] })).toThrow(/holds 6 values but the data has 5/);
  });
});
