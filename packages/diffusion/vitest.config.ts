import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { TEST_TIMEOUTS } from "../../config/vitest";

export default defineConfig({
  resolve: {
    // The example imports the package by name, as a user would; tests run it against the sources.
    alias: { "@perfrdiff/diffusion": fileURLToPath(new URL("./src/index.ts", import.meta.url)) },
  },
  test: TEST_TIMEOUTS,
});
