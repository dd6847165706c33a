import { describe, expect, it } from "vitest";
import { EmotionDtwKernel } from "./dtw-kernel";
import { dtwReference, emotionDtwReference } from "./dtw-reference";
import { frdistClipMinima, type FrdistWork } from "./frdist";
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
    const full = await frdistMinima(p, { pruning: false });
    const auto = await frdistMinima(p, { pruning: "auto" });
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
