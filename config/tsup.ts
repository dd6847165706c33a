// The build every package shares: ESM + CommonJS + type declarations for Node 20, one entry per public sub-path.
import type { Options } from "tsup";

export function packageBuild(entry: Options["entry"] = ["src/index.ts"], extra: Options = {}): Options {
  // splitting in both formats: sub-path entries then share one copy of module state (kernel registry, caches)
  return { entry, format: ["esm", "cjs"], dts: true, sourcemap: true, clean: true, splitting: true, target: "node20", ...extra };
}
