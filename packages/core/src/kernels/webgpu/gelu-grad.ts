/** GELU's derivative times the upstream gradient, elementwise on WebGPU: dy * (Phi(x) + x phi(x)). */
import type * as tf from "@tensorflow/tfjs";
import { GELU_GRAD } from "../names";
import { erfSnippet } from "./gelu";
import { elementwiseProgram, kernelFunc, runProgram, sizeOf } from "./program";

export const geluGradKernel: tf.KernelConfig = {
  kernelName: GELU_GRAD,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend }) => {
    const { x, dy } = inputs;
    const body = `let v = x[index];
      result[index] = dy[index] * (0.5 * (1.0 + erfAS(v * 0.7071067811865476)) + v * exp(-0.5 * v * v) * 0.3989422804014327);`;
    const out = runProgram(backend, elementwiseProgram("perfrdiffGeluGrad", ["x", "dy"], sizeOf(x!.shape), body, undefined, erfSnippet), [x!, dy!]);
    return { ...out, shape: x!.shape };
  }),
};
