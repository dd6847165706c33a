/**
 * What core's WebGPU programs share: the tfjs-webgpu program contract (4.22, pinned), a runner, the workgroup size,
 * and WGSL snippets. tfjs generates each program's buffer bindings and its `uniforms` struct (output shape, then the
 * program's own fields) and calls `main(index)` with the global invocation index.
 */
import type * as tf from "@tensorflow/tfjs";
import type { WebGPUBackend, WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";

/** A uniform value as tfjs-webgpu takes it (declared in the program's `uniforms` string, in order). */
export interface Uniform {
  type: "int32" | "float32";
  data: number[];
}

/** What tfjs hands a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: WebGPUBackend;
  attrs?: tf.NamedAttrMap;
}

/** Invocations per workgroup in every program here. */
export const WG = 64;

/** The dispatch layout of a flat output (every dimension on x). */
export const flat = (shape: number[]) => ({ x: shape.map((_, i) => i) });

export const ints = (...v: number[]): Uniform[] => v.map((x) => ({ type: "int32", data: [x] }));
export const floats = (...v: number[]): Uniform[] => v.map((x) => ({ type: "float32", data: [x] }));

/** Elements of a shape. */
export const sizeOf = (shape: number[]) => shape.reduce((p, q) => p * q, 1);

/**
 * Runs a program on float32 inputs; with `output`, the program writes into that tensor's buffer (in place) instead
 * of a new one.
 */
export function runProgram(backend: WebGPUBackend, program: WebGPUProgram, inputs: tf.TensorInfo[], uniforms?: Uniform[], output?: tf.TensorInfo): tf.TensorInfo {
  return backend.runWebGPUProgram(program, inputs, "float32", uniforms, output);
}

/** A tfjs kernel function from ours (tfjs types the backend as `{}`). */
export const kernelFunc = (f: (args: KernelArgs) => tf.TensorInfo): tf.KernelFunc => f as unknown as tf.KernelFunc;

/**
 * WGSL function `name(tid, v)`: v combined over the workgroup (tree reduction in its own workgroup array); every
 * invocation must call it, as it has barriers.
 */
const reduceSnippet = (name: string, combine: (a: string, b: string) => string) => `
  var<workgroup> ${name}Red : array<f32, ${WG}>;
  fn ${name}(tid : i32, v : f32) -> f32 {
    ${name}Red[tid] = v;
    workgroupBarrier();
    for (var n = ${WG / 2}; n > 0; n = n >> 1) {
      if (tid < n) { ${name}Red[tid] = ${combine(`${name}Red[tid]`, `${name}Red[tid + n]`)}; }
      workgroupBarrier();
    }
    let r = ${name}Red[0];
    workgroupBarrier();
    return r;
  }`;
export const sumSnippet = reduceSnippet("sumAll", (a, b) => `${a} + ${b}`);
export const maxSnippet = reduceSnippet("maxAll", (a, b) => `max(${a}, ${b})`);

/**
 * One invocation per element of a flat output of `size` elements: `body` (WGSL statements) runs for index < size,
 * after `preamble` (WGSL functions) and with `uniforms` (WGSL struct fields) declared.
 */
export function elementwiseProgram(key: string, names: string[], size: number, body: string, uniforms?: string, preamble = ""): WebGPUProgram {
  return {
    variableNames: names,
    outputShape: [size],
    shaderKey: key,
    dispatchLayout: flat([size]),
    dispatch: [Math.ceil(size / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    uniforms,
    getUserCode: () => `
  ${preamble}
  fn main(index : i32) {
    if (index < uniforms.size) {
      ${body}
    }
  }`,
  };
}
