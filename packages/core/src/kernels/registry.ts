/**
 * The one place core's kernels are registered with tfjs: each backend folder lists its kernels and gradients, and
 * {@link registerKernels} registers a backend's set once, when that backend is chosen (core's useBackend calls it;
 * an application that picks its backend with tf.setBackend calls it itself). Ops ask {@link hasKernel} and compose
 * tfjs ops where the answer is no, so every backend runs every model, and our kernels are only a faster route.
 */
import * as tf from "@tensorflow/tfjs";
import { wasmGradients, wasmKernels } from "./wasm/index";
import { webgpuGradients, webgpuKernels } from "./webgpu/index";

interface KernelSet {
  kernels: tf.KernelConfig[];
  gradients: tf.GradConfig[];
  /** Whether setFusedKernels switches the set (fused replacements of composed ops), or it always runs. */
  fused: boolean;
}

const KERNEL_SETS: Record<string, KernelSet> = {
  webgpu: { kernels: webgpuKernels, gradients: webgpuGradients, fused: true },
  wasm: { kernels: wasmKernels, gradients: wasmGradients, fused: false },
};

const FUSED_KERNELS = new Set(Object.values(KERNEL_SETS).flatMap((s) => (s.fused ? s.kernels.map((k) => k.kernelName) : [])));

let fusedEnabled = true;

/**
 * Registers core's kernels for `backend` (no-op for backends without any, and when already registered). Kernels are
 * registered per backend name, so this may run before the backend initialises.
 */
export function registerKernels(backend: string): void {
  const set = KERNEL_SETS[backend];
  if (!set) return;
  for (const k of set.kernels) if (!tf.getKernel(k.kernelName, k.backendName)) tf.registerKernel(k);
  for (const g of set.gradients) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
}

/** Whether ops should run core kernel `name`: registered for the active backend, and not switched off. */
export function hasKernel(name: string): boolean {
  if (!fusedEnabled && FUSED_KERNELS.has(name)) return false;
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/**
 * Turns the fused WebGPU kernels on or off (default on); off runs the composed tfjs ops, the same math, for
 * comparisons and benchmarks. Returns the previous setting.
 */
export function setFusedKernels(on: boolean): boolean {
  const was = fusedEnabled;
  fusedEnabled = on;
  return was;
}
