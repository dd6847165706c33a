/**
 * Training runs as a researcher relies on them, on the tiny model (test/tiny-training.ts): resuming continues bit for
 * bit, a seed fixes the weights, a diverging loss stops with its step and term and keeps the last good checkpoint,
 * and a run folder is never overwritten by accident.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../index";
import { parseSafetensors } from "../weights/safetensors";
import { tinyConfig, tinyCorpus } from "../../test/tiny-training";
import { TRAIN_STAGES, TrainingDivergedError, TrainingRun, trainStages } from "./index";
import type { TrainStage } from "./index";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "perfrdiff-train-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await useBackend("cpu");
});

/** Every tensor of a run's top-level weight files, by "module/name". */
async function runWeights(dir: string): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const f of (await readdir(dir)).filter((f) => f.endsWith(".safetensors")).sort()) {
    for (const [name, t] of parseSafetensors(new Uint8Array(await readFile(join(dir, f)))).tensors) out.set(`${f}/${name}`, t.data as Float32Array);
  }
  return out;
}

function expectBitEqual(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, v] of a) {
    const w = b.get(k)!;
    // compared as bytes: equal to the last bit (NaN included)
    expect(Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)), k).toBe(true);
  }
}

const corpus = tinyCorpus();
const validation = tinyCorpus(4, 40, 2);

describe.each(["cpu", "wasm"] as const)("training on %s", (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it("resumes bit for bit: every stage trained 4 steps equals 2 steps, a stop (as after Ctrl-C) and a resumed 2", async () => {
    const cfg = tinyConfig();
    const whole = await TrainingRun.open(join(root, `${backend}-whole`), cfg);
    const a = await trainStages(whole, { stages: [...TRAIN_STAGES], corpus, validation, steps: 4, valEvery: 2 });
    expect(a.stopped).toBe(false);
    expect(a.stages.map((s) => [s.stage, s.steps])).toEqual(TRAIN_STAGES.map((s) => [s, 4]));

    const split = join(root, `${backend}-split`);
    let seen = 0;
    const first = await trainStages(await TrainingRun.open(split, cfg), {
      stages: [...TRAIN_STAGES],
      corpus,
      validation,
      steps: 4,
      valEvery: 2,
      onStep: () => void seen++,
      // stop in the middle of gafrg (after embedder's and pssl's 4 steps, and gafrg's first 2)
      shouldStop: () => seen === 10,
    });
    expect(first.stopped).toBe(true);
    expect(first.stages.at(-1)).toMatchObject({ stage: "gafrg", steps: 2, stopped: true });
    const second = await trainStages(await TrainingRun.open(split, cfg, { resume: true }), { stages: [...TRAIN_STAGES], corpus, validation, steps: 4, valEvery: 2 });
    expect(second.stages.map((s) => [s.stage, s.steps, !!s.skipped])).toEqual([
      ["embedder", 4, true],
      ["pssl", 4, true],
      ["gafrg", 4, false],
      ["pwsg", 4, false],
    ]);
    expectBitEqual(await runWeights(whole.dir), await runWeights(split));
    // the metrics of both runs hold the same steps and losses (step times aside)
    const lines = async (d: string) =>
      (await readFile(join(d, "metrics.jsonl"), "utf8"))
        .trim()
        .split("\n")
        .map((l) => {
          const { stepMs: _ms, ...rest } = JSON.parse(l) as Record<string, unknown>;
          return rest;
        });
    expect(await lines(split)).toEqual(await lines(whole.dir));
    expect((await lines(split)).filter((l) => !("validation" in l))).toHaveLength(16);
  }, 120_000);

  it("is deterministic: the same seed gives the same weights, another seed others", async () => {
    const weightsFor = async (name: string, seed: number) => {
      const cfg = tinyConfig();
      const run = await TrainingRun.open(join(root, `${backend}-${name}`), { ...cfg, training: { ...cfg.training, seed } });
      await trainStages(run, { stages: ["gafrg" as TrainStage], corpus, steps: 3, init: join(root, `${backend}-whole`) });
      return runWeights(run.dir);
    };
    const a = await weightsFor("seed7a", 7);
    expectBitEqual(a, await weightsFor("seed7b", 7));
    const c = await weightsFor("seed8", 8);
    expect([...a.keys()].some((k) => a.get(k)!.some((v, i) => v !== c.get(k)![i]))).toBe(true);
  }, 60_000);
});

describe("a diverging run", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  it("stops at the step whose loss is NaN, naming the term, and keeps the last good checkpoint", async () => {
    const cfg = tinyConfig();
    const poisoned = tinyCorpus();
    const run = await TrainingRun.open(join(root, "nan"), cfg);
    const error = await trainStages(run, {
      stages: ["embedder"],
      corpus: poisoned,
      steps: 6,
      checkpointEvery: 1,
      onStep: (r) => {
        // after the second step, every emotion value becomes NaN
        if (r.step === 2) for (const it of poisoned.items) for (const t of [it.speakerEmotion, it.listenerEmotion]) t.data.fill(Number.NaN);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as TrainingDivergedError).step).toBe(2);
    expect((error as TrainingDivergedError).term).toBe("mse");
    expect((error as Error).message).toMatch(/^step 2: loss term 'mse' is NaN; the weights of the last checkpoint are kept$/);
    const state = JSON.parse(await readFile(join(run.dir, "train-state", "embedder.json"), "utf8")) as { step: number };
    expect(state.step).toBe(2);
    const saved = await runWeights(run.dir);
    expect([...saved.values()].every((w) => w.every(Number.isFinite))).toBe(true);
  });

  it("refuses to save weights that a finite step made infinite (a learning rate far too high)", async () => {
    const cfg = tinyConfig();
    const huge = { ...cfg, training: { ...cfg.training, embedder: { ...cfg.training.embedder, lr: 1e38 } } };
    const run = await TrainingRun.open(join(root, "inf"), huge);
    const error = (await trainStages(run, { stages: ["embedder"], corpus, steps: 3, checkpointEvery: 1 }).catch((e: unknown) => e)) as TrainingDivergedError;
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect(error.message).toMatch(/^step 1: parameter emotion_vae\/\S+ is not finite; the weights of the last checkpoint are kept$/);
    expect(await readdir(run.dir)).not.toContain("emotion_vae.safetensors");
  });
});

describe("a run folder", () => {
  it("is never overwritten without --resume or --force, and --force replaces only runs", async () => {
    const cfg = tinyConfig();
    const dir = join(root, "folder");
    const run = await TrainingRun.open(dir, cfg);
    await trainStages(run, { stages: ["pssl"], corpus, steps: 2 });
    await expect(TrainingRun.open(dir, cfg)).rejects.toThrow(/exists and is not empty; pass --resume to continue its training or --force to start over/);
    const before = await runWeights(dir);
    expect(before.size).toBeGreaterThan(0);
    await TrainingRun.open(dir, cfg, { force: true });
    expect(await readdir(dir)).toEqual(["config.yaml", "train-state"]);
    await expect(TrainingRun.open(join(root, "nan", "train-state"), cfg, { force: true })).rejects.toThrow(/not a training run/);
    await expect(TrainingRun.open(join(root, "missing"), cfg, { resume: true })).rejects.toThrow(/is not a training run \(no config.yaml\) to resume/);
  });

  it("holds the config, weights, state, metrics and a loss plot, and no temporary files", async () => {
    const cfg = tinyConfig();
    const run = await TrainingRun.open(join(root, "layout"), cfg);
    await trainStages(run, { stages: ["embedder"], corpus, validation, steps: 4, valEvery: 2, checkpointEvery: 2 });
    const files = (await readdir(run.dir)).sort();
    expect(files).toEqual(["config.yaml", "emotion_vae.safetensors", "loss.svg", "metrics.jsonl", "train-state"]);
    expect((await readdir(join(run.dir, "train-state"))).sort()).toEqual(["embedder", "embedder.json"]);
    expect(await readdir(join(run.dir, "train-state", "embedder"))).toEqual(["step-4"]);
    const metrics = (await readFile(join(run.dir, "metrics.jsonl"), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(metrics.filter((m) => "losses" in m).map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(metrics.filter((m) => "validation" in m).map((m) => m.step)).toEqual([2, 4]);
    const svg = await readFile(join(run.dir, "loss.svg"), "utf8");
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain("<polyline");
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });
});
