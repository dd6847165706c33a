import { defineConfig } from "vitest/config";

// The CI machine has 2 slow cores and runs packages one after another; model tests there take several times longer
// than on a workstation, so the 5 s default would fail correct code.
export default defineConfig({
  test: { testTimeout: 120_000, hookTimeout: 120_000 },
});
