import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../test/helpers";
import { runToy2d } from "../examples/toy2d";

// The README example, end to end: train a tiny denoiser on a ring of 8 Gaussians (std 0.08), then sample it.
describe("README example: toy 2-D ring of Gaussians", () => {
  beforeAll(() => useBackend("wasm"));
  it("DDPM, DDIM and DPM-Solver++ samples land on the modes and cover all of them; guidance moves mass to y > 0", async () => {
    const r = await runToy2d({ log: (s) => console.log(s) });
    console.log(`trained in ${r.trainSeconds.toFixed(1)} s; sampling ${r.results.map((x) => x.seconds.toFixed(1)).join(", ")} s`);
    for (const { name, stats, guidance } of r.results) {
      expect(stats.onMode, name).toBeGreaterThan(0.7);
      if (guidance === 1) {
        for (const share of stats.modeShares) expect(share, `${name} mode share`).toBeGreaterThan(0.06);
        expect(Math.abs(stats.upper - 0.5), name).toBeLessThan(0.08);
      } else {
        expect(stats.upper, name).toBeGreaterThan(0.95);
      }
    }
  });
});
