import { defineConfig } from "vite";

// the page: page/index.html and its script, built into dist/page (the server serves it)
export default defineConfig({
  root: "page",
  base: "./",
  build: { outDir: "../dist/page", emptyOutDir: true, target: "es2022" },
  logLevel: "warn",
});
