/// <reference types="@webgpu/types" />
import { isNode } from "./runtime";

/** A WebGPU entry point and the constants that come with it (in browsers both are globals). */
export interface WebGPUApi {
  gpu: GPU;
  /** GPUBufferUsage, GPUMapMode, GPUShaderStage, ...: the browser's globals, or Dawn's in Node. */
  globals: Record<string, unknown> & { GPUBufferUsage: typeof GPUBufferUsage; GPUMapMode: typeof GPUMapMode };
}

export interface NodeWebGPUOptions {
  /**
   * Path of a `dawn.node` binary to load instead of the `webgpu` package (device bundles carry one outside
   * node_modules).
   */
  dawn?: string;
}

type DawnModule = { create(flags: string[]): GPU; globals: WebGPUApi["globals"] };

/**
 * Dawn's GPU objects, one per binary, kept for the life of the process: if one were garbage-collected, Dawn would
 * tear down its instance under a live device and abort the process (seen on an H100 machine as a glibc mutex abort).
 */
const dawnApis = new Map<string, Promise<WebGPUApi | null>>();

async function loadDawn(dawn: string | undefined): Promise<WebGPUApi | null> {
  let mod: DawnModule;
  try {
    if (dawn) {
      const [{ createRequire }, { resolve }] = await Promise.all([import("node:module"), import("node:path")]);
      mod = createRequire(import.meta.url)(resolve(dawn)) as DawnModule; // a relative path would be read as a package
    } else {
      // hidden from bundlers: an optional peer, resolved at run time only
      mod = (await import(/* @vite-ignore */ "webgpu" as string)) as DawnModule;
    }
  } catch {
    return null;
  }
  return { gpu: mod.create([]), globals: mod.globals };
}

/**
 * Node: WebGPU through Dawn, from the optional `webgpu` package or `options.dawn`; null when it cannot be loaded.
 * Loads each binary once per process. Does not touch globals (see {@link exposeWebGPU}).
 */
export function nodeWebGPU(options: NodeWebGPUOptions = {}): Promise<WebGPUApi | null> {
  if (!isNode) return Promise.resolve(null);
  const key = options.dawn ?? "";
  let api = dawnApis.get(key);
  if (!api) dawnApis.set(key, (api = loadDawn(options.dawn)));
  return api;
}

/**
 * The WebGPU API of this process: the browser's (or one already exposed in Node) when navigator.gpu exists, else
 * Dawn in Node; null when neither exists.
 */
export async function webgpuApi(options: NodeWebGPUOptions = {}): Promise<WebGPUApi | null> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } } & WebGPUApi["globals"];
  if (g.navigator?.gpu && g.GPUBufferUsage) return { gpu: g.navigator.gpu, globals: g };
  return nodeWebGPU(options);
}

/**
 * Makes an API visible the way browser code expects it: `navigator.gpu` and the WebGPU constants as globals. Needed
 * in Node by libraries that look for them (tfjs-webgpu registers its backend only if navigator.gpu exists when it
 * loads). Changes process-wide state: call it only when the application asked for WebGPU.
 */
export function exposeWebGPU(api: WebGPUApi): void {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu === api.gpu) return;
  Object.assign(globalThis, api.globals);
  Object.defineProperty(globalThis, "navigator", { value: { ...(g.navigator ?? {}), gpu: api.gpu }, configurable: true });
}

/**
 * Whether a hardware WebGPU adapter can exist here. On Linux, Dawn needs the Vulkan loader and a GPU device node
 * (NVIDIA's, or a DRM render node); without both, asking Dawn only makes it print warnings (software Vulkan such as
 * Debian 12's lavapipe is too old for it). True elsewhere (browsers and other systems decide for themselves).
 */
export async function gpuHardwarePresent(): Promise<boolean> {
  if (!isNode || process.platform !== "linux") return true;
  const { existsSync, readdirSync } = await import("node:fs");
  let render = false;
  try {
    render = readdirSync("/dev/dri").some((f) => f.startsWith("renderD"));
  } catch {
    render = false;
  }
  if (!existsSync("/dev/nvidia0") && !render) return false;
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
    "/lib/x86_64-linux-gnu",
  ];
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
}

/**
 * A high-performance WebGPU device with the adapter's largest buffer and workgroup-memory limits, and the API it came
 * from (for its usage constants); null when no adapter exists (no GPU, or Node without the `webgpu` package).
 */
export async function requestWebGPUDevice(options: NodeWebGPUOptions = {}): Promise<{ device: GPUDevice; api: WebGPUApi } | null> {
  if (!(await gpuHardwarePresent())) return null;
  const api = await webgpuApi(options);
  if (!api) return null;
  const adapter = await api.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) return null;
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    },
  });
  return { device, api };
}
