import { defineConfig } from "tsup";

// Builds the README example for `pnpm example`; the package itself and tfjs stay external (resolved at run time).
export default defineConfig({
  entry: { toy2d: "examples/toy2d.ts" },
  format: ["cjs"],
  outDir: ".example",
  dts: false,
  clean: true,
  target: "node20",
  external: [/^@tensorflow\//, "@perfrdiff/diffusion"],
});
