// Where WebGPU work goes: tf.profile (GPU timestamps) of official-size work with random weights, kernel times summed
// by kernel name, for the fused kernels on and off. Bundled and run on the device by `device.sh profile`.
//   default: one guided denoiser step with cached conditions, as in generation; env WINDOWS (default 150: 15
//            windows x K=10), GUIDED (default 1: the doubled batch of classifier-free guidance).
//   TRAIN=1: the GAFRG training step in phases (forward + MSE; + backward; + AdamW), WINDOWS default 40, the
//            conditions of bench.mjs's training step.
import { performance } from "node:perf_hooks";
import { exposeWebGPU, nodeWebGPU } from "@perfrdiff/platform";

exposeWebGPU(await nodeWebGPU({ dawn: process.argv[2] })); // before tfjs-webgpu loads
await import("@tensorflow/tfjs-backend-webgpu");
const core = {
  ...(await import("../src/index.ts")),
  ...(await import("../src/modules/index.ts")),
  ...(await import("../src/weights/index.ts")),
  ...(await import("../src/training/index.ts")),
  ...(await import("../src/kernels/index.ts")),
};
const { tf } = core;
await core.useBackend("webgpu");
const train = process.env.TRAIN === "1";
const B = Number(process.env.WINDOWS ?? (train ? 40 : 150));
const guided = process.env.GUIDED !== "0";
const cfg = core.officialConfig();
const dc = cfg.diffusion_decoder.args;
const weights = core.randomWeights(cfg, "denoiser", 1);
const x = tf.randomNormal([B, 50, 25]);
const cond = { speakerAudio: tf.randomNormal([B, 50, 78]), speaker3dmm: tf.randomNormal([B, 50, 58]), speakerLatent: tf.randomNormal([B, 1, 512]) };
// training as bench.mjs times it: also the speaker's emotion (152 condition tokens)
if (train) cond.speakerEmotion = tf.randomUniform([B, 50, dc.s_emotion_dim]);
const t = Array(B).fill(500);

/** Wall time per call (after two untimed calls), then one profiled call's kernels by name. */
async function profile(label, fn) {
  for (let i = 0; i < 2; i++) { const o = fn(); await o.data(); o.dispose(); } // compile + warm
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) { const o = fn(); await o.data(); o.dispose(); }
  const wall = (performance.now() - t0) / 5;
  const prof = await tf.profile(async () => { const o = fn(); await o.data(); return o; });
  const by = new Map();
  for (const k of prof.kernels) {
    // reshapes and identities move no data; fusedMatMul__op is the op's wrapper around its _FusedMatMul kernel
    if (k.name === "Reshape" || k.name === "Identity" || k.name.endsWith("__op")) continue;
    const e = by.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`\n${label}: wall ${wall.toFixed(1)} ms per call, GPU kernel time ${total.toFixed(1)} ms in ${[...by.values()].reduce((s, e) => s + e.n, 0)} kernels`);
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${name.padEnd(28)} ${String(e.n).padStart(4)} x  ${e.ms.toFixed(2).padStart(8)} ms`);
}

for (const fused of [true, false]) {
  core.setFusedKernels(fused);
  const on = `fused kernels ${fused ? "on" : "off"}`;
  if (train) {
    const vars = new core.TensorMap([...weights.tensors].map(([k, v]) => [k, tf.variable(v)]));
    const varList = [...vars.tensors.values()];
    const den = new core.TransformerDenoiser(dc, vars);
    const loss = () => tf.losses.meanSquaredError(x, den.forward(x, t, cond));
    const opt = new core.AdamW(varList, { lr: 1e-4, weightDecay: 1e-4 });
    await profile(`training, ${B} windows, forward + MSE, ${on}`, () => tf.tidy(loss));
    await profile(`training, ${B} windows, forward + backward, ${on}`, () => { const g = tf.variableGrads(loss, varList); tf.dispose(g.grads); return g.value; });
    await profile(`training, ${B} windows, forward + backward + AdamW, ${on}`, () => opt.minimize(loss));
    opt.dispose();
    tf.dispose(varList);
  } else {
    const den = new core.TransformerDenoiser(dc, weights);
    const cache = den.conditionCache(cond, B, guided);
    await profile(`${B} windows${guided ? " (guided: x2)" : ""}, ${on}`, () => den.forwardCached(x, t, cache));
    cache.dispose();
  }
}
