/**
 * The WebGPU kernels (fused forward passes, their backward passes, AdamW) and the modules' parity with the official
 * fixtures, on a real WebGPU implementation without a GPU: Dawn (the `webgpu` package) over SwiftShader, Chromium's
 * CPU Vulkan driver, which test/swiftshader.sh fetches (CI does). The checks are bench/device-webgpu.mjs's small
 * ones (the device runs them all): fused vs composed outputs and gradients against tfjs autodiff, each within its
 * tolerance. They run in a child process, as the Vulkan loader's path must be set when a process starts.
 * Skipped only when SwiftShader was not fetched and PERFRDIFF_SWIFTSHADER is unset; set, it must be there.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const core = fileURLToPath(new URL("../", import.meta.url));
const swiftshader = process.env.PERFRDIFF_SWIFTSHADER ?? join(core, "../../.swiftshader");
const icd = join(swiftshader, "usr/lib/chromium/vk_swiftshader_icd.json");
if (process.env.PERFRDIFF_SWIFTSHADER && !existsSync(icd)) {
  throw new Error(`PERFRDIFF_SWIFTSHADER=${swiftshader} has no ${icd}: run packages/core/test/swiftshader.sh`);
}

describe.skipIf(!existsSync(icd) || process.platform !== "linux" || process.arch !== "x64")("WebGPU kernels on SwiftShader", () => {
  it("match the official fixtures and the composed tfjs ops, values and gradients", async () => {
    const work = mkdtempSync(join(tmpdir(), "perfrdiff-webgpu-"));
    try {
      const script = join(work, "checks.mjs");
      await build({
        entryPoints: [join(core, "bench/device-webgpu.mjs")],
        bundle: true,
        platform: "node",
        format: "esm",
        mainFields: ["main", "module"],
        outfile: script,
        logLevel: "warning",
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      });
      const dawn = join(dirname(createRequire(import.meta.url).resolve("webgpu/package.json")), "dist/linux-x64/dawn.node");
      const run = spawnSync(process.execPath, [script, join(core, "test/fixtures/parity"), dawn], {
        env: {
          ...process.env,
          SMALL_ONLY: "1",
          VK_DRIVER_FILES: icd,
          LD_LIBRARY_PATH: [join(swiftshader, "usr/lib/x86_64-linux-gnu"), process.env.LD_LIBRARY_PATH].filter(Boolean).join(":"),
        },
        encoding: "utf8",
        timeout: 15 * 60_000,
      });
      const out = `${run.stdout}\n${run.stderr}`;
      expect(run.status, out).toBe(0);
      expect(out).toMatch(/^backend webgpu$/m);
      expect(out).not.toMatch(/^FAIL/m);
      // parity (6), attention values and the gradient of every input (17), LayerNorm gradients (9), AdamW (6)
      expect(out.match(/^ok /gm)?.length, out).toBe(38);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 20 * 60_000);
});
