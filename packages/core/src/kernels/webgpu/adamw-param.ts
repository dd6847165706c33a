/**
 * A variable after an AdamW step, one dispatch: p decay - stepSize m / (sqrt(v) / correction2Sqrt + eps), with m and
 * v read from its group's moments (see adamw-moments.ts) at `offset` = 2 o_k.
 */
import type * as tf from "@tensorflow/tfjs";
import { ADAMW_PARAM } from "../names";
import { elementwiseProgram, floats, ints, kernelFunc, runProgram, sizeOf } from "./program";

export const adamWParamKernel: tf.KernelConfig = {
  kernelName: ADAMW_PARAM,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
    const s = attrs as unknown as { offset: number; decay: number; stepSize: number; correction2Sqrt: number; eps: number };
    const param = inputs.param!;
    const n = sizeOf(param.shape);
    const body = `let m = moments[uniforms.offset + index];
      let v = moments[uniforms.offset + uniforms.n + index];
      result[index] = param[index] * uniforms.decay - uniforms.stepSize * m / (sqrt(v) / uniforms.c2 + uniforms.eps);`;
    const uniforms = "offset : i32, n : i32, decay : f32, stepSize : f32, c2 : f32, eps : f32,";
    const program = elementwiseProgram("perfrdiffAdamWParam", ["param", "moments"], n, body, uniforms);
    const out = runProgram(backend, program, [param, inputs.moments!], [...ints(s.offset, n), ...floats(s.decay, s.stepSize, s.correction2Sqrt, s.eps)]);
    return { ...out, shape: param.shape };
  }),
};
