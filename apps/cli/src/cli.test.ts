import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serializeNpy } from "@perfrdiff/npy";
import { zipSync } from "fflate";
import { encodeWav } from "@perfrdiff/features/audio";
import { describe, expect, it } from "vitest";

// Runs the built CLI (turbo builds it before the tests) as a user would.
const cli = join(__dirname, "..", "dist", "cli.js");
const root = join(__dirname, "..", "..", "..");
const fixture = join(root, "packages", "metrics", "test", "fixtures", "small");
const expected = require(join(fixture, "expected.json"));

function perfrdiff(...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
}

const evalArgs = (pred = join(fixture, "pred.npy")) => [
  "eval",
  "--pred", pred,
  "--speaker", join(fixture, "speaker.npy"),
  "--listener", join(fixture, "listener.npy"),
  "--neighbours", join(fixture, "neighbours.npy"),
  "--backend", "wasm",
];

describe("perfrdiff eval", () => {
  it("--json prints exactly the documented keys with the reference values", () => {
    const r = perfrdiff(...evalArgs(), "--json", "--workers", "2");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(["FRCorr", "FRdist", "FRDiv", "FRDvs", "FRVar", "FRSyn", "FRRea", "convention"]);
    expect(out.convention).toBe("official");
    expect(out.FRdist).toBeCloseTo(expected.official.FRdist, 4);
    expect(out.FRCorr).toBeCloseTo(expected.official.FRCorr, 6);
    expect(out.FRSyn).toBe(expected.official.FRSyn);
  });

  it("--convention corrected changes the aggregation", () => {
    const out = JSON.parse(perfrdiff(...evalArgs(), "--json", "--convention", "corrected").stdout);
    expect(out.convention).toBe("corrected");
    expect(out.FRdist).toBeCloseTo(expected.corrected.FRdist, 4);
  });

  it("fails with a clear message on a missing file, a wrong dtype or mismatched shapes", () => {
    const missing = perfrdiff(...evalArgs("/nonexistent/pred.npy"));
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("no such .npy file: /nonexistent/pred.npy");

    const dir = mkdtempSync(join(tmpdir(), "cli-"));
    const ints = join(dir, "ints.npy");
    writeFileSync(ints, serializeNpy({ data: new Int32Array(4 * 3 * 120 * 25), shape: [4, 3, 120, 25] }));
    const wrongType = perfrdiff(...evalArgs(ints));
    expect(wrongType.status).not.toBe(0);
    expect(wrongType.stderr).toContain("has dtype '<i4'; expected float32 or float64");

    const short = join(dir, "short.npy");
    writeFileSync(short, serializeNpy({ data: new Float32Array(4 * 3 * 100 * 25), shape: [4, 3, 100, 25] }));
    const mismatch = perfrdiff(...evalArgs(short));
    expect(mismatch.status).not.toBe(0);
    expect(mismatch.stderr).toContain("speaker shape [4, 120, 25] does not match predictions shape [4, 3, 100, 25]");
  });

  it("rejects an unknown convention", () => {
    const r = perfrdiff(...evalArgs(), "--convention", "fast");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--convention must be official or corrected");
  });
});

describe("perfrdiff import-torch on a hostile checkpoint", () => {
  it("exits 1 with one line naming the file and the exceeded limit (146 KB of MARKs once grew the process to 2 GB)", () => {
    const dir = mkdtempSync(join(tmpdir(), "perfrdiff-hostile-cli-"));
    const pkl = new Uint8Array(146_000).fill(0x28);
    pkl.set([0x80, 2]);
    const file = join(dir, "marks.pth");
    writeFileSync(file, zipSync({ "archive/data.pkl": [pkl, { level: 0 }] }));
    const r = perfrdiff("import-torch", "--checkpoint", file, "--out", join(dir, "out"));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/marks\.pth: more than 1000 open MARKs \(limit maxOpenMarks\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("perfrdiff features audio on careless input", () => {
  const dir = mkdtempSync(join(tmpdir(), "perfrdiff-audio-cli-"));
  const wav = join(dir, "speech.wav");
  writeFileSync(wav, encodeWav([Float64Array.from({ length: 16000 }, (_, i) => Math.sin(i / 9) / 3)], 16000, "16"));
  const empty = join(dir, "empty.wav");
  writeFileSync(empty, encodeWav([new Float64Array(0)], 16000, "16"));
  it.each([
    [["--wav", wav, "--fps", "0.001", "--out", join(dir, "a.npy")], /--fps must be a video frame rate in \[1, 120\] \(REACT: 25\), got '0\.001'/],
    [["--wav", empty, "--out", join(dir, "b.npy")], /empty\.wav holds no audio samples/],
    [["--wav", wav, "--out", wav, "--force"], /is the input WAV; never written over, --force or not/],
  ])("refuses %j", (args, message) => {
    const before = readFileSync(wav);
    const r = perfrdiff("features", "audio", ...(args as string[]));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message as RegExp);
    expect(readFileSync(wav).equals(before)).toBe(true);
  });

  it("warns with the numbers when the data chunk is cut off", () => {
    const cut = join(dir, "cut.wav");
    writeFileSync(cut, readFileSync(wav).subarray(0, 44 + 16000));
    const r = perfrdiff("features", "audio", "--wav", cut, "--out", join(dir, "cut.npy"));
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: .*cut\.wav is cut off: its data chunk declares 32000 bytes, the file holds 16000/);
  });
});
