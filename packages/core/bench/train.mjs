// `pnpm bench:train` (in packages/core, after `pnpm build`): training steps per second of each stage, with the preset's real loss and
// optimiser (core's `train`), on a random corpus of the preset's clip length (speed does not depend on the values).
//
// Environment (all optional):
//   BACKEND=wasm|cpu|webgpu   our tfjs backend (default wasm; in Node all cores)
//   DAWN_NODE=/path/dawn.node WebGPU in Node through this Dawn binary
//   PRESET=small|official     default small
//   STAGES=embedder,pssl,gafrg,pwsg   default all four
//   STEPS=N                   timed steps per stage (default 20), after WARMUP=N untimed ones (default 3)
//   ITEMS=N                   corpus items (default 16: 8 listeners x 2 clips)
//   BENCH_JSON=file           also write the rows as JSON
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { exposeWebGPU, nodeWebGPU } from "@perfrdiff/platform";

const env = process.env;
if (env.DAWN_NODE) {
  exposeWebGPU(await nodeWebGPU({ dawn: env.DAWN_NODE }));
  await import("@tensorflow/tfjs-backend-webgpu");
}
const { presetConfig, tf, useBackend } = await import("../dist/index.js");
const { randomWeights } = await import("../dist/weights.js");
const { stageModules, train } = await import("../dist/training.js");
const { releaseDerivedWeights } = await import("../dist/ops.js");

const backend = await useBackend(env.BACKEND ?? "wasm");
const threads = backend === "wasm" ? (await import("@tensorflow/tfjs-backend-wasm")).getThreadsCount() : null;
const preset = env.PRESET ?? "small";
const cfg = presetConfig(preset);
const stages = (env.STAGES ?? "embedder,pssl,gafrg,pwsg").split(",");
const STEPS = Number(env.STEPS ?? 20);
const WARMUP = Number(env.WARMUP ?? 3);
const ITEMS = Number(env.ITEMS ?? 16);
const dc = cfg.diffusion_decoder.args;
const frames = Math.max(3 * dc.window_size, cfg.person_specific.args.seq_len);

/** A random corpus: ITEMS items, listeners in pairs of clips, every item appropriate to its speaker pair. */
function randomCorpus() {
  let s = 12345;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const track = (dim) => ({ frames, dim, data: Float32Array.from({ length: frames * dim }, rand) });
  const items = Array.from({ length: ITEMS }, (_, i) => ({
    speakerAudio: track(dc.s_audio_dim),
    speakerEmotion: track(dc.nfeats),
    speaker3dmm: track(dc.s_3dmm_dim),
    listenerEmotion: track(dc.nfeats),
    listener3dmm: track(dc.s_3dmm_dim),
    listenerId: `site/session/listener${i >> 1}`,
  }));
  const appropriate = items.map((_, i) => [i, i ^ 1]);
  return { items, appropriate };
}

const corpus = randomCorpus();
const rows = [];
console.log(`training steps/s | preset ${preset} | backend ${backend}${threads ? ` (${threads} threads)` : ""} | ${cpus().length} cores, load ${loadavg()[0].toFixed(2)} | ${WARMUP} warm-up + ${STEPS} timed steps per stage`);
for (const stage of stages) {
  const before = tf.memory().numTensors;
  const weights = {};
  for (const m of [...stageModules(stage, cfg).trains, ...stageModules(stage, cfg).needs]) weights[m] = randomWeights(cfg, m, 7);
  const times = [];
  let kernels = 0;
  let lastLoss = 0;
  const result = await train({
    stage,
    config: cfg,
    corpus,
    frames,
    weights,
    steps: WARMUP + STEPS,
    checkpointEvery: 0,
    onStep: (r) => {
      if (r.step > WARMUP) times.push(r.stepMs);
      lastLoss = r.losses.loss;
    },
  });
  // kernels of one more step, counted by the profiler (the optimiser included)
  const prof = await tf.profile(async () => {
    const r = await train({ stage, config: cfg, corpus, frames, weights, steps: 1, checkpointEvery: 0 });
    for (const w of Object.values(r.weights)) w.dispose();
  });
  kernels = prof.kernels.length;
  for (const w of Object.values(result.weights)) w.dispose();
  for (const w of Object.values(weights)) w.dispose();
  releaseDerivedWeights(); // the frozen modules' cached transposed copies
  // the median step: this machine class shares its cores, and single steps vary by tens of percent
  const sorted = [...times].sort((a, b) => a - b);
  const ms = sorted[Math.floor(sorted.length / 2)];
  const t = cfg.training[stage];
  const row = { stage, preset, backend, threads, stepMs: ms, stepsPerSecond: 1000 / ms, kernels, batch: t.batch_size, k: t.k_appro ?? null, leakedTensors: tf.memory().numTensors - before, lastLoss };
  rows.push(row);
  console.log(`${stage.padEnd(9)} ${ms.toFixed(1).padStart(8)} ms/step  ${(1000 / ms).toFixed(2).padStart(6)} steps/s  ${String(kernels).padStart(6)} kernels/step  batch ${t.batch_size}${t.k_appro ? ` x k ${t.k_appro}` : ""}  tensors left ${row.leakedTensors}  (median of ${times.length}: ${sorted[0].toFixed(0)}-${sorted[sorted.length - 1].toFixed(0)} ms)`);
}
if (env.BENCH_JSON) writeFileSync(env.BENCH_JSON, JSON.stringify(rows, null, 2));
