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
export const hashSnippet = `
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
    const { rate, seed, swap } = attrs as unknown as { rate: number; seed: number; swap?: number };
    // swap: the element's index in the tensor with its last two axes ([R, C]) swapped (see ops/dropout.ts)
    const body = `var hashed = index;
      if (uniforms.swap == 1) {
        let m = uniforms.rows * uniforms.cols;
        let within = index % m;
        let r = within / uniforms.cols;
        hashed = index - within + (within - r * uniforms.cols) * uniforms.rows + r;
      }
      let keep = uniform01(u32(uniforms.seed), u32(hashed)) >= uniforms.rate;
      result[index] = select(0.0, x[index] * uniforms.scale, keep);`;
    const program = elementwiseProgram("perfrdiffDropout", ["x"], sizeOf(x.shape), body, "seed : i32, swap : i32, rows : i32, cols : i32, rate : f32, scale : f32,", hashSnippet);
    const [rows, cols] = x.shape.length >= 2 ? x.shape.slice(-2) : [1, 1];
    // the seed travels as a signed 32-bit uniform; the shader reads its bits as unsigned
    const out = runProgram(backend, program, [x], [...ints(seed | 0, swap ? 1 : 0, rows!, cols!), ...floats(rate, 1 / (1 - rate))]);
    return { ...out, shape: x.shape };
  }),
};

export const dropoutGradient: tf.GradConfig = {
  kernelName: DROPOUT,
  gradFunc: (dy, _saved, attrs) => ({ x: () => runKernel(DROPOUT, { x: dy as tf.Tensor }, attrs) }),
};
