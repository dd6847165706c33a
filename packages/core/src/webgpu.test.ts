/**
 * The WebGPU kernels (fused forward passes, their backward passes, AdamW) and the modules' parity with the official
 * fixtures on a real WebGPU implementation without a GPU: Dawn (the `webgpu` package) over SwiftShader, Chromium's
 * CPU Vulkan driver, which test/swiftshader.sh fetches (CI does). One vitest case per check of
 * test/webgpu-checks.ts; the official-size ones take minutes on SwiftShader and run on the GPU machine
 * (bench/device.sh checks), or here with PERFRDIFF_WEBGPU_FULL=1. vitest.config.ts points this process's Vulkan loader
 * at SwiftShader (it must be set when the process starts).
 * Skipped only when SwiftShader was not fetched and PERFRDIFF_SWIFTSHADER is unset; set, it must be there.
 */
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { webgpuChecks } from "../test/webgpu-checks";
import { useBackend } from "./index";

const fixtures = fileURLToPath(new URL("../test/fixtures/parity", import.meta.url));
const swiftshader = process.env.PERFRDIFF_VULKAN_ICD; // set by vitest.config.ts when SwiftShader is there
const full = process.env.PERFRDIFF_WEBGPU_FULL === "1";

describe.skipIf(!swiftshader)("WebGPU kernels on SwiftShader", () => {
  beforeAll(async () => {
    expect(await useBackend("webgpu")).toBe("webgpu");
  });
  for (const check of webgpuChecks(fixtures)) {
    it.skipIf(check.officialSize && !full)(check.name, async () => {
      const r = await check.run();
      expect(r.value, r.detail).toBeLessThanOrEqual(r.limit);
    });
  }
});
