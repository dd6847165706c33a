// Where a guided denoiser step spends its GPU time on WebGPU: tf.profile of one forwardCached step (official size,
// random weights, conditions cached as in generation), kernel times (timestamp queries) summed by kernel name, for
// the fused kernels on and off. Bundled and run on the device by `device.sh profile`; env WINDOWS (default 150:
// 15 windows x K=10), GUIDED (default 1: the doubled batch of classifier-free guidance).
import { performance } from "node:perf_hooks";
import { installDawn } from "./dawn.mjs";

await installDawn(process.argv[2]);
const core = await import("../src/index.ts");
const { tf } = core;
await core.useBackend("webgpu");
const B = Number(process.env.WINDOWS ?? 150);
const guided = process.env.GUIDED !== "0";
const cfg = core.officialConfig();
const dc = cfg.diffusion_decoder.args;
const den = new core.TransformerDenoiser(dc, core.randomWeights(cfg, "denoiser", 1));
const x = tf.randomNormal([B, 50, 25]);
const cond = { speakerAudio: tf.randomNormal([B, 50, 78]), speaker3dmm: tf.randomNormal([B, 50, 58]), speakerLatent: tf.randomNormal([B, 1, 512]) };
const t = Array(B).fill(500);
for (const fused of [true, false]) {
  core.setFusedKernels(fused);
  const cache = den.conditionCache(cond, B, guided);
  const step = () => den.forwardCached(x, t, cache);
  for (let i = 0; i < 2; i++) { const o = step(); await o.data(); o.dispose(); } // compile + warm
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) { const o = step(); await o.data(); o.dispose(); }
  const wall = (performance.now() - t0) / 5;
  const prof = await tf.profile(async () => { const o = step(); await o.data(); return o; });
  const by = new Map();
  for (const k of prof.kernels) {
    if (k.name === "Reshape" || k.name.endsWith("__op")) continue;
    const e = by.get(k.name) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
    by.set(k.name, e);
  }
  const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
  console.log(`\n${B} windows${guided ? " (guided: x2)" : ""}, fused kernels ${fused ? "on" : "off"}: wall ${wall.toFixed(1)} ms per step, GPU kernel time ${total.toFixed(1)} ms in ${[...by.values()].reduce((s, e) => s + e.n, 0)} kernels`);
  for (const [name, e] of [...by].sort((a, b) => b[1].ms - a[1].ms)) console.log(`  ${name.padEnd(28)} ${String(e.n).padStart(4)} x  ${e.ms.toFixed(2).padStart(8)} ms`);
  cache.dispose();
}
