import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { TEST_TIMEOUTS } from "../../config/vitest";

// WebGPU without a GPU for src/webgpu.test.ts: Dawn over SwiftShader (test/swiftshader.sh fetches it into
// <repo>/.swiftshader, or PERFRDIFF_SWIFTSHADER names the folder). The Vulkan loader reads its driver list and
// library path when the test process starts, so they are set here, for the forked test workers.
const repo = fileURLToPath(new URL("../../", import.meta.url));
const dir = process.env.PERFRDIFF_SWIFTSHADER ?? join(repo, ".swiftshader");
const icd = join(dir, "usr/lib/chromium/vk_swiftshader_icd.json");
if (process.env.PERFRDIFF_SWIFTSHADER && !existsSync(icd)) {
  throw new Error(`PERFRDIFF_SWIFTSHADER=${dir} has no ${icd}: run packages/core/test/swiftshader.sh`);
}
const env: Record<string, string> =
  existsSync(icd) && process.platform === "linux" && process.arch === "x64"
    ? {
        PERFRDIFF_VULKAN_ICD: icd,
        VK_DRIVER_FILES: icd,
        LD_LIBRARY_PATH: [join(dir, "usr/lib/x86_64-linux-gnu"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
      }
    : {};

export default defineConfig({ test: { ...TEST_TIMEOUTS, env } });
