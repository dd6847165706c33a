import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createReactionGenerator, presetConfig } from "@perfrdiff/core";
import type { ReactionGenerator } from "@perfrdiff/core";
import { randomWeights } from "@perfrdiff/core/weights";
import { generateSynthCorpus } from "@perfrdiff/features/synth";
import { clipRecords, evaluateModelOnSplit } from "./run";
import { openEvalSplit, type EvalSplit } from "./split";
import { PredictionStore } from "./store";

const FRAMES = 100;
const OPTIONS = { k: 2, steps: 2, guidance: 2, seed: 9 };
let dir = "";
let gen: ReactionGenerator;
let split: EvalSplit;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "perfrdiff-run-"));
  await generateSynthCorpus(join(dir, "data"), { speakers: 5, listeners: 2, seed: 3, frames: FRAMES + 1, clipsPerSpeaker: 2, reactionsPerClip: 2 });
  split = await openEvalSplit(join(dir, "data"), "val", { frames: FRAMES });
  const cfg = presetConfig("small");
  gen = await createReactionGenerator({ checkpoint: { denoiser: randomWeights(cfg, "denoiser", 1), emotion_vae: randomWeights(cfg, "emotion_vae", 2) }, config: cfg, backend: "wasm" });
});
afterAll(async () => {
  gen?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("evaluateModelOnSplit", () => {
  it("a resumed evaluation reads the saved clips back and gives the uninterrupted run's metrics; per-clip records", async () => {
    const plain = await evaluateModelOnSplit(gen, split, { ...OPTIONS, metrics: { backend: "wasm" } });
    expect(plain.resumed).toBe(0);
    const n = split.corpus.items.length;
    expect(plain.perClip.FRdist.length).toBe(n);

    const saveDir = join(dir, "pred");
    const settings = { split: "val", seed: OPTIONS.seed };
    await evaluateModelOnSplit(gen, split, { ...OPTIONS, store: await PredictionStore.open(saveDir, settings, OPTIONS.k, FRAMES), metrics: { backend: "wasm" } });
    // as if killed after 3 clips: drop the others' files
    for (let i = 3; i < n; i++) await unlink(join(saveDir, `item-${String(i).padStart(5, "0")}.npy`));
    const store = await PredictionStore.open(saveDir, settings, OPTIONS.k, FRAMES);
    expect(store.count).toBe(3);
    const resumed = await evaluateModelOnSplit(gen, split, { ...OPTIONS, store, metrics: { backend: "wasm" } });
    expect(resumed.resumed).toBe(3);
    expect(resumed.predictions).toEqual(plain.predictions);
    expect(resumed.metrics).toEqual(plain.metrics);

    // per-clip records carry each item's clip and values
    const r = plain;
    const records = clipRecords(split.clips, r.perClip);
    expect(records[1]).toEqual({ item: 1, clip: split.clips[1], FRCorr: r.perClip.FRCorr[1], FRdist: r.perClip.FRdist[1], FRDiv: r.perClip.FRDiv[1], FRVar: r.perClip.FRVar[1], FRSyn: r.perClip.FRSyn[1] });
  });

  it("PMAFRG needs a personalising model", async () => {
    const p = await openEvalSplit(join(dir, "data"), "val", { frames: FRAMES, task: "pmafrg", missingHistory: "generic" });
    await expect(evaluateModelOnSplit(gen, p, OPTIONS)).rejects.toThrow(/PMAFRG needs a model with the pssl and pwsg modules/);
  });
});
