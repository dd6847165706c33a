import { describe, expect, it } from "vitest";
import { EmotionDtwKernel } from "./dtw-kernel";
import { dtwReference, emotionDtwReference } from "./dtw-reference";
import { frdistClipMinima, type FrdistWork } from "./frdist";
import { auMasks, frdistClipMinimaScreened, PairDtwKernel } from "./dtw-screen";
import { syntheticReactInputs } from "./synthetic";
import { frdistMinima } from "./pool";
import { prepareInputs } from "./inputs";
import { relErr, rng, smoothSequences } from "./test-helpers";

describe("reference DTW", () => {
  it("is 0 for identical sequences and absorbs repeated frames", () => {
    const a = smoothSequences(1, 30, 1);
    expect(emotionDtwReference(a, a, 30)).toBe(0);
    expect(dtwReference([0, 1, 2], 3, [0, 1, 1, 2], 4, 1)).toBe(0);
    // [0, 2] vs [1]: both frames must match 1, cost 1 + 1.
    expect(dtwReference([0, 2], 2, [1], 1, 1)).toBeCloseTo(Math.SQRT2, 15);
  });
  it("weights the groups 1/15, 1, 1/8 (constant sequences: DTW = sqrt(T) |u - v|)", () => {
    const t = 100;
    const u = new Float32Array(t * 25);
    const v = new Float32Array(t * 25);
    for (let i = 0; i < t; i++) {
      v[i * 25 + 4] = 1; // AU group: |d| = 1
      v[i * 25 + 15] = 0.3; // VA: |d| = 0.5
      v[i * 25 + 16] = 0.4;
      v[i * 25 + 18] = 0.5; // expressions: |d|^2 = 0.5
      v[i * 25 + 20] = 0.5;
    }
    const want = Math.sqrt(t) * (1 / 15) + Math.sqrt(t * 0.25) + Math.sqrt(t * 0.5) / 8;
    expect(emotionDtwReference(u, v, t)).toBeCloseTo(want, 6);
    const kernel = new EmotionDtwKernel();
    kernel.setPredictions(u, [0], t);
    expect(kernel.run(v, 0, [Infinity, Infinity, Infinity, Infinity])![0]).toBeCloseTo(want, 5);
  });
});

describe("WebAssembly SIMD kernel", () => {
  it("matches the float64 reference within 1e-6 in every lane, for 1 to 4 predictions", () => {
    const t = 80;
    const preds = smoothSequences(4, t, 11);
    const real = smoothSequences(1, t, 12);
    const kernel = new EmotionDtwKernel();
    for (let lanes = 1; lanes <= 4; lanes++) {
      const offsets = Array.from({ length: lanes }, (_, l) => l * t * 25);
      kernel.setPredictions(preds, offsets, t);
      const got = kernel.run(real, 0, [Infinity, Infinity, Infinity, Infinity])!;
      for (let l = 0; l < lanes; l++) {
        expect(relErr(got[l], emotionDtwReference(preds, real, t, offsets[l], 0))).toBeLessThan(1e-6);
      }
    }
  });

  it("abandons only when every lane's lower bound exceeds its threshold", () => {
    const t = 60;
    const preds = smoothSequences(4, t, 21);
    const real = smoothSequences(1, t, 22);
    const kernel = new EmotionDtwKernel();
    kernel.setPredictions(preds, [0, t * 25, 2 * t * 25, 3 * t * 25], t);
    const full = kernel.run(real, 0, [Infinity, Infinity, Infinity, Infinity], 5)!;
    expect(kernel.rowsComputed).toBe(t);
    // Thresholds below the true distances: abandoned, having computed fewer rows.
    expect(kernel.run(real, 0, Array.from(full, (x) => x * 0.3), 5)).toBeNull();
    expect(kernel.rowsComputed).toBeLessThan(t);
    // One lane may still win: the run must finish and return the same distances.
    const oneOpen = Array.from(full, (x) => x * 0.3);
    oneOpen[2] = full[2] * 1.01;
    expect(Array.from(kernel.run(real, 0, oneOpen, 5)!)).toEqual(Array.from(full));
  });
});

describe("FRdist minima", () => {
  const make = (n: number, k: number, m: number, t: number, seed: number) => {
    const r = rng(seed);
    const nb = new Uint8Array(n * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) nb[i * m + j] = r() < 0.5 ? 1 : 0;
      nb[i * m + (i % m)] = 1;
    }
    // Each clip's predictions lie near one of its appropriate reactions, as good generators' do: the other
    // reactions are then provably not the minimum early on.
    const listener = smoothSequences(m, t, seed + 3);
    const noise = smoothSequences(n * k, t, seed + 1);
    const predictions = new Float32Array(n * k * t * 25);
    for (let i = 0; i < n; i++) {
      for (let kk = 0; kk < k; kk++) {
        for (let x = 0; x < t * 25; x++) {
          predictions[(i * k + kk) * t * 25 + x] = 0.9 * listener[(i % m) * t * 25 + x] + 0.1 * noise[(i * k + kk) * t * 25 + x];
        }
      }
    }
    return {
      predictions: { data: predictions, shape: [n, k, t, 25] },
      speaker: { data: smoothSequences(n, t, seed + 2), shape: [n, t, 25] },
      listener: { data: listener, shape: [m, t, 25] },
      neighbours: { data: nb, shape: [n, m] },
    };
  };

  it("early abandoning changes no minimum (exact), and saves work", () => {
    const p = prepareInputs(make(3, 6, 8, 50, 5));
    const kernel = new EmotionDtwKernel();
    for (let i = 0; i < p.n; i++) {
      const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
      const pruned = frdistClipMinima(p, i, p.neighbourLists[i], kernel, true, work);
      const full = frdistClipMinima(p, i, p.neighbourLists[i], kernel, false);
      expect(Array.from(pruned)).toEqual(Array.from(full));
      for (let k = 0; k < p.k; k++) {
        let ref = Infinity;
        for (const nb of p.neighbourLists[i]) {
          ref = Math.min(ref, emotionDtwReference(p.predictions, p.listener, p.t, (i * p.k + k) * p.t * 25, nb * p.t * 25));
        }
        expect(relErr(full[k], ref)).toBeLessThan(1e-6);
      }
      if (p.neighbourLists[i].length > 2) expect(work.rows).toBeLessThan(work.rowsWithoutPruning);
    }
  });

  it("automatic pruning (on, then off where useless) gives the exact minima too", async () => {
    const p = prepareInputs(make(6, 3, 6, 40, 13));
    const full = await frdistMinima(p, { method: "lanes", pruning: false });
    const auto = await frdistMinima(p, { method: "lanes", pruning: "auto" });
    expect(Array.from(auto.minima)).toEqual(Array.from(full.minima));
  });

  it("worker threads give the same minima as this thread", async () => {
    const inputs = make(5, 3, 6, 40, 9);
    const single = await frdistMinima(prepareInputs(inputs));
    const seen: number[] = [];
    const parallel = await frdistMinima(prepareInputs(inputs, { shared: true }), {
      workers: 2,
      onProgress: (done) => seen.push(done),
    });
    expect(Array.from(parallel.minima)).toEqual(Array.from(single.minima));
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });
});

describe("binary-AU kernel", () => {
  it("gives the general kernel's distances (and the reference's) when the real reaction's AUs are 0/1", () => {
    const t = 90;
    const preds = smoothSequences(4, t, 31);
    const real = smoothSequences(1, t, 32);
    const r = rng(33);
    for (let i = 0; i < t; i++) for (let au = 0; au < 15; au++) real[i * 25 + au] = r() < 0.25 ? 1 : 0;
    const general = real.slice();
    general[5 * 25 + 2] = 0.5; // one non-binary AU value sends this copy through the general kernel
    const kernel = new EmotionDtwKernel();
    const offsets = [0, t * 25, 2 * t * 25, 3 * t * 25];
    kernel.setPredictions(preds, offsets, t);
    const inf = [Infinity, Infinity, Infinity, Infinity];
    const before = kernel.binaryAuRuns;
    const fast = kernel.run(real, 0, inf)!;
    expect(kernel.binaryAuRuns).toBe(before + 1);
    kernel.run(general, 0, inf);
    expect(kernel.binaryAuRuns).toBe(before + 1);
    for (let l = 0; l < 4; l++) {
      expect(relErr(fast[l], emotionDtwReference(preds, real, t, offsets[l], 0))).toBeLessThan(1e-6);
    }
    // Early abandoning works the same way on this path.
    expect(kernel.run(real, 0, Array.from(fast, (x) => x * 0.3), 5)).toBeNull();
    expect(kernel.rowsComputed).toBeLessThan(t);
  });
});

describe("screening FRdist (one pair per lane)", () => {
  const inf = [Infinity, Infinity, Infinity, Infinity];

  it("binary-AU DTW in 16-bit lanes is exact", () => {
    const t = 70;
    const { listener, predictions } = syntheticReactInputs({ n: 8, k: 1, t, nb: 1, seed: 41 });
    const real = Array.from({ length: 8 }, (_, l) => auMasks(listener.data, l * t * 25, t)!);
    const pred = Array.from({ length: 8 }, (_, l) => auMasks(predictions.data, l * t * 25, t)!);
    const got = new PairDtwKernel().auExact(real, pred, t);
    for (let l = 0; l < 8; l++) {
      const ref = dtwReference(listener.data, t, predictions.data, t, 25, 0, 15, l * t * 25, l * t * 25);
      expect(got[l]).toBe(Math.round(ref * ref));
      expect(Math.abs(got[l] - ref * ref)).toBeLessThan(1e-9);
    }
    const nonBinary = listener.data.slice(0, t * 25);
    nonBinary[3 * 25 + 4] = 0.5;
    expect(auMasks(nonBinary, 0, t)).toBeNull();
  });

  it("float32 screening values lie within their error bound of the exact values", () => {
    const t = 120;
    const preds = smoothSequences(8, t, 51);
    const real = smoothSequences(8, t, 52);
    const kernel = new PairDtwKernel();
    const offs = (n: number) => Array.from({ length: n }, (_, l) => l * t * 25);
    const u = 2 ** -24;
    for (const [group, lanes, dims] of [[0, 4, 15], [1, 8, 2], [2, 4, 8]] as const) {
      const s = kernel.screen(group, real, offs(lanes), preds, offs(lanes), t);
      const [st, ed] = [[0, 15], [15, 17], [17, 25]][group];
      for (let l = 0; l < lanes; l++) {
        const ref = dtwReference(real, t, preds, t, 25, st, ed, l * t * 25, l * t * 25) ** 2;
        expect(Math.abs(s[l] - ref)).toBeLessThanOrEqual((2 * t + dims + 2) * u * ref);
        expect(s[l]).not.toBe(ref); // float32: a different rounding, or the test checks nothing
      }
    }
  });

  it("gives exactly the lane kernel's minima: 0/1 AUs, continuous AUs, both, one reaction, duplicated reactions", () => {
    const t = 60;
    const synth = syntheticReactInputs({ n: 4, k: 5, t, nb: 3, seed: 61 });
    const smooth = {
      predictions: { data: smoothSequences(4 * 6, t, 62), shape: [4, 6, t, 25] },
      speaker: { data: smoothSequences(4, t, 63), shape: [4, t, 25] },
      listener: { data: smoothSequences(5, t, 64), shape: [5, t, 25] },
      neighbours: { data: Float32Array.from({ length: 20 }, (_, i) => (i % 5 === Math.floor(i / 5) || i % 3 === 0 ? 1 : 0)), shape: [4, 5] },
    };
    // REACT's usual case: real reactions with 0/1 AUs, generated ones with continuous AUs (EmotionDtwKernel's
    // binary-AU formula, reproduced roundings and all).
    const mixedPred = synth.predictions.data.map((x, i) => (i % 25 < 15 ? 0.8 * x + 0.1 * ((i * 7919) % 13) / 13 : x));
    const mixed = { ...synth, predictions: { data: mixedPred, shape: synth.predictions.shape } };
    for (const inputs of [synth, smooth, mixed]) {
      const p = prepareInputs(inputs);
      const lanes = new EmotionDtwKernel();
      const pairs = new PairDtwKernel();
      const lists = [...p.neighbourLists, Int32Array.of(1), Int32Array.of(2, 0, 2, 2)];
      for (let c = 0; c < lists.length; c++) {
        const clip = c % p.n;
        const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
        const want = frdistClipMinima(p, clip, lists[c], lanes, false);
        const got = frdistClipMinimaScreened(p, clip, lists[c], pairs, work);
        expect(Array.from(got)).toEqual(Array.from(want));
        expect(work.exactPairs).toBeGreaterThanOrEqual(p.k);
        if (lists[c].length === 1) expect(work.exactPairs).toBe(p.k);
      }
    }
    // Huge AUs: float32 accumulated AU costs overflow to Infinity where the float64 accumulation does not. The
    // reactions share their VA and expressions, so the first pair computed exactly (the first reaction) is the worst.
    const base = smoothSequences(1, t, 65);
    const real = new Float32Array(4 * t * 25);
    for (let s = 0; s < 4; s++) {
      for (let x = 0; x < t * 25; x++) real[s * t * 25 + x] = x % 25 < 15 ? base[x] * 2e18 * (1 + 0.3 * (3 - s)) : base[x];
    }
    const ph = prepareInputs({
      predictions: { data: smoothSequences(2, t, 66), shape: [1, 2, t, 25] },
      speaker: { data: smoothSequences(1, t, 67), shape: [1, t, 25] },
      listener: { data: real, shape: [4, t, 25] },
      neighbours: { data: [1, 1, 1, 1], shape: [1, 4] },
    });
    const wantHuge = frdistClipMinima(ph, 0, ph.neighbourLists[0], new EmotionDtwKernel(), false);
    expect(wantHuge.every((x) => Number.isFinite(x))).toBe(true);
    expect(new PairDtwKernel().screen(0, ph.listener, [0], ph.predictions, [0], t)[0]).toBe(Infinity);
    expect(Array.from(frdistClipMinimaScreened(ph, 0, ph.neighbourLists[0], new PairDtwKernel()))).toEqual(Array.from(wantHuge));
    // The single pair straight from the lane kernel agrees too (a check of the test's pairing).
    const p = prepareInputs(synth);
    const lanes = new EmotionDtwKernel();
    lanes.setPredictions(p.predictions, [0], t);
    const one = lanes.run(p.listener, p.t * 25, inf)![0];
    expect(frdistClipMinimaScreened(p, 0, Int32Array.of(1), new PairDtwKernel())[0]).toBe(one);
  });

  it("skips expression DTWs of pairs that cannot be the minimum", () => {
    const p = prepareInputs(syntheticReactInputs({ n: 12, k: 4, t: 80, nb: 12, seed: 71 }));
    const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
    const kernel = new PairDtwKernel();
    for (let c = 0; c < 3; c++) frdistClipMinimaScreened(p, c, p.neighbourLists[c], kernel, work);
    expect(work.pairs).toBe(3 * 4 * 12);
    // Every pair's AUs and VA, but the expressions and the exact re-check only of a part.
    expect(work.exprPairs! + work.exactPairs!).toBeLessThan(work.pairs);
  });
});
