import { defineConfig } from "tsup";

// the server (the page is built by vite into dist/page)
export default defineConfig({
  entry: ["src/server.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: false,
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
});
