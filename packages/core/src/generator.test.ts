import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { convertTorchCheckpoint } from "./torch/index";
import { createReactionGenerator, parseConfig, useBackend } from "./index";
import type { ModuleName, ReactionGenerator, SpeakerClip } from "./index";

// The reduced-size parity model (window 10) with its official-code weights.
const dir = new URL("../test/fixtures/parity/", import.meta.url);
const bytes = (rel: string) => new Uint8Array(readFileSync(new URL(rel, dir)));
const cfg = parseConfig(new TextDecoder().decode(bytes("parity.yaml")));
const files: Record<string, string> = {
  denoiser: "checkpoints/rewrite_weight/TransformerDenoiser/checkpoint.pth",
  hypernet: "checkpoints/rewrite_weight/ModifierNetwork/checkpoint.pth",
  pssl: "checkpoints/person_specific/checkpoint.pth",
  emotion_vae: "checkpoints/embedder_latent/checkpoint.pth",
};

let gen: ReactionGenerator;
const checkpoint = Object.fromEntries(Object.entries(files).map(([m, f]) => [m, convertTorchCheckpoint(cfg, bytes(f)).bytes])) as Partial<Record<ModuleName, Uint8Array>>;
const T = 40; // 4 windows of 10
const clip = (seed: number): SpeakerClip => ({
  audio: tf.randomNormal([T, 78], 0, 1, "float32", seed) as tf.Tensor2D,
  emotion: tf.randomUniform([T, 25], 0, 1, "float32", seed + 1) as tf.Tensor2D,
  threeDmm: tf.randomNormal([T, 58], 0, 1, "float32", seed + 2) as tf.Tensor2D,
});
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
const win = (x: tf.Tensor, w: number) => tf.slice(x, [0, w * 10, 0], [-1, 10, -1]);

beforeAll(async () => {
  gen = await createReactionGenerator({ checkpoint, config: cfg, backend: "cpu" });
});

describe("ReactionGenerator", () => {
  it("generates K reactions [K, T, 25] deterministically per seed, x0 clamped to [-1, 1]", async () => {
    const s = clip(1);
    const a = await gen.generate(s, { k: 3, steps: 4, seed: 7, faceCoefficients: true });
    expect(a.emotion.shape).toEqual([3, T, 25]);
    expect(a.faceCoefficients!.shape).toEqual([3, T, 58]);
    const seen: string[] = [];
    expect(a.settings).toEqual({ k: 3, sampler: "ddim", steps: 4, guidance: cfg.diffusion_decoder.args.guidance_scale, seed: 7 });
    const b = await gen.generate(s, { k: 3, steps: 4, seed: 7, onProgress: (p) => void seen.push(`${p.stage} ${p.step}/${p.totalSteps}`) });
    // this configuration drops the prior's output (l_latent_embed_drop_prob 1), so only the decoder chain runs
    expect(seen).toEqual(["decoder 0/4", "decoder 1/4", "decoder 2/4", "decoder 3/4"]);
    expect(maxDiff(a.emotion, b.emotion)).toBe(0);
    const c = await gen.generate(s, { k: 3, steps: 4, seed: 8 });
    expect(maxDiff(a.emotion, c.emotion)).toBeGreaterThan(1e-2);
    // the last DDIM step goes to t = 0 (sqrt(1 - alpha_bar_0) = 0.0064): the clamped x0 plus 0.0064 * eps
    expect(tf.max(tf.abs(a.emotion)).dataSync()[0]).toBeLessThan(1.05);
    // the K reactions differ from each other (different noise)
    expect(maxDiff(tf.slice(a.emotion, [0, 0, 0], [1, -1, -1]), tf.slice(a.emotion, [1, 0, 0], [1, -1, -1]))).toBeGreaterThan(1e-2);
  });

  it("conditions listener window t on speaker window t-1 only", async () => {
    const s = clip(2);
    const base = (await gen.generate(s, { k: 2, steps: 3, seed: 1 })).emotion;
    // change speaker window 1 (frames 10-19): only listener window 2 may change
    const mod = (x: tf.Tensor2D) => tf.concat([tf.slice(x, [0, 0], [10, -1]), tf.add(tf.slice(x, [10, 0], [10, -1]), 0.5), tf.slice(x, [20, 0], [-1, -1])]) as tf.Tensor2D;
    const other = (await gen.generate({ audio: mod(s.audio), emotion: mod(s.emotion), threeDmm: mod(s.threeDmm) }, { k: 2, steps: 3, seed: 1 })).emotion;
    for (const w of [0, 1, 3]) expect(maxDiff(win(base, w), win(other, w)), `window ${w}`).toBeLessThan(1e-5);
    expect(maxDiff(win(base, 2), win(other, 2))).toBeGreaterThan(1e-3);
  });

  it("personalise changes the reactions; reset restores the base model exactly", async () => {
    const s = clip(3);
    const base = (await gen.generate(s, { k: 2, steps: 3, seed: 4 })).emotion;
    gen.personalise(tf.randomNormal([20, 58], 0, 1, "float32", 9));
    expect(gen.personalised).toBe(true);
    const pers = (await gen.generate(s, { k: 2, steps: 3, seed: 4 })).emotion;
    expect(maxDiff(base, pers)).toBeGreaterThan(1e-3);
    gen.resetPersonalisation();
    expect(maxDiff(base, (await gen.generate(s, { k: 2, steps: 3, seed: 4 })).emotion)).toBe(0);
  });

  it("runs the other samplers, a one-window clip, and validates its inputs", async () => {
    const s = clip(4);
    const one = await gen.generate(
      { audio: tf.slice(s.audio, [0, 0], [10, -1]), emotion: tf.slice(s.emotion, [0, 0], [10, -1]), threeDmm: tf.slice(s.threeDmm, [0, 0], [10, -1]) },
      { k: 1, steps: 2 },
    );
    expect(one.emotion.shape).toEqual([1, 10, 25]);
    for (const sampler of ["ddpm", "dpm-solver++"] as const) {
      const r = await gen.generate(s, { k: 1, steps: 3, sampler });
      expect(r.emotion.shape).toEqual([1, T, 25]);
      expect(Number.isFinite(tf.sum(r.emotion).dataSync()[0])).toBe(true);
    }
    await expect(gen.generate({ ...s, audio: tf.zeros([35, 78]) as tf.Tensor2D }, { k: 1 })).rejects.toThrow(/40, 40 and 40|35/);
    await expect(gen.generate({ audio: tf.zeros([35, 78]), emotion: tf.zeros([35, 25]), threeDmm: tf.zeros([35, 58]) } as SpeakerClip, { k: 1 })).rejects.toThrow(/multiple of the 10-frame window/);
    await expect(gen.generate({ ...s, emotion: tf.zeros([T, 24]) as tf.Tensor2D })).rejects.toThrow(/emotion must be \[frames, 25\], got \[40,24\]/);
    await expect(gen.generate({ ...s, audio: tf.fill([T, 78], NaN) as tf.Tensor2D })).rejects.toThrow(/audio contains NaN/);
    expect(() => gen.personalise(tf.zeros([2, 20, 58]))).toThrow(/\[1, frames, 58\]/);
    expect(() => gen.personalise(tf.zeros([1, 58]))).toThrow("a listener history needs at least 10 frames (one window; the official histories are 750), got 1");
    expect(() => gen.personalise(tf.zeros([1, 9, 58]))).toThrow(/at least 10 frames .* got 9/);
  });

  it("with no checkpoint (or 'default') loads the bundled default model, ready to personalise", async () => {
    const { DEFAULT_MODEL_NAME, defaultModelDir } = await import("@perfrdiff/default-model");
    const d = await createReactionGenerator({ backend: "cpu" });
    try {
      expect(d.configSource).toBe(DEFAULT_MODEL_NAME);
      expect(d.modules.sort()).toEqual(["denoiser", "emotion_vae", "hypernet", "pssl"]);
      expect(d.canPersonalise).toBe(true);
      expect(d.config.main_model!.args.rank).toBe(4); // the small preset's low-rank PWSG
      const c = { audio: tf.zeros([50, 78]), emotion: tf.zeros([50, 25]), threeDmm: tf.zeros([50, 58]) } as SpeakerClip;
      const r = await d.generate(c, { k: 2, steps: 2, sampler: "dpm-solver++" });
      expect(r.emotion.shape).toEqual([2, 50, 25]);
      r.emotion.dispose();
      tf.dispose(Object.values(c));
    } finally {
      d.dispose();
    }
    const named = await createReactionGenerator({ checkpoint: "default", backend: "cpu", personalise: false });
    expect(named.modules.sort()).toEqual(["denoiser", "emotion_vae"]);
    named.dispose();
    // the same files as the folder the package ships
    const byPath = await createReactionGenerator({ checkpoint: await defaultModelDir(), backend: "cpu", personalise: false });
    expect(byPath.config).toEqual(named.config);
    byPath.dispose();
  });
});

// Last: switches the global tfjs backend.
describe.each(["cpu", "wasm"] as const)("ReactionGenerator memory, %s backend", (backend) => {
  it("leaves no tensors behind: repeated personalise / generate / reset keeps the tensor count; dispose frees all", async () => {
    await useBackend(backend);
    const start = tf.memory().numTensors;
    const g = await createReactionGenerator({ checkpoint, config: cfg, backend });
    const s = clip(5);
    const history = tf.randomNormal([20, 58], 0, 1, "float32", 11);
    const round = async () => {
      g.personalise(history);
      const r = await g.generate(s, { k: 2, steps: 2, seed: 3, faceCoefficients: true });
      tf.dispose([r.emotion, r.faceCoefficients!]);
      g.resetPersonalisation();
      const u = await g.generate(s, { k: 2, steps: 2, sampler: "dpm-solver++" });
      u.emotion.dispose();
    };
    // Warm-up: derived-weight caches fill, and the entries of a dropped personalisation are freed only at the next
    // cache miss, so the count settles after two rounds; from then on it must not move.
    await round();
    await round();
    const counts = [tf.memory().numTensors];
    for (let i = 0; i < 3; i++) {
      await round();
      counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(counts.map(() => counts[0]));
    tf.dispose([history, ...Object.values(s)]);
    g.dispose(); // its weights, their cached transposed copies and bias parts, the personalisation
    expect(tf.memory().numTensors).toBe(start);
  });
});
