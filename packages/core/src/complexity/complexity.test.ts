import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { complexity } from "./index";
import { parseConfig } from "../index";

const cfg = parseConfig(readFileSync(new URL("../../test/fixtures/rewrite_weight.yaml", import.meta.url), "utf8"));

describe("complexity", () => {
  it("counts the official model", () => {
    const rows = Object.fromEntries(complexity(cfg).map((r) => [r.module, r]));
    console.log(complexity(cfg).map((r) => `${r.module} ${(r.parameters / 1e6).toFixed(2)} M ${(r.flops / 1e12).toFixed(3)} TFLOPs`).join("\n"));
    // PWSG full rank: the paper's 1.63 B
    expect(rows.hypernet.parameters / 1e9).toBeCloseTo(1.63, 2);
    // exact counts of the official modules (torch's sum(p.numel()) printed by test/bench_official.py)
    expect(rows.denoiser.parameters).toBe(23013401);
    expect(rows.prior.parameters).toBe(15630608);
  });

  it("kv mode generates only key/value rows", () => {
    const kv = structuredClone(cfg);
    kv.main_model!.args.modify = "kv";
    const rows = Object.fromEntries(complexity(kv).map((r) => [r.module, r]));
    // two attention branches shrink from 1536 to 1024 rows: 2 * 512 * 512 * 1025 fewer parameters
    expect(complexity(cfg).find((r) => r.module === "hypernet")!.parameters - rows.hypernet.parameters).toBe(2 * 512 * 512 * 1025);
  });
});
