import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // import.meta.url in the CommonJS build (the face model resolves its weights folder from it).
  shims: true,
  // Optional dependency: must stay a runtime import (it locates its platform binary relative to itself).
  external: ["@ffmpeg-installer/ffmpeg"],
});
