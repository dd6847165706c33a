// WebGPU in Node from a given Dawn binary (dawn.node): the device bundle carries one outside node_modules, so core's
// useBackend("webgpu"), which loads the `webgpu` package, cannot find it. Shared by the bench scripts.
import { createRequire } from "node:module";
import { resolve } from "node:path";

/** Puts Dawn on navigator.gpu, then loads tfjs-webgpu (it registers only when an adapter API exists as it loads). */
export async function installDawn(dawnPath) {
  const { create, globals } = createRequire(import.meta.url)(resolve(dawnPath)); // a relative path would be read as a package name
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true });
  await import("@tensorflow/tfjs-backend-webgpu");
}
