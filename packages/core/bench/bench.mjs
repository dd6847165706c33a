// Benchmarks of the official-size model with random weights (pnpm bench, after pnpm build).
// BACKEND=wasm|cpu|webgpu (default wasm). Prints one line per measurement.
// Full 750-frame, K=10 generation at 50 steps takes minutes on CPU, so generation time is measured per guided
// denoiser step over the whole batch (15 windows x 10 reactions, both CFG branches) and multiplied by the steps;
// the output says which numbers are measured and which are derived.
import { performance } from "node:perf_hooks";
import { TransformerDenoiser, officialConfig, randomWeights, tf, useBackend, TensorMap } from "../dist/index.js";

const backend = await useBackend(process.env.BACKEND ?? "wasm");
const cfg = officialConfig();
const dc = cfg.diffusion_decoder.args;
const W = dc.window_size;
const K = 10;
const windows = 750 / W;
const weights = randomWeights(cfg, "denoiser", 1);
const den = new TransformerDenoiser(dc, weights);

async function time(fn, reps) {
  const r = fn();
  await r.data();
  r.dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const o = fn();
    await o.data();
    o.dispose();
  }
  return (performance.now() - t0) / reps / 1000;
}

function inputs(B) {
  return {
    x: tf.randomNormal([B, W, 25]),
    t: Array.from({ length: B }, () => 500),
    cond: { speakerAudio: tf.randomNormal([B, W, 78]), speaker3dmm: tf.randomNormal([B, W, 58]), speakerLatent: tf.randomNormal([B, 1, 512]) },
  };
}

const reps = backend === "webgpu" ? 10 : 1;
if (process.env.SKIP_FULL !== "1") {
const one = inputs(K);
const perWindow = await time(() => den.forwardWithCondScale(one.x, one.t, one.cond), reps);
console.log(`${backend} measured: guided denoiser step, 1 window x K=10: ${perWindow.toFixed(3)} s`);
const all = inputs(K * windows);
const step = await time(() => den.forwardWithCondScale(all.x, all.t, all.cond), reps);
console.log(`${backend} measured: guided denoiser step, 15 windows x K=10 (750 frames): ${step.toFixed(3)} s`);
console.log(`${backend} derived: generate K=10 x 750 frames: 50 steps ${(step * 50).toFixed(1)} s, 10 steps ${(step * 10).toFixed(1)} s`);
tf.dispose([one.x, all.x, ...Object.values(one.cond), ...Object.values(all.cond)]);
}

// One GAFRG training step: x0-MSE on TRAIN_BATCH windows (default 10; the official batch is 4 speakers x 10 reactions
// = 40, which exhausts tfjs-wasm's memory during backprop), Adam over every parameter.
const TB = Number(process.env.TRAIN_BATCH ?? 10);
const vars = new TensorMap([...weights.tensors].map(([k, v]) => [k, tf.variable(v)]));
const trainDen = new TransformerDenoiser(dc, vars);
const tr = inputs(TB);
const x0 = tf.randomUniform([TB, W, 25], -1, 1);
const opt = tf.train.adam(1e-4);
const trainStep = () => {
  const cost = opt.minimize(() => tf.losses.meanSquaredError(x0, trainDen.forward(tr.x, tr.t, tr.cond)), true, [...vars.tensors.values()]);
  return cost;
};
const ts = await time(trainStep, reps);
console.log(`${backend} measured: GAFRG training step (${TB} windows, Adam): ${ts.toFixed(3)} s`);
