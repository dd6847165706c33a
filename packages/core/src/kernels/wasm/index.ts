/** Core's wasm kernels, registered by kernels/registry.ts. */
import type * as tf from "@tensorflow/tfjs";
import { adamWMomentsKernel } from "./adamw-moments";
import { adamWParamKernel } from "./adamw-param";
import { batchMatMulGradient, batchMatMulKernel } from "./batch-matmul";

export const wasmKernels: tf.KernelConfig[] = [batchMatMulKernel, adamWMomentsKernel, adamWParamKernel];
export const wasmGradients: tf.GradConfig[] = [batchMatMulGradient];
