/**
 * Parity with the official PyTorch modules: fixtures made by test/make_parity_fixtures.py (official code, reduced
 * sizes, random perturbed weights, eval mode, CPU float32). We load the torch.save checkpoints with our reader and
 * require every output within 1e-4 relative error (max |ours - torch| / max |torch|).
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { parseNpy, toFloat32 } from "@perfrdiff/npy";
import { relError } from "../test/rel-error";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend, parseConfig } from "./index";
import { DiffusionPrior, EmotionVAE, PWSG, PersonSpecificEncoder, TransformerDenoiser } from "./modules/index";
import { detectModule, moduleParameterShapes, officialCheckpointPath, pwsgConfig, toTensorMap } from "./weights/index";
import { readTorchStateDict } from "./torch/index";
import type { ModuleName } from "./index";

const root = new URL("../test/fixtures/parity/", import.meta.url);
const file = (rel: string) => new Uint8Array(readFileSync(new URL(rel, root)));
const npy = (kind: string, name: string) => parseNpy(file(`${kind}/${name}.npy`));
const input = (name: string) => {
  const a = npy("inputs", name);
  return tf.tensor(toFloat32(a.data), a.shape);
};
const ints = (name: string) => Array.from(npy("inputs", name).data as BigInt64Array, Number);

/** max |a - b| / max |b|: the relative error we require below 1e-4. */
function relErr(ours: tf.Tensor, kind: string, name: string): number {
  const ref = npy(kind, name);
  expect(ours.shape).toEqual(ref.shape);
  const e = relError(ours.dataSync(), toFloat32(ref.data));
  errors.set(`${tf.getBackend()} ${name}`, e);
  return e;
}
const errors = new Map<string, number>();
afterAll(() => {
  console.log([...errors].map(([k, v]) => `${k}: ${v.toExponential(2)}`).join("\n"));
});

const cfg = parseConfig(new TextDecoder().decode(file("parity.yaml")));
const load = (m: ModuleName) => {
  const rel = officialCheckpointPath(cfg, m).replace(/^\.\//, "");
  const state = readTorchStateDict(file(rel), rel);
  expect(detectModule(cfg, state)).toBe(m);
  return toTensorMap(state, moduleParameterShapes(cfg, m), rel);
};

// Both CI backends must match the official outputs (so they also agree with each other within float32 tolerance).
describe.each(["cpu", "wasm"] as const)("parity with the official PyTorch modules (1e-4 relative), %s backend", (backend) => {
  beforeAll(async () => {
    expect(await useBackend(backend)).toBe(backend);
  });

  it("PSSL feature and projection", () => {
    const pssl = new PersonSpecificEncoder(cfg.person_specific.args, load("pssl"));
    const { feat, proj } = pssl.forward(input("listener_personal_input"));
    expect(relErr(feat, "outputs", "pssl_feat")).toBeLessThan(1e-4);
    expect(relErr(proj, "outputs", "pssl_proj")).toBeLessThan(1e-4);
  });

  it("emotion GRU-VAE encoding, posterior and decoding", () => {
    const vae = new EmotionVAE(cfg.latent_embedder.args, load("emotion_vae"));
    const x = input("emotion_seq");
    expect(relErr(vae.encode(x), "outputs", "vae_encoding")).toBeLessThan(1e-4);
    const { mu, logvar } = vae.posterior(x);
    expect(relErr(mu, "outputs", "vae_mu")).toBeLessThan(1e-4);
    expect(relErr(logvar, "outputs", "vae_logvar")).toBeLessThan(1e-4);
    expect(relErr(vae.decode(mu), "outputs", "vae_decoded")).toBeLessThan(1e-4);
    // coeff_reg against a float64 NumPy reference (test/make_coeff_reference.py)
    expect(relErr(vae.coefficients(x), "outputs", "vae_coefficients")).toBeLessThan(1e-4);
  });

  it("diffusion prior step, conditional and guided against the null tokens", () => {
    const prior = new DiffusionPrior(cfg.diffusion_prior.args, load("prior"));
    const cond = {
      speakerAudio: input("speaker_audio_encodings"),
      speakerLatent: input("speaker_latent_emb"),
      speaker3dmm: input("speaker_3dmm_encodings"),
    };
    const xT = input("x_t");
    const t = ints("t");
    expect(relErr(prior.forwardWithCondScale(xT, t, cond), "outputs", "prior")).toBeLessThan(1e-4);
    expect(relErr(prior.forwardWithCondScale(xT, t, cond, 2), "outputs", "prior_guided_2")).toBeLessThan(1e-4);
  });

  const denoiserCond = () => ({
    speakerAudio: input("speaker_audio_encodings"),
    speaker3dmm: input("speaker_3dmm_encodings"),
    speakerLatent: input("speaker_latent_embed"),
    speakerEmotion: input("speaker_emotion_encodings"),
  });

  it("denoiser guided prediction (GAFRG, 7 post-norm decoder layers)", () => {
    const den = new TransformerDenoiser(cfg.diffusion_decoder.args, load("denoiser"));
    const out = den.forwardWithCondScale(input("sample"), ints("timesteps"), denoiserCond());
    expect(relErr(out, "outputs", "denoiser_guided")).toBeLessThan(1e-4);
    // the same with the conditions' keys/values precomputed (what generation uses), timesteps as a tensor
    const cache = den.conditionCache(denoiserCond(), 2);
    const cached = den.forwardCached(input("sample"), tf.tensor1d(ints("timesteps"), "int32"), cache);
    expect(relErr(cached, "outputs", "denoiser_guided")).toBeLessThan(1e-4);
    cache.dispose();
  });

  it("denoiser at guidance 1 (conditional branch only) equals the full guided computation", () => {
    const den = new TransformerDenoiser(cfg.diffusion_decoder.args, load("denoiser"));
    const [x, t] = [input("sample"), ints("timesteps")];
    const close = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
    // g = 1 + 2^-20 runs both branches: uncond + g (cond - uncond) differs from cond by 1e-6 (cond - uncond)
    const full = den.forwardWithCondScale(x, t, denoiserCond(), 1 + 2 ** -20);
    const skipped = den.forwardWithCondScale(x, t, denoiserCond(), 1);
    expect(close(skipped, full)).toBeLessThan(1e-5);
    expect(close(den.forward(x, t, denoiserCond()), full)).toBeLessThan(1e-5);
    const cache = den.conditionCache(denoiserCond(), 2, false);
    expect(close(den.forwardCached(x, t, cache), full)).toBeLessThan(1e-5);
    cache.dispose();
  });

  it("PWSG branches and the personalised (weight-shifted) denoiser; base weights untouched", () => {
    const base = load("denoiser");
    const den = new TransformerDenoiser(cfg.diffusion_decoder.args, base);
    const pssl = new PersonSpecificEncoder(cfg.person_specific.args, load("pssl"));
    const pwsg = PWSG.fromWeights(pwsgConfig(cfg), load("hypernet").tensors);
    const { proj } = pssl.forward(input("listener_personal_input"));
    const p = tf.slice(proj, [0, 0], [1, -1]);
    const deltas = pwsg.forward(p);
    [...deltas.values()].forEach((d, i) => expect(relErr(d, "outputs", `hypernet_branch_${i}`)).toBeLessThan(1e-4));
    const edited = pwsg.personalise(base, p);
    const out = den.forwardWithCondScale(input("sample"), ints("timesteps"), denoiserCond(), undefined, edited);
    expect(relErr(out, "outputs", "denoiser_personalised")).toBeLessThan(1e-4);
    edited.dispose();
    // restoring = dropping the overlay: the base model reproduces the unedited official output
    const again = den.forwardWithCondScale(input("sample"), ints("timesteps"), denoiserCond());
    expect(relErr(again, "outputs", "denoiser_guided")).toBeLessThan(1e-4);
  });
});
