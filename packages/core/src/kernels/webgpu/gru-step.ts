/**
 * One torch.nn.GRUCell step on WebGPU for a frozen GRU (inference: no gradient), one dispatch: the hidden side's
 * products h W_hh^T + b_hh and the gates, from the input side's pre-activations of every step computed before in one
 * product (gi [B, T, 3H], step `t` read in place). The composed step is ~20 kernels (products, splits, sigmoids,
 * tanh, blends), 1000 for the emotion VAE's 50-step encode. One invocation per (batch row, hidden unit): its three
 * gate rows of W_hh dotted with the row's h.
 */
import type * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { GRU_STEP } from "../names";
import { flat, ints, kernelFunc, runProgram, sizeOf, WG } from "./program";

function gruStepProgram(B: number, H: number): WebGPUProgram {
  return {
    variableNames: ["gi", "h", "whh", "bhh"],
    outputShape: [B, H],
    shaderKey: `perfrdiffGruStep`,
    dispatchLayout: flat([B, H]),
    dispatch: [Math.ceil(sizeOf([B, H]) / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    uniforms: "steps : i32, t : i32,",
    getUserCode: () => `
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let H = uniforms.outShape[1];
    let b = index / H;
    let u = index - b * H;
    var r = bhh[u];
    var z = bhh[H + u];
    var n = bhh[2 * H + u];
    let hr = b * H;
    for (var k = 0; k < H; k++) {
      let hk = h[hr + k];
      r += whh[u * H + k] * hk;
      z += whh[(H + u) * H + k] * hk;
      n += whh[(2 * H + u) * H + k] * hk;
    }
    let g = (b * uniforms.steps + uniforms.t) * 3 * H;
    let rg = 1.0 / (1.0 + exp(-(gi[g + u] + r)));
    let zg = 1.0 / (1.0 + exp(-(gi[g + H + u] + z)));
    // tanh as tfjs-webgpu writes it: WGSL's can overflow to NaN for large arguments
    let a = gi[g + 2 * H + u] + rg * n;
    let e2 = exp(-2.0 * abs(a));
    let ng = sign(a) * (1.0 - e2) / (1.0 + e2);
    result[index] = (1.0 - zg) * ng + zg * h[index];
  }`,
  };
}

export const gruStepKernel: tf.KernelConfig = {
  kernelName: GRU_STEP,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
    const { t } = attrs as unknown as { t: number };
    const gi = inputs.gi!;
    const h = inputs.h!;
    const [B, H] = h.shape as [number, number];
    return runProgram(backend, gruStepProgram(B, H), [gi, h, inputs.whh!, inputs.bhh!], ints(gi.shape[1]!, t));
  }),
};
