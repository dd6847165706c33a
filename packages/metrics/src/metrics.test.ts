import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readNpy } from "@perfrdiff/npy";
import { beforeAll, describe, expect, it } from "vitest";
import { bestCccPerPrediction, ccc } from "./ccc";
import { frdiv, frdvs, frvar } from "./diversity";
import { evaluateReact } from "./evaluate";
import { frreaFeat } from "./frechet";
import { prepareInputs, type ReactEvalInputs } from "./inputs";
import { laggedCorrelations, tlccOffset } from "./tlcc";
import { fixtureDir, loadSmallFixture, relErr, smoothSequences } from "./test-helpers";

// Reference values: test/make_fixtures.py (independent numpy/scipy re-derivation of the official formulas).
// Tolerances: the official CCC takes means and variances of float32 arrays in float32 (numpy keeps the dtype), we
// use float64, which moves each CCC by ~1e-9 (1e-8 relative on FRCorr); our DTW squares float32 differences in
// float32 lanes (1e-7 relative on FRdist). Everything else agrees to rounding.
const expected = JSON.parse(readFileSync(join(fixtureDir, "expected.json"), "utf8"));

describe("evaluateReact against the numpy reference (test/fixtures/small)", () => {
  let inputs: ReactEvalInputs;
  beforeAll(async () => {
    inputs = await loadSmallFixture();
  });

  it("official convention: FRCorr and FRdist summed over K, FRSyn on the first prediction", async () => {
    const r = await evaluateReact(inputs, { backend: "wasm" });
    expect(r.convention).toBe("official");
    expect(relErr(r.FRCorr, expected.official.FRCorr)).toBeLessThan(1e-7);
    expect(relErr(r.FRdist, expected.official.FRdist)).toBeLessThan(1e-6);
    expect(r.FRSyn).toBe(expected.official.FRSyn);
    expect(relErr(r.FRDiv, expected.FRDiv)).toBeLessThan(1e-9);
    expect(relErr(r.FRDvs, expected.FRDvs)).toBeLessThan(1e-9);
    expect(relErr(r.FRVar, expected.FRVar)).toBeLessThan(1e-9);
  });

  it("per-clip values average to the split's values, under both conventions", async () => {
    for (const convention of ["official", "corrected"] as const) {
      const r = await evaluateReact(inputs, { backend: "wasm", convention, perClip: true });
      const n = inputs.predictions.shape[0]!;
      for (const m of ["FRCorr", "FRdist", "FRDiv", "FRVar", "FRSyn"] as const) {
        const v = r.perClip![m];
        expect(v.length).toBe(n);
        expect(relErr(v.reduce((a, b) => a + b, 0) / n, r[m]), `${convention} ${m}`).toBeLessThan(1e-12);
      }
      // clips differ (the fixture's clips are not copies of each other)
      expect(new Set(r.perClip!.FRdist).size).toBe(n);
    }
    expect((await evaluateReact(inputs, { backend: "wasm" })).perClip).toBeUndefined();
  });

  it("corrected convention: means over K, FRSyn over all K", async () => {
    const r = await evaluateReact(inputs, { backend: "wasm", convention: "corrected" });
    expect(relErr(r.FRCorr, expected.corrected.FRCorr)).toBeLessThan(1e-7);
    expect(relErr(r.FRdist, expected.corrected.FRdist)).toBeLessThan(1e-6);
    expect(r.FRSyn).toBeCloseTo(expected.corrected.FRSyn, 12);
    // The conventions really differ on this fixture, so a swapped sum/mean cannot pass both tests.
    expect(expected.official.FRCorr).not.toBeCloseTo(expected.corrected.FRCorr, 3);
  });

  it("worker threads give exactly the in-thread results", async () => {
    for (const convention of ["official", "corrected"] as const) {
      const { timings: _a, ...one } = await evaluateReact(inputs, { backend: "wasm", convention });
      const { timings: _b, ...two } = await evaluateReact(inputs, { backend: "wasm", convention, workers: 2 });
      expect(two).toEqual(one);
    }
  });

  it("per-prediction best CCC and TLCC offsets match value for value", () => {
    const p = prepareInputs(inputs);
    const best = bestCccPerPrediction(p);
    best.forEach((v, i) => expect(Math.abs(v - expected.bestCcc[i])).toBeLessThan(5e-8));
    const offsets: number[] = [];
    for (let i = 0; i < p.n; i++) {
      for (let k = 0; k < p.k; k++) offsets.push(tlccOffset(p.predictions, (i * p.k + k) * p.t * 25, p.speaker, i * p.t * 25, p.t, 25));
    }
    expect(offsets).toEqual(expected.offsets);
  });

  it("lagged correlations equal numpy's, NaN where numpy gives NaN", () => {
    const p = prepareInputs(inputs);
    const rs = laggedCorrelations(p.predictions, 1 * p.k * p.t * 25, p.speaker, 1 * p.t * 25, p.t, 25);
    expect(rs.length).toBe(99);
    rs.forEach((v, i) => {
      const ref = expected.laggedCorrelations_clip1_pred0[i];
      if (ref === null) expect(v).toBeNaN();
      else expect(Math.abs(v - ref)).toBeLessThan(2e-7);
    });
  });

  it("FRRea-feat equals the scipy sqrtm Frechet distance", async () => {
    const gen = await readNpy(join(fixtureDir, "rea_gen.npy"));
    const real = await readNpy(join(fixtureDir, "rea_real.npy"));
    const v = frreaFeat(gen.data as Float32Array, gen.shape[0], real.data as Float32Array, real.shape[0], gen.shape[1], 25);
    expect(relErr(v, expected.frreaFeat)).toBeLessThan(1e-8);
  });
});

describe("hand-computed cases", () => {
  it("CCC of a sequence with itself is 1 (no constant dimension); a constant dimension contributes 0", () => {
    const a = smoothSequences(1, 200, 1);
    expect(ccc(a, a, 200, 25)).toBeCloseTo(1, 5); // 1 up to the official 1e-8 in the denominator
    const b = a.slice();
    for (let i = 0; i < 200; i++) b[i * 25 + 3] = 0.5;
    const c = b.slice();
    // Dim 3 is constant in both: official nan_to_num makes its CCC 0, so the mean is 24/25.
    expect(ccc(b, c, 200, 25)).toBeCloseTo(24 / 25, 5);
  });

  it("CCC penalises a constant offset: 2 var / (2 var + c^2)", () => {
    const t = 500;
    const a = new Float32Array(t * 25);
    for (let i = 0; i < t; i++) for (let d = 0; d < 25; d++) a[i * 25 + d] = i % 2; // variance 0.25
    const b = a.map((v) => v + 0.5);
    expect(ccc(a, b, t, 25)).toBeCloseTo((2 * 0.25) / (0.5 + 0.25 + 1e-8), 9);
  });

  it("TLCC finds a known lag in either direction and stays within +-49", () => {
    const t = 400;
    const s = smoothSequences(1, t + 120, 7);
    for (const lag of [5, -12, 45]) {
      const speaker = s.subarray(60 * 25, (60 + t) * 25);
      // pred[i] = speaker[i - lag]: the reaction follows the speaker `lag` frames later.
      const pred = s.subarray((60 - lag) * 25, (60 - lag + t) * 25);
      expect(tlccOffset(new Float32Array(pred), 0, new Float32Array(speaker), 0, t, 25)).toBe(Math.abs(lag));
    }
    const far = s.subarray(0, t * 25);
    const speaker = s.subarray(110 * 25, (110 + t) * 25);
    expect(tlccOffset(new Float32Array(far), 0, new Float32Array(speaker), 0, t, 25)).toBeLessThanOrEqual(49);
  });

  it("diversity: FRDiv 0 for identical predictions, exact values for known offsets", () => {
    const t = 10;
    const size = t * 25;
    const seq = smoothSequences(1, t, 3);
    const same = new Float32Array(2 * 3 * size);
    for (let s = 0; s < 6; s++) same.set(seq, s * size);
    expect(frdiv(same, 2, 3, t, 25)).toBe(0);
    // Two clips, K = 1, differing by 1 everywhere: every ordered pair has squared distance T*D.
    const two = new Float32Array(2 * size);
    two.fill(0.25, 0, size);
    two.fill(1.25, size);
    expect(frdvs(two, 2, 1, t, 25)).toBeCloseTo(1, 12);
    expect(frdiv(two, 2, 1, t, 25)).toBe(0); // K = 1: no pairs
    // K = 2 in one clip differing by 2: FRDiv = (2 pairs * 4 T D) / (2 * 1 * T D) = 4.
    expect(frdiv(new Float32Array([...new Array(size).fill(0), ...new Array(size).fill(2)]), 1, 2, t, 25)).toBeCloseTo(4, 12);
    // FRVar: 0,1,0,1,... over 10 frames has unbiased variance 10 * 0.25 / 9.
    const alt = new Float32Array(size);
    for (let i = 0; i < t; i++) alt.fill(i % 2, i * 25, (i + 1) * 25);
    expect(frvar(alt, 1, 1, t, 25)).toBeCloseTo((10 * 0.25) / 9, 12);
  });
});

describe("input validation", () => {
  const t = 20;
  const base = (): ReactEvalInputs => ({
    predictions: { data: smoothSequences(2 * 2, t, 1), shape: [2, 2, t, 25] },
    speaker: { data: smoothSequences(2, t, 2), shape: [2, t, 25] },
    listener: { data: smoothSequences(3, t, 3), shape: [3, t, 25] },
    neighbours: { data: new Uint8Array([1, 0, 1, 0, 1, 0]), shape: [2, 3] },
  });
  it("names both shapes on a mismatch", () => {
    const x = base();
    x.speaker = { data: smoothSequences(3, t, 2), shape: [3, t, 25] };
    expect(() => prepareInputs(x)).toThrow(/speaker shape \[3, 20, 25\] does not match predictions shape \[2, 2, 20, 25\]/);
    const y = base();
    y.neighbours = { data: new Uint8Array(4), shape: [2, 2] };
    expect(() => prepareInputs(y)).toThrow(/neighbours shape \[2, 2\] does not match .*\(expected \[2, 3\]\)/);
    const z = base();
    z.predictions = { data: new Float32Array(2 * 2 * t * 24), shape: [2, 2, t, 24] };
    expect(() => prepareInputs(z)).toThrow(/25 values per frame/);
  });
  it("rejects NaN/Inf with its index, non-binary neighbours and clips without an appropriate reaction", () => {
    const x = base();
    (x.listener.data as Float32Array)[1 * t * 25 + 5 * 25 + 7] = NaN;
    expect(() => prepareInputs(x)).toThrow("listener contains NaN at index [1, 5, 7]");
    const y = base();
    y.neighbours = { data: new Uint8Array([1, 0, 2, 0, 1, 0]), shape: [2, 3] };
    expect(() => prepareInputs(y)).toThrow("neighbours must be 0/1, found 2 at [0, 2]");
    const z = base();
    z.neighbours = { data: new Uint8Array([1, 0, 0, 0, 0, 0]), shape: [2, 3] };
    expect(() => prepareInputs(z)).toThrow("clip 1 has no appropriate real reaction");
  });
  it("refuses an unknown convention", async () => {
    await expect(evaluateReact(base(), { convention: "fast" as never, backend: "wasm" })).rejects.toThrow(/unknown convention 'fast'/);
  });
});
