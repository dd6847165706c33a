import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: ["src/index.ts"],
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: true,
    clean: true,
    shims: true,
    target: "node20",
    external: ["webgpu"],
  },
  {
    // The FRdist worker: CommonJS so one file serves both the ESM and the CJS builds.
    entry: { "dtw-worker": "src/dtw-worker.ts" },
    format: ["cjs"],
    sourcemap: true,
    target: "node20",
    outExtension: () => ({ js: ".cjs" }),
  },
]);
