import { defineConfig } from "tsup";
import { packageBuild } from "../../config/tsup";

export default defineConfig([
  // the declarations name GPUDevice: reference @webgpu/types for consumers whose tsconfig does not
  packageBuild(["src/index.ts"], { shims: true, external: ["webgpu"], dts: { banner: "/// <reference types=\"@webgpu/types\" />" } }),
  {
    // The FRdist worker: CommonJS so one file serves both the ESM and the CJS builds.
    entry: { "dtw-worker": "src/dtw-worker.ts" },
    format: ["cjs"],
    sourcemap: true,
    target: "node20",
    outExtension: () => ({ js: ".cjs" }),
  },
]);
