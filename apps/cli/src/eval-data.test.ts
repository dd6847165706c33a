/**
 * `perfrdiff eval` on a dataset (a tiny model trained for a few steps on a synthetic corpus, and the REACT baselines)
 * and `perfrdiff compare` on its per-clip files: the ground truth scores FRdist 0, a killed evaluation resumes to the
 * same numbers, PMAFRG personalises, and bad inputs are named before any long work.
 */
import { EventEmitter } from "node:events";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSynthCorpus } from "@perfrdiff/features/synth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY_YAML } from "../../../packages/core/test/tiny-training";
import { runEval, type EvalCliOptions } from "./commands/eval";
import { runTrain } from "./commands/train";
import { StageProgress } from "./progress";

const cli = join(__dirname, "..", "dist", "cli.js");
const tmp = mkdtempSync(join(tmpdir(), "perfrdiff-eval-cli-"));
const data = join(tmp, "synth");
const run = join(tmp, "run");
const FRAMES = "40"; // the tiny model's clip_length

beforeAll(async () => {
  await generateSynthCorpus(data, { speakers: 4, listeners: 2, seed: 5, frames: 41, reactionsPerClip: 2 });
  writeFileSync(join(tmp, "tiny.yaml"), TINY_YAML);
  await runTrain("all", { data, out: run, config: join(tmp, "tiny.yaml"), steps: "3", backend: "cpu" }, new StageProgress(), new EventEmitter());
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const model = (extra: Partial<EvalCliOptions> = {}): EvalCliOptions => ({ checkpoint: run, data, k: "2", steps: "2", backend: "wasm", workers: "0", ...extra });

describe("perfrdiff eval on a dataset", () => {
  it("baselines: the real listener is at FRdist 0, random and mime are not; meanfr reads the train split", async () => {
    const base = (baseline: string, extra: Partial<EvalCliOptions> = {}) => runEval({ baseline, data, frames: FRAMES, k: "3", workers: "0", backend: "wasm", ...extra });
    const gt = await base("gt");
    expect(gt.metrics.FRdist).toBe(0);
    expect(gt.metrics.FRDiv).toBe(0);
    expect(gt.task).toBe("mafrg");
    const random = await base("random");
    expect(random.metrics.FRdist).toBeGreaterThan(1);
    expect(random.metrics.FRCorr).toBeLessThan(gt.metrics.FRCorr);
    const [mime, late] = [await base("mime"), await base("mime", { lag: "10" })];
    expect(late.metrics.FRCorr).not.toBe(mime.metrics.FRCorr);
    expect((await base("meanfr")).metrics.FRVar).toBe(0); // one frame repeated: no variation over time
    await expect(base("gt", { lag: "3" })).rejects.toThrow("--lag delays the mime baseline only");
    await expect(base("oracle")).rejects.toThrow(/--baseline must be one of gt, random, mime, meanseq, meanfr/);
    await expect(base("meanseq", { trainSplit: "nothere" })).rejects.toThrow(/missing split list: .*nothere\.csv/);
  }, 60_000);

  it("a model: per-clip file, a killed run resumed from --save-pred to the same metrics, nothing overwritten", async () => {
    const perClip = join(tmp, "generic.jsonl");
    const save = join(tmp, "pred");
    const whole = await runEval(model({ perClip, savePred: save }));
    expect(whole.task).toBe("mafrg");
    expect(whole.resumed).toBe(0);
    const lines = readFileSync(perClip, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.length).toBe(whole.clips);
    expect(Object.keys(lines[0])).toEqual(["item", "clip", "FRCorr", "FRdist", "FRDiv", "FRVar", "FRSyn"]);
    const mean = lines.reduce((a, l) => a + l.FRdist, 0) / lines.length;
    expect(mean).toBeCloseTo(whole.metrics.FRdist, 9);
    // killed after two clips
    for (const f of readdirSync(save).filter((f) => f.startsWith("item-")).slice(2)) unlinkSync(join(save, f));
    const resumed = await runEval(model({ savePred: save }));
    expect(resumed.resumed).toBe(2);
    expect(resumed.metrics).toEqual(whole.metrics);
    await expect(runEval(model({ perClip }))).rejects.toThrow(/generic\.jsonl exists; pass --force/);
    await expect(runEval(model({ savePred: save, seed: "3" }))).rejects.toThrow(/other settings \(seed: 0 there, 3 now\)/);
  }, 120_000);

  it("PMAFRG personalises (other reactions than MAFRG's) and compare tests the two per-clip files", async () => {
    const [g, p] = [join(tmp, "g.jsonl"), join(tmp, "p.jsonl")];
    const generic = await runEval(model({ perClip: g, task: "mafrg", neighbours: undefined }));
    const personal = await runEval(model({ perClip: p, task: "pmafrg", missingHistory: "generic" }));
    expect(personal.task).toBe("pmafrg");
    expect(personal.neighbours!.derived).toBe(true);
    expect(personal.metrics.FRDiv).not.toBe(generic.metrics.FRDiv);
    const r = spawnSync(process.execPath, [cli, "compare", p, g, "--json"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(["FRCorr", "FRdist", "FRDiv", "FRVar", "FRSyn"]);
    expect(out.FRdist.test).toBe("paired");
    expect(out.FRdist.df).toBe(generic.clips - 1);
    expect(out.FRdist.mark).toMatch(/^([+-]\(\*{1,3}\)|N\.A\.)$/);
    const table = spawnSync(process.execPath, [cli, "compare", p, g], { encoding: "utf8" });
    expect(table.stdout).toMatch(/paired two-tailed t-tests, 95%/);
    expect(table.stdout).toMatch(/A vs B/);
    const bad = join(tmp, "bad.jsonl");
    writeFileSync(bad, '{"item": 0, "clip": "a", "FRdist": 1}\nnot json\n');
    const e = spawnSync(process.execPath, [cli, "compare", bad, g], { encoding: "utf8" });
    expect(e.status).toBe(1);
    expect(e.stderr).toMatch(/bad\.jsonl, line 2: not JSON/);
  }, 120_000);

  it("names bad inputs before any long work", async () => {
    await expect(runEval({ data })).rejects.toThrow(/give exactly one of --pred FILE .*--checkpoint DIR .*--baseline NAME/);
    await expect(runEval({ checkpoint: run })).rejects.toThrow(/--checkpoint needs --data DIR/);
    await expect(runEval(model({ task: "online" }))).rejects.toThrow(/--task must be one of mafrg, pmafrg/);
    await expect(runEval(model({ frames: "35" }))).rejects.toThrow(/--frames 35 must be a multiple of the model's 10-frame window/);
    await expect(runEval(model({ checkpoint: join(tmp, "nowhere") }))).rejects.toThrow(/nowhere/);
    // a checkpoint without the modules PMAFRG needs
    const generic = join(tmp, "generic-weights");
    const { cpSync } = await import("node:fs");
    cpSync(run, generic, { recursive: true });
    for (const m of ["pssl", "hypernet"]) rmSync(join(generic, `${m}.safetensors`), { force: true });
    await expect(runEval(model({ checkpoint: generic, task: "pmafrg" }))).rejects.toThrow(/pssl|hypernet/);
    await expect(runEval(model({ neighbours: join(data, "neighbour_emotion_train.npy") }))).rejects.toThrow(/neighbour_emotion_train\.npy: shape \[\d+, \d+\]; expected/);
  }, 60_000);
});
