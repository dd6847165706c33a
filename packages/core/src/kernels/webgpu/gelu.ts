/** Exact GELU, x * Phi(x), elementwise on WebGPU (tfjs composes it from 5 kernels), with its gradient. */
import * as tf from "@tensorflow/tfjs";
import { GELU, GELU_GRAD } from "../names";
import { runKernel } from "../run";
import { elementwiseProgram, kernelFunc, runProgram, sizeOf } from "./program";

/** WGSL erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the same formula as tfjs's own erf kernels. */
export const erfSnippet = `
  fn erfAS(v : f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return select(-y, y, v >= 0.0);
  }`;

export const geluKernel: tf.KernelConfig = {
  kernelName: GELU,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend }) => {
    const x = inputs.x!;
    const body = `let v = x[index];
      result[index] = 0.5 * v * (1.0 + erfAS(v * 0.7071067811865476));`;
    const out = runProgram(backend, elementwiseProgram("perfrdiffGelu", ["x"], sizeOf(x.shape), body, undefined, erfSnippet), [x]);
    return { ...out, shape: x.shape };
  }),
};

export const geluGradient: tf.GradConfig = {
  kernelName: GELU,
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => ({ x: () => runKernel(GELU_GRAD, { x: saved[0]!, dy: dy as tf.Tensor }) }),
};
