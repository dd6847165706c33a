import type { Command } from "commander";

interface ComplexityCliOptions {
  config?: string;
  k?: string;
  frames?: string;
  steps?: string;
  rank?: string;
  json?: boolean;
}

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${v}'`);
  return n;
};

export function registerComplexity(program: Command): void {
  program
    .command("complexity")
    .description(
      "Print parameters and FLOPs per module (the paper's Table 11), computed from the model configuration: " +
        "parameters from the official parameter shapes, FLOPs from every matrix product of the forward passes " +
        "(guided denoiser = 2 branches).",
    )
    .option("--config <yaml>", "official YAML; default: the official settings")
    .option("--k <n>", "reactions per clip", "10")
    .option("--frames <n>", "clip length in frames", "750")
    .option("--steps <n>", "sampler steps (default: the config's num_inference_timesteps)")
    .option("--rank <r>", "count the low-rank PWSG variant with this rank instead of the full-rank one")
    .option("--json", "print JSON")
    .action(async (o: ComplexityCliOptions) => {
      const core = { ...(await import("@perfrdiff/core")), ...(await import("@perfrdiff/core/complexity")) };
      const cfg = o.config ? await core.loadConfig(o.config) : core.officialConfig();
      const rows = core.complexity(cfg, {
        k: int("--k", o.k),
        frames: int("--frames", o.frames),
        steps: int("--steps", o.steps),
        rank: int("--rank", o.rank),
      });
      if (o.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const fmt = (n: number, unit: number, s: string) => `${(n / unit).toFixed(2)} ${s}`;
      console.log(["module".padEnd(12), "params".padStart(12), "FLOPs".padStart(14), "  per"].join(""));
      for (const r of rows) {
        const p = r.parameters >= 1e9 ? fmt(r.parameters, 1e9, "B") : fmt(r.parameters, 1e6, "M");
        const f = r.flops >= 1e12 ? fmt(r.flops, 1e12, "TFLOPs") : r.flops >= 1e9 ? fmt(r.flops, 1e9, "GFLOPs") : fmt(r.flops, 1e6, "MFLOPs");
        console.log([r.module.padEnd(12), p.padStart(12), f.padStart(14), `  ${r.per}`].join(""));
      }
    });
}
