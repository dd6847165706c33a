// pnpm bench (metrics): DTW throughput of our kernels against a straightforward implementation on the same pairs,
// and the whole `eval` for N=100, K=10, 10 appropriate reactions per clip, T=750, side by side.
//
//   node bench/frdist-bench.mjs [--n 100] [--workers 2] [--write-inputs DIR] [--official-json FILE] [--json FILE]
//                               [--skip-lanes] [--gpu-only]
//
// --write-inputs saves the generated inputs as .npy (with --inputs-only, and stops there) so bench/official_reference.py can time the official Python
// metric code on exactly the same data; --official-json reads its timings and prints them in the same table.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { serializeNpy } from "@perfrdiff/npy";
import {
  auMasks,
  EmotionDtwKernel,
  frdistClipMinima,
  frdistClipMinimaScreened,
  PairDtwKernel,
  emotionDtwReference,
  evaluateReact,
  frdistMinima,
  frdistMinimaWebGPU,
  prepareInputs,
  requestWebGPUDevice,
  syntheticReactInputs,
  bestCccPerPrediction,
  tlccOffset,
} from "../dist/index.js";


const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log(`node bench/frdist-bench.mjs [options]   (after pnpm build)
  --n N                clips (default 100); K=10 predictions, 10 appropriate reactions each, T=750
  --workers W          worker threads for FRdist and the evaluation (default 2)
  --skip-lanes         skip the FRdist run with the 4-prediction lane kernel (the previous method)
  --gpu-only           skip the CPU FRdist runs
  --write-inputs DIR   save the inputs as .npy for bench/official_reference.py (--inputs-only: and stop)
  --official-json F    print the official Python timings from F beside ours
  --json F             write all numbers to F`);
  process.exit(0);
}
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(opt("n", 100));
const K = 10;
const NB = 10;
const T = 750;
const workers = Number(opt("workers", 2));
// --gpu-only skips the CPU FRdist runs (minutes on 2 cores) when only the GPU rows are wanted.
const gpuOnly = args.includes("--gpu-only");
const now = () => performance.now();
const results = { machine: { cores: availableParallelism(), node: process.version }, n: N, k: K, nb: NB, t: T, workers };

const inputs = syntheticReactInputs({ n: N, k: K, t: T, nb: NB, seed: 2026 });
const dir = opt("write-inputs");
if (dir) {
  mkdirSync(dir, { recursive: true });
  for (const [name, a] of Object.entries({ pred: inputs.predictions, speaker: inputs.speaker, listener: inputs.listener, neighbours: inputs.neighbours })) {
    writeFileSync(join(dir, `${name}.npy`), serializeNpy(a));
  }
  console.log(`inputs written to ${dir}`);
  if (args.includes("--inputs-only")) process.exit(0);
}

// 1. DTW throughput on the same (prediction, real reaction) pairs.
const p = prepareInputs(inputs);
const size = T * 25;
const refPairs = 3;
let t0 = now();
let checksumRef = 0;
for (let q = 0; q < refPairs; q++) checksumRef += emotionDtwReference(p.predictions, p.listener, T, q * size, q * size);
const refRate = refPairs / ((now() - t0) / 1000);

const kernel = new EmotionDtwKernel();
const oursPairs = 48;
let checksumOurs = 0;
t0 = now();
for (let q = 0; q < oursPairs; q += 4) {
  kernel.setPredictions(p.predictions, [q, q + 1, q + 2, q + 3].map((x) => x * size), T);
  const r = kernel.run(p.listener, (q % 3) * size, [Infinity, Infinity, Infinity, Infinity]);
  if (q === 0) checksumOurs = r[0] + r[1] + r[2];
}
const oursRate = oursPairs / ((now() - t0) / 1000);
// The same pairs through the general kernel: AU values scaled by 0.999 are no longer 0/1.
const nonBinary = p.listener.map((v, i) => (i % 25 < 15 ? v * 0.999 : v));
t0 = now();
for (let q = 0; q < oursPairs; q += 4) {
  kernel.setPredictions(p.predictions, [q, q + 1, q + 2, q + 3].map((x) => x * size), T);
  kernel.run(nonBinary, (q % 3) * size, [Infinity, Infinity, Infinity, Infinity]);
}
const generalRate = oursPairs / ((now() - t0) / 1000);
const refCheck = checksumRef;
const oursCheck =
  emotionDtwReference(p.predictions, p.listener, T, 0, 0) +
  emotionDtwReference(p.predictions, p.listener, T, size, 0) +
  emotionDtwReference(p.predictions, p.listener, T, 2 * size, 0);
results.dtw = { referencePairsPerSec: refRate, wasmPairsPerSec: oursRate, wasmGeneralPairsPerSec: generalRate, ratio: oursRate / refRate };
console.log("\nDTW throughput, one thread, 750x750, 25 dims in 3 weighted groups (same pairs):");
console.log(`  straightforward JS (float64, full matrix) ${refRate.toFixed(2).padStart(9)} pairs/s`);
console.log(`  WebAssembly SIMD kernel, binary AUs      ${oursRate.toFixed(2).padStart(9)} pairs/s   ${(oursRate / refRate).toFixed(1)}x`);
console.log(`  WebAssembly SIMD kernel, general         ${generalRate.toFixed(2).padStart(9)} pairs/s   ${(generalRate / refRate).toFixed(1)}x  (AUs not 0/1)`);
console.log(`  agreement: |ours - reference| / reference = ${(Math.abs(checksumOurs - oursCheck) / oursCheck).toExponential(1)} (checksum ${refCheck.toFixed(3)})`);

// The screening kernels, one pair per lane, group by group (pairs/s of one group; a pair needs AUs + VA, the
// expressions only where it can still be the minimum, and the exact re-check only where it may be the minimum).
const pk = new PairDtwKernel();
const lanesOf = (n) => Array.from({ length: n }, (_, l) => l * size);
const rate = (lanes, f, reps = 6) => {
  f();
  const s = now();
  for (let i = 0; i < reps; i++) f();
  return (reps * lanes) / ((now() - s) / 1000);
};
const realMasks = lanesOf(8).map((o) => auMasks(p.listener, o % (3 * size), T));
const predMasks = lanesOf(8).map((o) => auMasks(p.predictions, o, T));
const kernels = {
  auExactU16: rate(8, () => pk.auExact(realMasks, predMasks, T)),
  auScreenF32: rate(4, () => pk.screen(0, nonBinary, lanesOf(4).map((o) => o % (3 * size)), p.predictions, lanesOf(4), T)),
  vaScreenF32: rate(8, () => pk.screen(1, p.listener, lanesOf(8).map((o) => o % (3 * size)), p.predictions, lanesOf(8), T)),
  exprScreenF32: rate(4, () => pk.screen(2, p.listener, lanesOf(4).map((o) => o % (3 * size)), p.predictions, lanesOf(4), T)),
  exactRecheckVaExpr: rate(4, () => pk.exact(p.listener, lanesOf(4).map((o) => o % (3 * size)), p.predictions, lanesOf(4), T, "none")),
};
// Whole clips (100 pairs each) in one thread: lane kernel on every pair vs screening, same clips, same minima.
const clips = Math.min(3, N);
let lanesMs = 0;
let screenMs = 0;
let clipsSame = true;
for (let c = 0; c < clips; c++) {
  let s0 = now();
  const a = frdistClipMinima(p, c, p.neighbourLists[c], kernel, false);
  lanesMs += now() - s0;
  s0 = now();
  const b = frdistClipMinimaScreened(p, c, p.neighbourLists[c], pk);
  screenMs += now() - s0;
  for (let i = 0; i < K; i++) if (a[i] !== b[i]) clipsSame = false;
}
const clipPairs = clips * K * NB;
results.dtw.kernels = kernels;
results.dtw.clipLanesPairsPerSec = clipPairs / (lanesMs / 1000);
results.dtw.clipScreenPairsPerSec = clipPairs / (screenMs / 1000);
console.log("\nScreening kernels, one pair per lane, one group each (one thread):");
console.log(`  AUs 0/1, exact, 8 x u16 lanes              ${kernels.auExactU16.toFixed(0).padStart(7)} pairs/s`);
console.log(`  AUs general, float32 screening, 4 lanes    ${kernels.auScreenF32.toFixed(0).padStart(7)} pairs/s`);
console.log(`  valence/arousal, float32 screening, 8 lanes ${kernels.vaScreenF32.toFixed(0).padStart(6)} pairs/s`);
console.log(`  expressions, float32 screening, 4 lanes    ${kernels.exprScreenF32.toFixed(0).padStart(7)} pairs/s`);
console.log(`  exact re-check (VA + expressions), 4 lanes ${kernels.exactRecheckVaExpr.toFixed(0).padStart(7)} pairs/s`);
console.log(`FRdist on whole clips (${clipPairs} pairs), one thread, same minima: ${clipsSame}`);
console.log(`  lane kernel, every pair                    ${results.dtw.clipLanesPairsPerSec.toFixed(0).padStart(7)} pairs/s   ${(results.dtw.clipLanesPairsPerSec / refRate).toFixed(1)}x reference`);
console.log(`  screening + exact re-check                 ${results.dtw.clipScreenPairsPerSec.toFixed(0).padStart(7)} pairs/s   ${(results.dtw.clipScreenPairsPerSec / refRate).toFixed(1)}x reference, ${(lanesMs / screenMs).toFixed(2)}x the lane kernel`);

// 2. FRdist alone on `workers` threads: the lane kernel on every pair (the previous method) vs screening.
const shared = prepareInputs(inputs, { shared: true });
const skipLanes = gpuOnly || args.includes("--skip-lanes");
t0 = now();
const full = skipLanes ? null : await frdistMinima(shared, { workers, method: "lanes", pruning: false });
const tFull = now() - t0;
t0 = now();
const screened = gpuOnly ? null : await frdistMinima(shared, { workers, method: "screen" });
const tScreen = now() - t0;
let same = true;
if (full && screened) for (let i = 0; i < full.minima.length; i++) if (full.minima[i] !== screened.minima[i]) same = false;
const cpu = screened ?? full;
results.frdist = { pairs: N * K * NB, wasmAllPairsMs: full ? tFull : undefined, wasmScreenMs: screened ? tScreen : undefined, identical: full && screened ? same : undefined };
if (screened) {
  results.frdist.exprPairs = screened.work.exprPairs;
  results.frdist.exactPairs = screened.work.exactPairs;
}
console.log(`\nFRdist for N=${N}, K=${K}, ${NB} reactions each (${N * K * NB} DTW pairs), ${workers} worker threads:`);
if (full) console.log(`  lane kernel, every pair    ${(tFull / 1000).toFixed(2).padStart(7)} s   ${(full.work.pairs / (tFull / 1000)).toFixed(0)} pairs/s`);
if (screened) {
  console.log(
    `  screening                  ${(tScreen / 1000).toFixed(2).padStart(7)} s   ${(screened.work.pairs / (tScreen / 1000)).toFixed(0)} pairs/s` +
      (full ? `   ${(tFull / tScreen).toFixed(2)}x; minima identical: ${same}` : "") +
      `; expressions screened for ${(100 * screened.work.exprPairs / screened.work.pairs).toFixed(0)}% of the pairs, ${(100 * screened.work.exactPairs / screened.work.pairs).toFixed(0)}% re-checked exactly`,
  );
}

const device = await requestWebGPUDevice();
if (device) {
  const info = device.adapterInfo ?? {};
  await frdistMinimaWebGPU(prepareInputs(syntheticReactInputs({ n: 2, k: K, t: T, nb: NB, seed: 1 })), device); // warm-up
  t0 = now();
  const gpu = await frdistMinimaWebGPU(p, device);
  const tGpu = now() - t0;
  let maxRel = 0;
  if (cpu) for (let i = 0; i < gpu.length; i++) maxRel = Math.max(maxRel, Math.abs(gpu[i] - cpu.minima[i]) / cpu.minima[i]);
  results.frdist.webgpuMs = tGpu;
  results.frdist.webgpuMaxRelDiff = maxRel;
  results.gpu = `${info.vendor ?? ""} ${info.architecture ?? ""} ${info.device ?? ""}`.trim();
  console.log(`  WebGPU (${results.gpu})   ${(tGpu / 1000).toFixed(2).padStart(7)} s   max relative difference to the CPU minima ${maxRel.toExponential(1)}`);
} else {
  console.log("  WebGPU: no adapter on this machine (run on a GPU machine for the GPU row)");
}

// FRCorr and FRSyn alone, in one thread (inside the evaluation they overlap with FRdist).
t0 = now();
bestCccPerPrediction(p);
for (let i = 0; i < N; i++) tlccOffset(p.predictions, i * K * size, p.speaker, i * size, T, 25);
const tCorr = now() - t0;
results.correlationOneThreadMs = tCorr;
console.log(`\nFRCorr + FRSyn (official) alone, one thread: ${(tCorr / 1000).toFixed(2)} s`);

// 3. The whole evaluation, as `perfrdiff eval` runs it.
const suites = gpuOnly ? [] : [["wasm", workers]];
if (device) suites.push(["webgpu", workers]);
results.eval = {};
console.log(`\nWhole evaluation (all 7 metrics, official convention), N=${N}, K=${K}, T=${T}:`);
for (const [backend, w] of suites) {
  t0 = now();
  const r = await evaluateReact(inputs, { backend, workers: w, device: backend === "webgpu" ? device : undefined });
  const total = now() - t0;
  results.eval[backend] = { totalMs: total, ...r.timings, metrics: { FRCorr: r.FRCorr, FRdist: r.FRdist, FRSyn: r.FRSyn } };
  const tm = r.timings;
  console.log(
    `  ${backend.padEnd(6)} total ${(total / 1000).toFixed(2).padStart(6)} s  (stages overlap: FRdist ${(tm.FRdist / 1000).toFixed(2)} s, FRCorr+FRSyn ${(tm.FRCorr / 1000).toFixed(2)} s, FRDiv/FRDvs/FRVar/FRRea ${(tm.sets / 1000).toFixed(2)} s)  FRdist=${r.FRdist.toFixed(4)} FRCorr=${r.FRCorr.toFixed(4)}`,
  );
}

const officialFile = opt("official-json");
if (officialFile) {
  const off = JSON.parse(readFileSync(officialFile, "utf8"));
  results.official = off;
  const ours = results.eval.wasm ?? { FRdist: NaN, FRCorr: NaN, totalMs: NaN, metrics: results.eval.webgpu.metrics };
  console.log(`\nOfficial Python metric code (${off.processes} processes) on the same inputs, vs ours (${workers} workers; WebGPU):`);
  const row = (name, py, js, gpu) =>
    console.log(
      `  ${name.padEnd(7)} python ${py.toFixed(2).padStart(7)} s   ours ${(js / 1000).toFixed(2).padStart(6)} s  ${(py / (js / 1000)).toFixed(1).padStart(6)}x` +
        (gpu !== undefined ? `   webgpu ${(gpu / 1000).toFixed(2).padStart(6)} s  ${(py / (gpu / 1000)).toFixed(0).padStart(5)}x` : ""),
    );
  const g = results.eval.webgpu;
  row("FRdist", off.FRdist_s, ours.FRdist, g?.FRdist);
  // Our FRCorr+FRSyn row: one thread, measured alone (in the evaluation it overlaps with FRdist).
  row("FRCorr+FRSyn", off.FRCorr_s + off.FRSyn_s, tCorr, g?.FRCorr);
  const pyTotal = off.FRdist_s + off.FRCorr_s + off.FRSyn_s + (off.other_s ?? 0);
  row("total", pyTotal, ours.totalMs, g?.totalMs);
  console.log(
    `  values: FRdist python ${off.FRdist.toFixed(6)} ours ${ours.metrics.FRdist.toFixed(6)} | FRCorr python ${off.FRCorr.toFixed(6)} ours ${ours.metrics.FRCorr.toFixed(6)} | FRSyn python ${off.FRSyn} ours ${ours.metrics.FRSyn}`,
  );
}
const jsonOut = opt("json");
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, null, 1));
process.exit(0);
