import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ConfigError, officialConfig, parseConfig, presetConfig, samplerFromConfig } from "./index";

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), "utf8");

describe("config", () => {
  it("loads the official rewrite_weight.yaml values", () => {
    const cfg = parseConfig(fixture("rewrite_weight.yaml"));
    const d = cfg.diffusion_decoder.args;
    expect([d.num_layers, d.latent_dim, d.num_heads, d.ff_size, d.activation, d.normalize_before]).toEqual([7, 512, 4, 1024, "gelu", false]);
    expect(d.s_audio_scale).toBeCloseTo(512 ** -0.5, 12); // official default when the YAML omits it
    expect(d.guidance_scale).toBe(7.5);
    expect(cfg.diffusion_prior.args.depth).toBe(4);
    expect(cfg.person_specific.args.max_len).toBe(1000);
    expect(cfg.latent_embedder.args.emb_dims).toEqual([128, 128]);
    expect(cfg.main_model?.args.modified_layers).toEqual([
      "diffusion_decoder.model.decoder.layers.4.multihead_attn",
      "diffusion_decoder.model.decoder.layers.6.multihead_attn",
      "diffusion_decoder.model.to_emotion_feat",
    ]);
    expect(cfg.main_model?.args.num_shared_layers).toBe(2);
    expect(cfg.trainer.checkpoint_dir).toBe("./checkpoints/rewrite_weight");
  });

  it("the built-in official config equals the official YAML's model settings", () => {
    const a = parseConfig(fixture("rewrite_weight.yaml"));
    const b = officialConfig();
    for (const k of ["person_specific", "latent_embedder", "diffusion_prior", "diffusion_decoder", "main_model"] as const) {
      expect(JSON.parse(JSON.stringify({ ...b[k], scheduler: undefined, type: undefined })), k).toEqual(
        JSON.parse(JSON.stringify({ ...a[k], scheduler: undefined, type: undefined })),
      );
    }
  });

  it("rejects wrong types and missing sections with the key named", () => {
    expect(() => parseConfig("person_specific: {}\n")).toThrow(/no 'latent_embedder' section/);
    const bad = fixture("rewrite_weight.yaml").replace("num_layers: 7", "num_layers: seven");
    expect(() => parseConfig(bad)).toThrow(ConfigError);
    expect(() => parseConfig(bad)).toThrow(/diffusion_decoder\.args\.num_layers/);
  });

  it("refuses scheduler values no sampler implements, naming the key and the values allowed", () => {
    const yaml = fixture("rewrite_weight.yaml");
    expect(() => parseConfig(yaml.replace("timestep_spacing: leading\n", "timestep_spacing: zigzag\n"))).toThrow(
      /diffusion_prior\.scheduler\.timestep_spacing 'zigzag' is not supported; expected one of leading, trailing, linspace/,
    );
    expect(() => parseConfig(yaml.replace("var_type: fixed_large", "var_type: learned"))).toThrow(/scheduler\.var_type 'learned'/);
    expect(() => parseConfig(yaml.replace("noise_schedule: cosine", "noise_schedule: sigmoid"))).toThrow(/noise_schedule 'sigmoid'/);
    expect(() => parseConfig(yaml.replace("predict: start_x", "predict: x_prev"))).toThrow(/predict 'x_prev'.*start_x, epsilon, eps, v/);
  });

  it("extends a preset: the YAML's keys over it, mappings merged, lists replaced", () => {
    const small = presetConfig("small");
    const cfg = parseConfig(
      "extends: small\ndiffusion_decoder:\n  args: { s_audio_enc_drop_prob: 1.0 }\n  scheduler: { predict: epsilon }\nmain_model:\n  args: { predict: weight, modified_layers: [diffusion_decoder.model.to_emotion_feat] }\n",
    );
    expect(cfg.diffusion_decoder.args.s_audio_enc_drop_prob).toBe(1);
    expect(cfg.diffusion_decoder.scheduler.predict).toBe("epsilon");
    expect(cfg.main_model!.args.predict).toBe("weight");
    expect(cfg.main_model!.args.modified_layers).toEqual(["diffusion_decoder.model.to_emotion_feat"]);
    // everything else is the preset's
    expect(cfg.diffusion_decoder.args.latent_dim).toBe(small.diffusion_decoder.args.latent_dim);
    expect(cfg.diffusion_decoder.scheduler.num_inference_timesteps).toBe(small.diffusion_decoder.scheduler.num_inference_timesteps);
    expect(cfg.main_model!.args.rank).toBe(4);
    expect(cfg.training).toEqual(small.training);
    expect(() => parseConfig("extends: large\n")).toThrow(/extends: "large" is not a preset; expected one of official, small/);
  });
});

describe("samplerFromConfig", () => {
  it("builds each sampler from a scheduler block: its schedule, prediction and spacing, its steps for DDIM and DDPM", () => {
    const sched = { ...officialConfig().diffusion_decoder.scheduler, num_train_timesteps: 200, num_inference_timesteps: 25, timestep_spacing: "trailing" as const };
    const ddim = samplerFromConfig(sched, "ddim");
    expect([ddim.schedule.numTimesteps, ddim.defaultSteps, ddim.prediction, ddim.spacing, ddim.finalAlpha]).toEqual([200, 25, "x0", "trailing", "first"]);
    expect(samplerFromConfig({ ...sched, var_type: "fixed_small" }, "ddpm")).toMatchObject({ variance: "fixed_small", defaultSteps: 25 });
    // DPM-Solver++ keeps its own default: the configured 50 (here 25) are the DDIM loop's
    expect(samplerFromConfig(sched, "dpm-solver++").defaultSteps).toBe(20);
    expect(samplerFromConfig({ ...sched, predict: "epsilon" }, "ddim").prediction).toBe("eps");
  });
});
