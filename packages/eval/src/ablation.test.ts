import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { presetConfig } from "@perfrdiff/core";
import type { PerFRDiffConfig } from "@perfrdiff/core";
import { ABLATION_TABLES, ablationConfig, ablationMarkdown } from "./ablation";
import type { AblationResult, AblationTableNumber } from "./ablation";

/** The settings of a config that differ from the small preset's, as "section.key": value. */
function changes(cfg: PerFRDiffConfig): Record<string, unknown> {
  const small = presetConfig("small") as unknown as Record<string, Record<string, Record<string, unknown>>>;
  const c = cfg as unknown as Record<string, Record<string, Record<string, unknown>>>;
  const out: Record<string, unknown> = {};
  for (const section of ["diffusion_decoder", "diffusion_prior", "main_model", "person_specific", "latent_embedder"]) {
    for (const part of ["args", "scheduler"]) {
      for (const [k, v] of Object.entries(c[section]?.[part] ?? {})) {
        if (JSON.stringify(v) !== JSON.stringify(small[section]?.[part]?.[k])) out[`${section}.${part}.${k}`] = v;
      }
    }
  }
  return out;
}

describe("the paper's ablations", () => {
  it("every row's YAML changes exactly what its row is about, over the small preset", async () => {
    const rows = async (t: AblationTableNumber) => Object.fromEntries(await Promise.all(ABLATION_TABLES[t].rows.map(async (r) => [r.name, changes(await ablationConfig(t, r.name))])));
    const off = { "diffusion_decoder.args.s_audio_enc_drop_prob": 1, "diffusion_decoder.args.s_3dmm_enc_drop_prob": 1, "diffusion_decoder.args.s_latent_embed_drop_prob": 1 };
    const only = (...keep: string[]) => Object.fromEntries(Object.entries(off).filter(([k]) => !keep.some((x) => k.includes(x))));
    expect(await rows(6)).toEqual({
      audio: only("audio"),
      "3dmm": only("3dmm"),
      emotion: only("latent"),
      "audio-3dmm": only("audio", "3dmm"),
      "audio-emotion": only("audio", "latent"),
      "3dmm-emotion": only("3dmm", "latent"),
      all: {},
    });
    expect(await rows(7)).toEqual({ weight: { "main_model.args.predict": "weight" }, offset: { "main_model.args.predict": "offset" }, shift: {} });
    expect(await rows(8)).toEqual({ noise: { "diffusion_decoder.scheduler.predict": "epsilon" }, x0: {} });
    expect(await rows(9)).toEqual({
      "no-cfg": {
        "diffusion_decoder.args.s_audio_enc_drop_prob": 0,
        "diffusion_decoder.args.s_3dmm_enc_drop_prob": 0,
        "diffusion_decoder.args.s_latent_embed_drop_prob": 0,
        "diffusion_decoder.args.guidance_scale": 1,
      },
      cfg: {},
    });
  });

  it("lists every YAML of the folder in a table, and a row's YAML extends the preset asked for", async () => {
    const files = readdirSync(fileURLToPath(new URL("../ablations/", import.meta.url))).sort();
    const named = Object.entries(ABLATION_TABLES).flatMap(([t, spec]) => spec.rows.map((r) => `table${t}-${r.name}.yaml`)).sort();
    expect(files).toEqual(named);
    const official = await ablationConfig(8, "noise", "official");
    expect(official.diffusion_decoder.args.latent_dim).toBe(512);
    expect(official.diffusion_decoder.scheduler.predict).toBe("epsilon");
  });

  it("prints the table with a column per metric and task, the better side marked", () => {
    const m = (x: number) => ({ FRCorr: x, FRdist: 10 * x, FRDiv: x, FRDvs: x, FRVar: x, FRSyn: 5, FRRea: 1, convention: "official" as const });
    const r: AblationResult = {
      table: 8,
      title: ABLATION_TABLES[8].title,
      split: "val",
      clips: 4,
      k: 2,
      rows: [
        { name: "noise", label: "noise (epsilon)", config: "", run: "", metrics: { mafrg: m(0.5), pmafrg: m(0.25) }, perClip: {} },
        { name: "x0", label: "clean reaction (x0)", config: "", run: "", metrics: { mafrg: m(1.5) }, perClip: {} },
      ],
    };
    const lines = ablationMarkdown(r).split("\n");
    expect(lines[0]).toBe("Table 8: what the denoiser predicts (val split, 4 clips, K = 2)");
    expect(lines[2]).toBe(
      "| row | MAFRG FRCorr ↑ | MAFRG FRdist ↓ | MAFRG FRDiv ↑ | MAFRG FRDvs ↑ | MAFRG FRVar ↑ | MAFRG FRSyn ↓ | PMAFRG FRCorr ↑ | PMAFRG FRdist ↓ | PMAFRG FRDiv ↑ | PMAFRG FRDvs ↑ | PMAFRG FRVar ↑ | PMAFRG FRSyn ↓ |",
    );
    expect(lines[4]).toBe("| noise (epsilon) | 0.5000 | 5.0000 | 0.5000 | 0.5000 | 0.5000 | 5.0000 | 0.2500 | 2.5000 | 0.2500 | 0.2500 | 0.2500 | 5.0000 |");
    expect(lines[5]).toBe("| clean reaction (x0) | 1.5000 | 15.00 | 1.5000 | 1.5000 | 1.5000 | 5.0000 |  |  |  |  |  |  |");
  });
});
