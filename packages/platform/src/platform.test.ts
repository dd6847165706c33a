import { describe, expect, it } from "vitest";
import { exposeWebGPU, isNode, nodeWebGPU, webgpuApi } from "./index";
import type { WebGPUApi } from "./index";

describe("platform", () => {
  it("knows it runs in Node", () => {
    expect(isNode).toBe(true);
  });

  it("loads each Dawn binary once per process and answers null for one that cannot load", async () => {
    expect(nodeWebGPU()).toBe(nodeWebGPU());
    await expect(nodeWebGPU({ dawn: "/nonexistent/dawn.node" })).resolves.toBeNull();
  });

  it("exposes an API as the browser globals that later lookups find", async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    const api: WebGPUApi = { gpu, globals: { GPUBufferUsage: { STORAGE: 128 } as never, GPUMapMode: { READ: 1 } as never } };
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    exposeWebGPU(api);
    expect((globalThis as unknown as { navigator: { gpu: unknown } }).navigator.gpu).toBe(gpu);
    expect((globalThis as unknown as { GPUBufferUsage: { STORAGE: number } }).GPUBufferUsage.STORAGE).toBe(128);
    expect((await webgpuApi())?.gpu).toBe(gpu);
  });
});
