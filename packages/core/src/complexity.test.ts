import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { complexity, parseConfig } from "./index";

const cfg = parseConfig(readFileSync(new URL("../test/fixtures/rewrite_weight.yaml", import.meta.url), "utf8"));

describe("complexity", () => {
  it("counts the official model", () => {
    const rows = Object.fromEntries(complexity(cfg).map((r) => [r.module, r]));
    console.log(complexity(cfg).map((r) => `${r.module} ${(r.parameters / 1e6).toFixed(2)} M ${(r.flops / 1e12).toFixed(3)} TFLOPs`).join("\n"));
    // PWSG full rank: the paper's 1.63 B
    expect(rows.hypernet.parameters / 1e9).toBeCloseTo(1.63, 2);
  });
});
