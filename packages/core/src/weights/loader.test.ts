import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { officialConfig, parseConfig } from "../config";
import { convertTorchCheckpoint } from "../torch/convert";
import { loadModel, loadModelConfig, loadModuleWeights } from "./loader";
import { officialCheckpointPath, requiredModules } from "./modules";
import type { ModuleName } from "./modules";

const parityDir = fileURLToPath(new URL("../../test/fixtures/parity", import.meta.url));
const yaml = readFileSync(join(parityDir, "parity.yaml"), "utf8");
const cfg = parseConfig(yaml);
const modules: ModuleName[] = ["denoiser", "emotion_vae", "pssl", "hypernet"];
const ours = mkdtempSync(join(tmpdir(), "perfrdiff-loader-"));

beforeAll(async () => {
  await tf.setBackend("cpu");
  for (const m of modules) {
    const p = join(parityDir, officialCheckpointPath(cfg, m));
    writeFileSync(join(ours, `${m}.safetensors`), convertTorchCheckpoint(cfg, new Uint8Array(readFileSync(p)), { module: m }).bytes);
  }
  writeFileSync(join(ours, "config.yaml"), yaml);
});

const values = (w: { get(n: string): tf.Tensor }, name: string) => Array.from(w.get(name).dataSync());

describe("requiredModules", () => {
  it("is the denoiser and the emotion VAE, the prior when the configuration uses it, PSSL and PWSG to personalise", () => {
    expect(requiredModules(cfg)).toEqual(["denoiser", "emotion_vae"]);
    expect(requiredModules(cfg, { personalise: true })).toEqual(["denoiser", "emotion_vae", "pssl", "hypernet"]);
    const withPrior = parseConfig(yaml.replace("l_latent_embed_drop_prob: 1.0", "l_latent_embed_drop_prob: 0.2"));
    expect(requiredModules(withPrior)).toEqual(["denoiser", "emotion_vae", "prior"]);
  });
});

describe("loadModel", () => {
  it("reads our folder and the official layout alike, only the modules asked for", async () => {
    const a = await loadModel(ours, { personalise: false });
    expect(a.configSource).toBe(join(ours, "config.yaml"));
    expect(Object.keys(a.weights)).toEqual(["denoiser", "emotion_vae"]);
    const b = await loadModel({ official: parityDir }, { config: cfg, personalise: true });
    expect(b.configSource).toBe("given");
    expect(Object.keys(b.weights)).toEqual(["denoiser", "emotion_vae", "pssl", "hypernet"]);
    expect(values(a.weights.denoiser!, "decoder.norm.weight")).toEqual(values(b.weights.denoiser!, "decoder.norm.weight"));
    // by default personalisation modules come when the source has both
    const c = await loadModel(ours);
    expect(Object.keys(c.weights)).toEqual(["denoiser", "emotion_vae", "pssl", "hypernet"]);
    for (const m of [a, b, c]) for (const w of Object.values(m.weights)) w?.dispose();
  });

  it("names the missing module and why it is needed, and frees what it had loaded", async () => {
    const partial = join(ours, "partial");
    mkdirSync(partial);
    for (const m of ["denoiser", "emotion_vae", "pssl"]) writeFileSync(join(partial, `${m}.safetensors`), readFileSync(join(ours, `${m}.safetensors`)));
    const before = tf.memory().numTensors;
    await expect(loadModel(partial, { config: cfg, personalise: true })).rejects.toThrow(
      `${partial} has no hypernet.safetensors (needed to personalise); convert the official checkpoint with perfrdiff import-torch`,
    );
    expect(tf.memory().numTensors).toBe(before);
    // without personalise: the generic modules, and pssl alone is not loaded (both or neither)
    const generic = await loadModel(partial, { config: cfg });
    expect(Object.keys(generic.weights)).toEqual(["denoiser", "emotion_vae"]);
    for (const w of Object.values(generic.weights)) w?.dispose();
    await expect(loadModel({ official: ours }, { config: cfg })).rejects.toThrow(/no denoiser checkpoint at .*TransformerDenoiser\/checkpoint\.pth/);
    await expect(loadModel(join(ours, "nowhere"))).rejects.toThrow(/no checkpoint folder .*nowhere/);
  });

  it("checks names and shapes before any tensor is read, and takes given tensors with the same checks", async () => {
    // the reduced-size checkpoints against the official configuration
    await expect(loadModuleWeights({ official: parityDir }, { ...officialConfig(), trainer: cfg.trainer }, "denoiser")).rejects.toThrow(
      /does not match the configuration: wrong shape: to_emotion_embed\.weight is \[32,25\], expected \[512,25\]/,
    );
    const given = await loadModel(ours, { personalise: false });
    const again = await loadModel({ denoiser: given.weights.denoiser!, emotion_vae: readFileSync(join(ours, "emotion_vae.safetensors")) }, { config: cfg });
    expect(again.weights.denoiser).toBe(given.weights.denoiser);
    expect(values(again.weights.emotion_vae!, "fc_mu_enc.bias")).toEqual(values(given.weights.emotion_vae!, "fc_mu_enc.bias"));
    await expect(loadModel({ denoiser: given.weights.emotion_vae! }, { config: cfg })).rejects.toThrow(/denoiser weights does not match the configuration: missing/);
  });
});

describe("loadModelConfig", () => {
  it("takes the given configuration, else the folder's config.yaml, else the official one", async () => {
    expect((await loadModelConfig(ours, officialConfig())).configSource).toBe("given");
    expect((await loadModelConfig(ours)).config.diffusion_decoder.args.latent_dim).toBe(cfg.diffusion_decoder.args.latent_dim);
    const official = await loadModelConfig({ official: parityDir });
    expect([official.configSource, official.config.diffusion_decoder.args.latent_dim]).toEqual(["official (built in)", 512]);
  });
});
