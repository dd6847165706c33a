/**
 * LayerNorm(x + residual) on WebGPU: one workgroup per row, two-pass mean and variance as torch. One program in three
 * modes (the row statistics are shared): the forward output, the input gradient, and dy * xhat (which the weight's
 * gradient sums over rows). tfjs composes LayerNorm from ~10 kernels and its gradient from ~17.
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { ADD_LAYER_NORM, LAYER_NORM, LAYER_NORM_GRAD_ROWS, LAYER_NORM_GRAD_X } from "../names";
import { runKernel } from "../run";
import { floats, flat, kernelFunc, runProgram, sumSnippet, WG } from "./program";

/** What the program writes for each row. */
type LayerNormMode = "forward" | "gradX" | "gradRows";

function layerNormProgram(rows: number, dim: number, residual: boolean, mode: LayerNormMode): WebGPUProgram {
  const load = residual ? "x[base + c] + r[base + c]" : "x[base + c]";
  // every binding must be used by the shader (tfjs's pipelines derive their layout from it)
  const names = [...(residual ? ["x", "r"] : ["x"]), ...(mode === "gradRows" ? [] : ["gamma"])];
  const xhat = `(${load} - mean) * rstd`;
  const write = {
    forward: `if (valid) { for (var c = tid; c < dim; c += ${WG}) { result[base + c] = ${xhat} * gamma[c] + beta[c]; } }`,
    // dx = rstd (g - mean(g) - xhat mean(g xhat)) for g = dy gamma
    gradX: `
    var a = 0.0;
    var b = 0.0;
    if (valid) { for (var c = tid; c < dim; c += ${WG}) { let g = dy[base + c] * gamma[c]; a += g; b += g * ${xhat}; } }
    let ma = sumAll(tid, a) / f32(dim);
    let mb = sumAll(tid, b) / f32(dim);
    if (valid) { for (var c = tid; c < dim; c += ${WG}) { result[base + c] = rstd * (dy[base + c] * gamma[c] - ma - ${xhat} * mb); } }`,
    gradRows: `if (valid) { for (var c = tid; c < dim; c += ${WG}) { result[base + c] = dy[base + c] * ${xhat}; } }`,
  }[mode];
  return {
    variableNames: mode === "forward" ? [...names, "beta"] : [...names, "dy"],
    outputShape: [rows, dim],
    shaderKey: `perfrdiffLayerNorm_${residual}_${mode}`,
    dispatchLayout: flat([rows, dim]),
    dispatch: [rows, 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms: "eps : f32,",
    getUserCode: () => `
  ${sumSnippet}
  fn main(index : i32) {
    let row = index / ${WG};
    let tid = index - row * ${WG};
    let dim = uniforms.outShape[1];
    let valid = row < uniforms.outShape[0];
    let base = row * dim;
    var s = 0.0;
    if (valid) { for (var c = tid; c < dim; c += ${WG}) { s += ${load}; } }
    let mean = sumAll(tid, s) / f32(dim);
    var q = 0.0;
    if (valid) { for (var c = tid; c < dim; c += ${WG}) { let d = ${load} - mean; q += d * d; } }
    let rstd = inverseSqrt(sumAll(tid, q) / f32(dim) + uniforms.eps);
    ${write}
  }`,
  };
}

/** The kernel of one mode: inputs x, r (when given), gamma (not for gradRows), then beta (forward) or dy. */
function layerNormKernel(kernelName: string, mode: LayerNormMode): tf.KernelConfig {
  return {
    kernelName,
    backendName: "webgpu",
    kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
      const { x, r, gamma, beta, dy } = inputs;
      const dim = x!.shape[x!.shape.length - 1]!;
      const rows = x!.shape.reduce((p, q) => p * q, 1) / dim;
      const ins = [x!, ...(r ? [r] : []), ...(mode === "gradRows" ? [] : [gamma!]), mode === "forward" ? beta! : dy!];
      const out = runProgram(backend, layerNormProgram(rows, dim, !!r, mode), ins, floats(attrs!.eps as number));
      return { ...out, shape: x!.shape };
    }),
  };
}

/**
 * Gradients of LayerNorm(x + r) * gamma + beta for the upstream gradient dy (all [..., D]; gamma [D]): two row
 * kernels (the input's gradient, also the residual's; dy * xhat, summed over rows for gamma's) and a sum over rows
 * for beta's.
 */
function layerNormGradient(kernelName: string, residual: boolean): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: residual ? ["x", "r", "gamma"] : ["x", "gamma"],
    gradFunc: (dy, saved, attrs) => {
      const [x, r, gamma] = residual ? saved : [saved[0]!, null, saved[1]!];
      const d = dy as tf.Tensor;
      const dim = x!.shape[x!.rank - 1]!;
      const rows = x!.size / dim;
      const inputs: Record<string, tf.Tensor> = r ? { x: x!, r, gamma: gamma!, dy: d } : { x: x!, gamma: gamma!, dy: d };
      const eps = { eps: attrs.eps as number };
      // made once here: the residual's gradient is the input's
      const dx = runKernel(LAYER_NORM_GRAD_X, inputs, eps);
      const dGamma = tf.sum(tf.reshape(runKernel(LAYER_NORM_GRAD_ROWS, inputs, eps), [rows, dim]), 0);
      const dBeta = tf.sum(tf.reshape(d, [rows, dim]), 0);
      const grads: Record<string, () => tf.Tensor> = { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
      if (residual) grads.r = () => dx;
      return grads;
    },
  };
}

export const layerNormKernels: tf.KernelConfig[] = [
  layerNormKernel(LAYER_NORM, "forward"),
  layerNormKernel(ADD_LAYER_NORM, "forward"),
  layerNormKernel(LAYER_NORM_GRAD_X, "gradX"),
  layerNormKernel(LAYER_NORM_GRAD_ROWS, "gradRows"),
];
export const layerNormGradients: tf.GradConfig[] = [layerNormGradient(LAYER_NORM, false), layerNormGradient(ADD_LAYER_NORM, true)];
