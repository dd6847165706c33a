/**
 * Inverted dropout on WebGPU, one dispatch, with its mask computed from (seed, element index) by a PCG hash instead of
 * a random tensor: tfjs's random ops fill their values in JavaScript and upload them, ~10 ms per million on the CPU
 * per dropout site. The gradient is the same program on the upstream gradient with the same seed.
 */
import * as tf from "@tensorflow/tfjs";
import { DROPOUT } from "../names";
import { runKernel } from "../run";
import { elementwiseProgram, floats, ints, kernelFunc, runProgram, sizeOf } from "./program";

/** WGSL: a uniform float in [0, 1) from (seed, index): PCG output of their mix, 24 bits of it (ops/dropout.ts's uniform01). */
const hashSnippet = `
  fn pcgHash(v : u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
  }
  fn uniform01(seed : u32, index : u32) -> f32 {
    return f32(pcgHash(pcgHash(index) ^ seed) >> 8u) * (1.0 / 16777216.0);
  }`;

export const dropoutKernel: tf.KernelConfig = {
  kernelName: DROPOUT,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
    const x = inputs.x!;
    const { rate, seed } = attrs as unknown as { rate: number; seed: number };
    const body = `let keep = uniform01(u32(uniforms.seed), u32(index)) >= uniforms.rate;
      result[index] = select(0.0, x[index] * uniforms.scale, keep);`;
    const program = elementwiseProgram("perfrdiffDropout", ["x"], sizeOf(x.shape), body, "seed : i32, rate : f32, scale : f32,", hashSnippet);
    // the seed travels as a signed 32-bit uniform; the shader reads its bits as unsigned
    const out = runProgram(backend, program, [x], [...ints(seed | 0), ...floats(rate, 1 / (1 - rate))]);
    return { ...out, shape: x.shape };
  }),
};

export const dropoutGradient: tf.GradConfig = {
  kernelName: DROPOUT,
  gradFunc: (dy, _saved, attrs) => ({ x: () => runKernel(DROPOUT, { x: dy as tf.Tensor }, attrs) }),
};
