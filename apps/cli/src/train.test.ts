/**
 * `perfrdiff train` on a synthetic REACT-layout corpus with the tiny test model: Ctrl-C saves and returns (exit 0),
 * --resume continues to the same weights as an uninterrupted run, and a run folder is never overwritten by accident.
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSynthCorpus } from "@perfrdiff/features/synth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TINY_YAML } from "../../../packages/core/test/tiny-training";
import { runTrain, type TrainCliOptions } from "./commands/train";
import { StageProgress } from "./progress";

const tmp = mkdtempSync(join(tmpdir(), "perfrdiff-train-cli-"));
const data = join(tmp, "synth");
const config = join(tmp, "tiny.yaml");

beforeAll(async () => {
  // 41 frames: the tiny model's clip_length (40) plus the 751st-frame convention of the REACT files
  await generateSynthCorpus(data, { speakers: 3, listeners: 2, seed: 5, frames: 41, reactionsPerClip: 2 });
  writeFileSync(config, TINY_YAML);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const opts = (out: string, extra: Partial<TrainCliOptions> = {}): TrainCliOptions => ({ data, out: join(tmp, out), config, steps: "4", backend: "cpu", ...extra });

/** A progress sink that runs `onUpdate` at each step report (the tests' stand-in for a user pressing Ctrl-C). */
class Steps extends StageProgress {
  constructor(private readonly onUpdate: (stage: string, done: number) => void) {
    super();
  }
  override update(stage: string, done: number): void {
    this.onUpdate(stage, done);
  }
}

const weightBytes = (out: string) =>
  Object.fromEntries(
    readdirSync(join(tmp, out))
      .filter((f) => f.endsWith(".safetensors"))
      .map((f) => [f, readFileSync(join(tmp, out, f)).toString("base64")]),
  );

describe("perfrdiff train", () => {
  it("Ctrl-C finishes the step, saves a checkpoint and returns; --resume reaches the uninterrupted run's weights", async () => {
    const whole = await runTrain("gafrg", opts("whole", { init: undefined }), new Steps(() => {}), new EventEmitter()).catch((e: Error) => e);
    // gafrg needs the emotion VAE: the message says where it comes from
    expect((whole as Error).message).toMatch(/stage gafrg needs trained emotion_vae weights: train its stage first \(perfrdiff train embedder into this run\), or give --init DIR/);

    const a = await runTrain("all", opts("all"), new Steps(() => {}), new EventEmitter());
    expect(a.stopped).toBe(false);
    expect(a.stages.map((s) => [s.stage, s.steps])).toEqual([["embedder", 4], ["pssl", 4], ["gafrg", 4], ["pwsg", 4]]);

    const signals = new EventEmitter();
    const b = await runTrain("all", opts("interrupted"), new Steps((stage, done) => stage === "gafrg" && done === 2 && signals.emit("SIGINT")), signals);
    expect(b.stopped).toBe(true);
    expect(b.stages.map((s) => [s.stage, s.steps])).toEqual([["embedder", 4], ["pssl", 4], ["gafrg", 2]]);
    const c = await runTrain("all", { ...opts("interrupted", { config: undefined }), resume: true }, new Steps(() => {}), new EventEmitter());
    expect(c.stages.map((s) => [s.stage, s.steps, s.skipped])).toEqual([["embedder", 4, true], ["pssl", 4, true], ["gafrg", 4, false], ["pwsg", 4, false]]);
    expect(weightBytes("interrupted")).toEqual(weightBytes("all"));
    expect(signals.listenerCount("SIGINT")).toBe(0); // the handler is removed when training ends
  }, 120_000);

  it("never overwrites a run without --resume or --force, and names bad options", async () => {
    const sink = new Steps(() => {});
    await runTrain("embedder", opts("kept", { steps: "1" }), sink, new EventEmitter());
    const before = weightBytes("kept");
    await expect(runTrain("embedder", opts("kept", { steps: "1" }), sink, new EventEmitter())).rejects.toThrow(/exists and is not empty; pass --resume to continue its training or --force to start over/);
    expect(weightBytes("kept")).toEqual(before);
    await expect(runTrain("everything", opts("x"), sink, new EventEmitter())).rejects.toThrow("stage must be one of embedder, pssl, gafrg, pwsg, all, got 'everything'");
    await expect(runTrain("pssl", opts("x", { epochs: "2" }), sink, new EventEmitter())).rejects.toThrow("give --epochs or --steps, not both");
    await expect(runTrain("pssl", opts("x", { resume: true, force: true }), sink, new EventEmitter())).rejects.toThrow("give --resume or --force, not both");
    await expect(runTrain("pssl", opts("x", { backend: "tpu" }), sink, new EventEmitter())).rejects.toThrow(/--backend must be one of/);
    await expect(runTrain("pssl", opts("y", { data: join(tmp, "nowhere") }), sink, new EventEmitter())).rejects.toThrow(/nowhere/);
  }, 60_000);
});
