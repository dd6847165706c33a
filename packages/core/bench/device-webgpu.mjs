// Device run (bundled with esbuild, see bench/README.md): WebGPU through Dawn, parity of every module against the
// official fixtures, then the same measurements as bench.mjs. usage: node run.cjs FIXTURE_DIR DAWN_NODE_PATH
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const [fixtures, dawnPath] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const { create, globals } = require(dawnPath);
Object.assign(globalThis, globals);
Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true });
await import("@tensorflow/tfjs-backend-webgpu");
const core = await import("../src/index.ts");
const { tf } = core;
const npyMod = await import("@perfrdiff/npy");

console.log("backend", await core.useBackend("webgpu"));
const file = (rel) => new Uint8Array(readFileSync(`${fixtures}/${rel}`));
const cfg = core.parseConfig(new TextDecoder().decode(file("parity.yaml")));
const npy = (k, n) => npyMod.parseNpy(file(`${k}/${n}.npy`));
const input = (n) => { const a = npy("inputs", n); return tf.tensor(npyMod.toFloat32(a.data), a.shape); };
const ints = (n) => Array.from(npy("inputs", n).data, Number);
const rel = async (t, n) => {
  const r = npyMod.toFloat32(npy("outputs", n).data); const o = await t.data(); let a = 0, b = 0;
  for (let i = 0; i < r.length; i++) { a = Math.max(a, Math.abs(o[i] - r[i])); b = Math.max(b, Math.abs(r[i])); }
  console.log(`parity ${n}: ${(a / b).toExponential(2)}`);
};
const load = (m) => { const p = core.officialCheckpointPath(cfg, m).replace(/^\.\//, ""); return core.toTensorMap(core.readTorchStateDict(file(p), p), core.moduleParameterShapes(cfg, m), p); };
const pssl = new core.PersonSpecificEncoder(cfg.person_specific.args, load("pssl"));
const { feat, proj } = pssl.forward(input("listener_personal_input"));
await rel(feat, "pssl_feat"); await rel(proj, "pssl_proj");
const vae = new core.EmotionVAE(cfg.latent_embedder.args, load("emotion_vae"));
await rel(vae.encode(input("emotion_seq")), "vae_encoding");
const prior = new core.DiffusionPrior(cfg.diffusion_prior.args, load("prior"));
await rel(prior.forwardWithCondScale(input("x_t"), ints("t"), { speakerAudio: input("speaker_audio_encodings"), speakerLatent: input("speaker_latent_emb"), speaker3dmm: input("speaker_3dmm_encodings") }), "prior");
const denW = load("denoiser");
const den = new core.TransformerDenoiser(cfg.diffusion_decoder.args, denW);
const cond = { speakerAudio: input("speaker_audio_encodings"), speaker3dmm: input("speaker_3dmm_encodings"), speakerLatent: input("speaker_latent_embed"), speakerEmotion: input("speaker_emotion_encodings") };
await rel(den.forwardWithCondScale(input("sample"), ints("timesteps"), cond), "denoiser_guided");
const pwsg = core.PWSG.fromWeights(core.pwsgConfig(cfg), load("hypernet").tensors);
const edited = pwsg.personalise(denW, tf.slice(proj, [0, 0], [1, -1]));
await rel(den.forwardWithCondScale(input("sample"), ints("timesteps"), cond, undefined, edited), "denoiser_personalised");

// Official size, random weights: one guided step for K=10 x 750 frames, a real 10-step DPM-Solver++ generation, a
// training step on the official batch (40 windows).
const off = core.officialConfig();
const dc = off.diffusion_decoder.args;
const weights = core.randomWeights(off, "denoiser", 1);
const big = new core.TransformerDenoiser(dc, weights);
const time = async (fn, reps) => { let r = fn(); await r.data(); r.dispose(); const t0 = performance.now(); for (let i = 0; i < reps; i++) { r = fn(); await r.data(); r.dispose(); } return (performance.now() - t0) / reps / 1000; };
const B = 150;
const x = tf.randomNormal([B, 50, 25]);
const c = { speakerAudio: tf.randomNormal([B, 50, 78]), speaker3dmm: tf.randomNormal([B, 50, 58]), speakerLatent: tf.randomNormal([B, 1, 512]) };
const t = Array.from({ length: B }, () => 500);
const step = await time(() => big.forwardWithCondScale(x, t, c), 10);
console.log(`webgpu measured: guided denoiser step, 15 windows x K=10: ${step.toFixed(4)} s; derived 50 steps ${(step * 50).toFixed(2)} s, 10 steps ${(step * 10).toFixed(2)} s`);
const gen = await core.createReactionGenerator({ config: off, backend: "webgpu", checkpoint: { denoiser: weights, emotion_vae: core.randomWeights(off, "emotion_vae", 2) } });
const clip = { audio: tf.randomNormal([750, 78]), emotion: tf.randomUniform([750, 25]), threeDmm: tf.randomNormal([750, 58]) };
for (const [sampler, steps] of [["dpm-solver++", 10], ["ddim", 50]]) {
  await gen.generate(clip, { k: 10, steps: 2, sampler }); // warm-up
  const t0 = performance.now();
  const r = await gen.generate(clip, { k: 10, steps, sampler });
  await r.emotion.data();
  console.log(`webgpu measured: generate K=10 x 750 frames, ${sampler} ${steps} steps: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
}
const vars = new core.TensorMap([...weights.tensors].map(([k, v]) => [k, tf.variable(v)]));
const trainDen = new core.TransformerDenoiser(dc, vars);
const xb = tf.randomNormal([40, 50, 25]); const x0 = tf.randomUniform([40, 50, 25], -1, 1);
const cb = { speakerAudio: tf.randomNormal([40, 50, 78]), speaker3dmm: tf.randomNormal([40, 50, 58]), speakerLatent: tf.randomNormal([40, 1, 512]) };
const opt = tf.train.adam(1e-4);
const ts = await time(() => opt.minimize(() => tf.losses.meanSquaredError(x0, trainDen.forward(xb, Array(40).fill(500), cb)), true, [...vars.tensors.values()]), 5);
console.log(`webgpu measured: GAFRG training step (40 windows, Adam): ${ts.toFixed(4)} s`);
