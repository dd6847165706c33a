/** Core's wasm kernels, registered by kernels/registry.ts. */
import type * as tf from "@tensorflow/tfjs";
import { batchMatMulGradient, batchMatMulKernel } from "./batch-matmul";

export const wasmKernels: tf.KernelConfig[] = [batchMatMulKernel];
export const wasmGradients: tf.GradConfig[] = [batchMatMulGradient];
