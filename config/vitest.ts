// The test settings every package shares.
import { defineConfig } from "vitest/config";

// The CI machine has 2 slow cores and runs packages one after another; model tests there take several times longer
// than on a workstation, so the 5 s default would fail correct code.
export const TEST_TIMEOUTS = { testTimeout: 120_000, hookTimeout: 120_000 };

export default defineConfig({ test: TEST_TIMEOUTS });
