/**
 * `perfrdiff ablation` end to end on a tiny synthetic corpus (a few steps per stage): every row trained into its own
 * run with its own configuration, the shared modules trained once, both tasks scored, and a rerun that trains nothing
 * and reads the saved predictions back to the same table.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "@perfrdiff/core";
import { generateSynthCorpus } from "@perfrdiff/features/synth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAblationCommand, type AblationCliOptions } from "./commands/ablation";

const tmp = mkdtempSync(join(tmpdir(), "perfrdiff-ablation-"));
const data = join(tmp, "synth");
beforeAll(async () => {
  await generateSynthCorpus(data, { speakers: 3, listeners: 2, seed: 4, frames: 151, clipsPerSpeaker: 2, reactionsPerClip: 2 });
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const options = (extra: Partial<AblationCliOptions> = {}): AblationCliOptions => ({
  table: "9",
  data,
  out: join(tmp, "table9"),
  frames: "150",
  embedderSteps: "2",
  psslSteps: "2",
  gafrgSteps: "3",
  pwsgSteps: "2",
  k: "2",
  steps: "2",
  ...extra,
});

describe("perfrdiff ablation", () => {
  it("trains each row with its configuration, scores MAFRG and PMAFRG, and resumes without training again", async () => {
    const r = await runAblationCommand(options());
    expect(r.rows.map((row) => row.label)).toEqual(["without guidance", "with guidance"]);
    const out = join(tmp, "table9");
    const cfg = (row: string) => parseConfig(readFileSync(join(out, row, "config.yaml"), "utf8")).diffusion_decoder.args;
    expect([cfg("no-cfg").guidance_scale, cfg("no-cfg").s_audio_enc_drop_prob]).toEqual([1, 0]);
    expect([cfg("cfg").guidance_scale, cfg("cfg").s_audio_enc_drop_prob]).toEqual([2, 0.2]);
    for (const row of r.rows) {
      for (const task of ["mafrg", "pmafrg"] as const) {
        expect(Number.isFinite(row.metrics[task]!.FRdist), `${row.name} ${task}`).toBe(true);
        expect(row.perClip[task]!.length).toBe(r.clips);
      }
    }
    // different models: different reactions
    expect(r.rows[0]!.metrics.mafrg!.FRdist).not.toBe(r.rows[1]!.metrics.mafrg!.FRdist);
    // the VAE and PSSL trained once, in base/, and given to each row
    expect(readFileSync(join(out, "cfg", "pssl.safetensors"))).toEqual(readFileSync(join(out, "base", "pssl.safetensors")));
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8"));
    expect(results.rows[1].metrics.pmafrg.FRCorr).toBe(r.rows[1]!.metrics.pmafrg!.FRCorr);

    const trained = statSync(join(out, "cfg", "metrics.jsonl")).mtimeMs;
    const again = await runAblationCommand(options());
    expect(statSync(join(out, "cfg", "metrics.jsonl")).mtimeMs).toBe(trained);
    expect(again.rows.map((row) => row.metrics)).toEqual(r.rows.map((row) => row.metrics));
  }, 300_000);

  it("names a table it does not know and bad options before any work", async () => {
    await expect(runAblationCommand(options({ table: "5" }))).rejects.toThrow("--table must be one of 6, 7, 8, 9, got '5'");
    await expect(runAblationCommand(options({ task: "online" }))).rejects.toThrow("--task must be mafrg, pmafrg or both, got 'online'");
    await expect(runAblationCommand(options({ gafrgSteps: "0" }))).rejects.toThrow("--gafrg-steps must be a whole number >= 1, got '0'");
    await expect(runAblationCommand(options({ preset: "tiny" }))).rejects.toThrow("--preset must be one of official, small, got 'tiny'");
  });
});
