// `pnpm bench` (after `pnpm build`): the official-size model with random weights, ours beside the official PyTorch
// code measured in the same run, with the ratio ours / PyTorch (> 1: we are slower).
//
// Environment (all optional):
//   BACKEND=wasm|cpu|webgpu   our tfjs backend (default wasm)
//   DAWN_NODE=/path/dawn.node WebGPU in Node through this Dawn binary (the device bundle; else the `webgpu` package)
//   SKIP_FULL=1               skip the 150-window (15 windows x K=10) steps and what is derived from them
//   TRAIN_BATCH=N             training batch in windows (default 10 on wasm/cpu: 40 exhausts tfjs-wasm's memory in
//                             backprop; 40 = the official 4 speakers x k=10 on webgpu)
//   MEASURE_LOOPS=0|1         run whole K=10 generations instead of deriving them from steps (default: 1 on webgpu)
//   PYTORCH=0                 our side only
//   FUSED=0                   webgpu: run the composed tfjs ops instead of the fused kernels (setFusedKernels)
//   SUBMIT_BATCH=N            webgpu: tfjs's WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE (dispatches per queue submit)
//   PYTHON                    interpreter with torch (default /usr/bin/python3 if present, else python3)
//   OFFICIAL_DIR              official files from test/prepare_official.sh (default <repo>/.device/core/official)
//   OFFICIAL_BENCH            the PyTorch script (default ../test/bench_official.py)
//   PYDEPS                    extra PYTHONPATH, e.g. einops installed with pip --target (default <repo>/.device/core/pydeps)
//   OPENBLAS_DIR              put on LD_LIBRARY_PATH for a generic-BLAS PyTorch such as Debian's, which otherwise runs
//                             on the reference BLAS (default <repo>/.device/core/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread)
//   TORCH_DEVICE=cpu|cuda     default: cuda when BACKEND=webgpu, else cpu
//   TORCH_THREADS=N           default: the number of threads our backend computes with (tfjs-wasm in Node: 1)
//   TORCH_LOOPS=auto|measure|derive   passed to bench_official.py --loops
//   BENCH_JSON=file           also write every measurement as JSON
//
// Timing: each number is the mean of timed repetitions after one untimed warm-up call (on webgpu the training step:
// three, then 20 timed steps; PyTorch's loop times steps for 1 s on cuda or up to 50 steps) (REPS, default 10 on webgpu,
// 1 otherwise). "derived" numbers are a measured step time x steps; the table marks them with "d".
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { exposeWebGPU, nodeWebGPU } from "@perfrdiff/platform";

const env = process.env;
// tfjs-webgpu registers only when navigator.gpu exists as it loads, so Dawn goes first
if (env.DAWN_NODE) {
  exposeWebGPU(await nodeWebGPU({ dawn: env.DAWN_NODE }));
  await import("@tensorflow/tfjs-backend-webgpu"); // bundled here (useBackend imports it out of bundlers' sight)
}
const { createReactionGenerator, officialConfig, tf, useBackend } = await import("../dist/index.js");
const { DiffusionPrior, TensorMap, TransformerDenoiser } = await import("../dist/modules.js");
const { randomWeights } = await import("../dist/weights.js");
const { AdamW } = await import("../dist/training.js");
const { setFusedKernels } = await import("../dist/kernels.js");

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const backend = await useBackend(env.BACKEND ?? "wasm");
const gpu = backend === "webgpu";
if (env.FUSED === "0") setFusedKernels(false);
if (env.SUBMIT_BATCH) tf.env().set("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE", Number(env.SUBMIT_BATCH));
const variant = gpu ? ` | fused kernels ${env.FUSED === "0" ? "off" : "on"} | submit batch ${tf.env().get("WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE")}` : "";
const ourThreads = backend === "wasm" ? (await import("@tensorflow/tfjs-backend-wasm")).getThreadsCount() : gpu ? null : 1;
const cfg = officialConfig();
const dc = cfg.diffusion_decoder.args;
const W = dc.window_size;
const K = 10;
const NW = dc.token_len / W; // 15 windows in the official 750-frame clip
const REPS = Number(env.REPS ?? (gpu ? 10 : 1));
const TB = Number(env.TRAIN_BATCH ?? (gpu ? 40 : 10));
const measureLoops = (env.MEASURE_LOOPS ?? (gpu ? "1" : "0")) === "1";
const skipFull = env.SKIP_FULL === "1";

/** Our results, keyed like bench_official.py's: { seconds, how: "measured" | "derived", label, detail }. */
const ours = new Map();
function record(key, label, seconds, how, detail = "") {
  ours.set(key, { key, label, seconds, how, detail });
  console.log(`ours ${how}: ${label}: ${seconds.toFixed(4)} s${detail ? ` (${detail})` : ""}`);
}

async function time(fn, reps = REPS, warmups = 1) {
  for (let i = 0; i < warmups; i++) {
    const r = fn();
    await r.data();
    r.dispose();
  }
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const o = fn();
    await o.data();
    o.dispose();
  }
  return (performance.now() - t0) / reps / 1000;
}

function denoiserInputs(B) {
  return {
    x: tf.randomNormal([B, W, dc.nfeats]),
    t: Array.from({ length: B }, () => 500),
    cond: {
      speakerAudio: tf.randomNormal([B, W, dc.s_audio_dim]),
      speaker3dmm: tf.randomNormal([B, W, dc.s_3dmm_dim]),
      speakerEmotion: tf.randomUniform([B, W, dc.s_emotion_dim]),
      speakerLatent: tf.randomNormal([B, 1, dc.s_embed_dim]),
    },
  };
}
const disposeInputs = (i) => tf.dispose([i.x, ...Object.values(i.cond)]);

console.log(`# ${new Date().toISOString()} | ${cpus().length} x ${cpus()[0]?.model ?? "?"} | node ${process.version} | tfjs ${tf.version.tfjs} ${backend}` +
  (ourThreads ? `, ${ourThreads} thread${ourThreads > 1 ? "s" : ""}` : "") + `${variant} | load average ${loadavg()[0].toFixed(2)}`);

// --- is the PyTorch side available? ------------------------------------------------------------------------------
const torchSide = new Map();
let torchEnv = null;
let skipped = null; // why the PyTorch side does not run (checked before ours, announced at once)
const officialDir = env.OFFICIAL_DIR ?? join(repo, ".device/core/official");
const script = env.OFFICIAL_BENCH ?? fileURLToPath(new URL("../test/bench_official.py", import.meta.url));
const python = env.PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const pydeps = env.PYDEPS ?? join(repo, ".device/core/pydeps");
const openblas = env.OPENBLAS_DIR ?? join(repo, ".device/core/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread");
const childEnv = {
  ...env,
  PYTHONUNBUFFERED: "1",
  PYTHONPATH: [existsSync(pydeps) ? pydeps : null, env.PYTHONPATH].filter(Boolean).join(":"),
  LD_LIBRARY_PATH: [existsSync(openblas) ? openblas : null, env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
};
if (env.PYTORCH === "0") skipped = "PYTORCH=0";
else if (!existsSync(join(officialDir, "configs/diffusion_model.yaml"))) {
  skipped = `no official files in ${officialDir} (run packages/core/test/prepare_official.sh /path/to/PerFRDiff, or set OFFICIAL_DIR)`;
} else if (!existsSync(script)) skipped = `no ${script} (set OFFICIAL_BENCH)`;
else {
  const probe = spawnSync(python, ["-c", "import torch, einops, yaml, numpy"], { env: childEnv, encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    const why = probe.error ? probe.error.message : probe.stderr.trim().split("\n").pop();
    skipped = `${python} cannot run the official code (${why}); set PYTHON, or PYDEPS for a pip --target folder with einops`;
  }
}
if (skipped) console.log(`PyTorch side will be skipped: ${skipped}`);

// --- ours -----------------------------------------------------------------------------------------------------
const weights = randomWeights(cfg, "denoiser", 1);
const den = new TransformerDenoiser(dc, weights);
for (const [key, nw, k] of [["den_1x10", 1, K], ["den_15x10", NW, K], ["den_15x1", NW, 1]]) {
  if (skipFull && key === "den_15x10") continue;
  const i = denoiserInputs(nw * k);
  record(key, `guided denoiser step, ${nw} window${nw > 1 ? "s" : ""} x K=${k}`, await time(() => den.forwardWithCondScale(i.x, i.t, i.cond)), "measured");
  disposeInputs(i);
}
const pa = cfg.diffusion_prior.args;
const prior = new DiffusionPrior(pa, randomWeights(cfg, "prior", 3));
for (const [key, k] of [["prior_15x10", K], ["prior_15x1", 1]]) {
  if (skipFull && key === "prior_15x10") continue;
  const B = NW * k;
  const x = tf.randomNormal([B, 1, pa.latent_dim]);
  const c = { speakerAudio: tf.randomNormal([B, W, pa.audio_dim]), speaker3dmm: tf.randomNormal([B, W, pa._3dmm_dim]), speakerLatent: tf.randomNormal([B, 1, pa.speaker_emb_dim]) };
  record(key, `prior step, ${NW} windows x K=${k}`, await time(() => prior.forwardWithCondScale(x, Array(B).fill(500), c)), "measured");
  tf.dispose([x, ...Object.values(c)]);
}
prior.weights.dispose();

// Generation through the public generator (K reactions to a 30 s clip). The official config drops the prior's
// output (l_latent_embed_drop_prob = 1), so our generator does not run the prior; the official pipeline does.
const gen = await createReactionGenerator({ config: cfg, backend, checkpoint: { denoiser: weights, emotion_vae: randomWeights(cfg, "emotion_vae", 2) } });
const clip = { audio: tf.randomNormal([750, dc.s_audio_dim]), emotion: tf.randomUniform([750, dc.s_emotion_dim]), threeDmm: tf.randomNormal([750, dc.s_3dmm_dim]) };
async function generation(k, steps, sampler) {
  const warm = await gen.generate(clip, { k, steps: 1, sampler });
  warm.emotion.dispose();
  const t0 = performance.now();
  const r = await gen.generate(clip, { k, steps, sampler });
  await r.emotion.data();
  r.emotion.dispose();
  return (performance.now() - t0) / 1000;
}
for (const steps of [50, 10]) {
  const label = `generate K=10 x 750 frames, ${steps} DDIM steps: denoiser loop`;
  if (measureLoops) record(`gen_k10_${steps}`, label, await generation(K, steps, "ddim"), "measured", "createReactionGenerator().generate");
  else if (ours.has("den_15x10")) record(`gen_k10_${steps}`, label, steps * ours.get("den_15x10").seconds, "derived", `${steps} x guided denoiser step 15x10`);
}
if (measureLoops) record("gen_k1_50", "generate K=1 x 750 frames, 50 DDIM steps: denoiser loop", await generation(1, 50, "ddim"), "measured", "createReactionGenerator().generate");
else record("gen_k1_50", "generate K=1 x 750 frames, 50 DDIM steps: denoiser loop", 50 * ours.get("den_15x1").seconds, "derived", "50 x guided denoiser step 15x1");
for (const steps of [10, 5]) {
  record(`rt_k1_${steps}`, `30 s reaction (K=1, 750 frames), dpm-solver++ ${steps} steps`, await generation(1, steps, "dpm-solver++"), "measured", "createReactionGenerator().generate");
}
tf.dispose(Object.values(clip));

// One GAFRG training step as the official train_diffusion.py computes the decoder's loss: x_t = q_sample(x0, t) with
// t uniform per window, the denoiser forward, MSE against x0, backward, AdamW (configs/diffusion_model.yaml: lr 1e-4,
// betas 0.9/0.999, weight decay 1e-4). Differences from the official step: our denoiser has no dropout layers (the
// official trains with dropout 0.1 and condition dropout 0.2).
{
  const vars = new TensorMap([...weights.tensors].map(([k, v]) => [k, tf.variable(v)]));
  const varList = [...vars.tensors.values()];
  const trainDen = new TransformerDenoiser(dc, vars);
  const i = denoiserInputs(TB);
  const x0 = tf.randomUniform([TB, W, dc.nfeats], -1, 1);
  // Cosine schedule (num_train_timesteps 1000): alpha_bar(t) = f(t+1)/f(0), f(s) = cos^2(((s/T)+0.008)/1.008 * pi/2).
  const T = cfg.diffusion_decoder.scheduler.num_train_timesteps;
  const f = (s) => Math.cos(((s / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const opt = new AdamW(varList, { lr: 1e-4, betas: [0.9, 0.999], weightDecay: 1e-4 });
  const step = () => {
    const t = Array.from({ length: TB }, () => Math.floor(Math.random() * T));
    return opt.minimize(() => {
      const ab = tf.tensor3d(t.map((s) => f(s + 1) / f(0)), [TB, 1, 1]);
      const xt = tf.add(tf.mul(tf.sqrt(ab), x0), tf.mul(tf.sqrt(tf.sub(1, ab)), tf.randomNormal(x0.shape)));
      return tf.losses.meanSquaredError(x0, trainDen.forward(xt, t, i.cond));
    });
  };
  record("train", `GAFRG training step (${TB} windows, AdamW)`, await time(step, gpu ? 20 : REPS, gpu ? 3 : 1), "measured", "q_sample + forward + MSE + backward + AdamW");
  disposeInputs(i);
  x0.dispose();
  opt.dispose();
  tf.dispose(varList);
}
gen.dispose();

// --- PyTorch, same run --------------------------------------------------------------------------------------------
if (!skipped) {
  const device = env.TORCH_DEVICE ?? (gpu ? "cuda" : "cpu");
  const threads = env.TORCH_THREADS ?? String(ourThreads ?? cpus().length);
  const argv = [script, officialDir, "--device", device, "--threads", threads, "--train-batch", String(TB), "--loops", env.TORCH_LOOPS ?? (measureLoops ? "measure" : "auto")];
  if (skipFull) argv.push("--min-time", "0");
  console.log(`PyTorch (load average ${loadavg()[0].toFixed(2)}): ${python} ${argv.join(" ")}`);
  const r = spawnSync(python, argv, { env: childEnv, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 24 });
  for (const line of (r.stdout ?? "").split("\n")) {
    if (!line.startsWith("{")) continue;
    const o = JSON.parse(line);
    if (o.key === "env") torchEnv = o;
    else torchSide.set(o.key, o);
  }
  if (r.status !== 0) skipped = `bench_official.py exited with ${r.error?.message ?? r.status}`;
}

// --- table --------------------------------------------------------------------------------------------------------
const fmt = (m) => (m ? `${m.seconds >= 100 ? m.seconds.toFixed(0) : m.seconds >= 10 ? m.seconds.toFixed(1) : m.seconds.toFixed(3)} s${m.how === "derived" ? " d" : ""}` : "-");
const rows = [
  ["den_1x10", "den_1x10"],
  ["den_15x10", "den_15x10"],
  ["den_15x1", "den_15x1"],
  ["prior_15x10", "prior_15x10"],
  ["prior_15x1", "prior_15x1"],
  ["gen_k10_50", "gen_k10_50"],
  ["gen_k10_10", "gen_k10_10"],
  [null, "prior_loop_k10_50", "prior loop the official pipeline adds, K=10, 50 steps (ours: not run, output unused)"],
  ["gen_k1_50", "gen_k1_50"],
  ["rt_k1_10", "gen_k1_10", "30 s reaction, K=1, 10 steps: ours dpm-solver++, PyTorch DDIM (denoiser loop)"],
  ["rt_k1_5", "gen_k1_5", "30 s reaction, K=1, 5 steps: ours dpm-solver++, PyTorch DDIM (denoiser loop)"],
  ["train", "train"],
];
const torchName = torchEnv ? `PyTorch ${torchEnv.torch} ${torchEnv.device === "cuda" ? torchEnv.device_name : `cpu, ${torchEnv.threads} thread${torchEnv.threads > 1 ? "s" : ""}`}` : "PyTorch";
console.log(`\n| measurement | ours (tfjs ${backend}${ourThreads ? `, ${ourThreads} thread${ourThreads > 1 ? "s" : ""}` : ""}) | ${torchName} | ours / PyTorch |`);
console.log("|---|---|---|---|");
for (const [ok, tk, label] of rows) {
  const o = ok ? ours.get(ok) : null;
  const p = torchSide.get(tk);
  if (!o && !p) continue;
  const ratio = o && p ? `${(o.seconds / p.seconds).toFixed(2)}x` : "-";
  console.log(`| ${label ?? (o ?? p).label} | ${fmt(o)} | ${fmt(p)} | ${ratio} |`);
}
console.log(`(d = derived: measured step time x steps; every other number is measured, mean after one untimed warm-up${gpu ? "; our training step: three" : ""})`);
if (skipped) console.log(`PyTorch side skipped: ${skipped}`);
else if (torchEnv) {
  const blas = torchEnv.device === "cpu" ? `; ${torchEnv.blas}, loaded: ${torchEnv.blas_libraries.map((p) => p.split("/").pop()).join(" ") || "?"}` : "";
  console.log(`PyTorch: official commit ${torchEnv.official_commit.slice(0, 12)}, ${torchEnv.device}, loops ${torchEnv.loops}${blas}`);
}
for (const steps of [10, 5]) {
  const o = ours.get(`rt_k1_${steps}`);
  if (o) console.log(`real time: 30 s of reaction (K=1, dpm-solver++ ${steps} steps) generated in ${o.seconds.toFixed(2)} s = ${(o.seconds / 30).toFixed(3)} x real time (${o.seconds <= 30 ? "faster" : "slower"} than real time)`);
}
if (env.BENCH_JSON) writeFileSync(env.BENCH_JSON, JSON.stringify({ backend, ourThreads, ours: [...ours.values()], torchEnv, torch: [...torchSide.values()], skipped }, null, 1));
