/**
 * @perfrdiff/platform: the one place that knows where the code runs (Node or a browser) and how to reach WebGPU
 * there: the browser's navigator.gpu, or in Node Dawn from the optional `webgpu` package (or a given dawn.node).
 */
/// <reference types="@webgpu/types" />
export { isNode } from "./runtime";
export { exposeWebGPU, gpuHardwarePresent, nodeWebGPU, requestWebGPUDevice, webgpuApi } from "./webgpu";
export type { NodeWebGPUOptions, WebGPUApi } from "./webgpu";
