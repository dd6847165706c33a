/**
 * AdamW's moment update for a group of at most ADAMW_GROUP variables in one dispatch, in place: the output is the
 * group's moments tensor itself (tfjs's Adam composes ~15 kernels per variable). Layout of `moments` [2 * total]:
 * member k (size n_k, o_k = sizes of the members before it) keeps m in [2 o_k, 2 o_k + n_k) and v in
 * [2 o_k + n_k, 2 o_k + 2 n_k); m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 for members with a gradient.
 */
import type * as tf from "@tensorflow/tfjs";
import { ADAMW_MOMENTS } from "../names";
import { elementwiseProgram, floats, ints, kernelFunc, runProgram } from "./program";

export const adamWMomentsKernel: tf.KernelConfig = {
  kernelName: ADAMW_MOMENTS,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
    const { sizes, present, beta1, beta2 } = attrs as unknown as { sizes: number[]; present: number[]; beta1: number; beta2: number };
    const K = sizes.length;
    const offsets = sizes.reduce((o, n) => [...o, o[o.length - 1]! + n], [0]);
    const members = sizes.map((_, k) => `
      if (index >= uniforms.o${k} && index < uniforms.o${k + 1} && uniforms.has${k} == 1) {
        let g = g${k}[index - uniforms.o${k}];
        let mi = uniforms.o${k} + index;
        let vi = mi + uniforms.o${k + 1} - uniforms.o${k};
        result[mi] = uniforms.b1 * result[mi] + (1.0 - uniforms.b1) * g;
        result[vi] = uniforms.b2 * result[vi] + (1.0 - uniforms.b2) * g * g;
      }`);
    const uniforms = `${offsets.map((_, k) => `o${k} : i32, `).join("")}${sizes.map((_, k) => `has${k} : i32, `).join("")}b1 : f32, b2 : f32,`;
    const program = elementwiseProgram(`perfrdiffAdamWMoments_${K}`, sizes.map((_, k) => `g${k}`), offsets[K]!, members.join(""), uniforms);
    const grads = sizes.map((_, k) => inputs[`g${k}`]!);
    // in place: the output is the moments tensor itself (not also bound as an input), handed back as a second handle
    // on its data (one more reference, as tfjs's Reshape does)
    const out = runProgram(backend, program, grads, [...ints(...offsets, ...present), ...floats(beta1, beta2)], inputs.moments!);
    backend.incRef(out.dataId);
    return { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
  }),
};
