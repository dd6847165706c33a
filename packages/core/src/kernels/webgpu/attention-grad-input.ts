import type * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { ATTENTION_GRAD_INPUT } from "../names";
import { ATTENTION_UNIFORMS, attentionOperands, attentionUniforms, sourceRow, type AttentionAttrs } from "./attention-common";
import { flat, ints, kernelFunc, runProgram, WG } from "./program";

/**
 * Backward pass, second kernel: the gradient of one packed input tensor [B, L, C] from the first kernel's output g:
 * dQ = scale dS K in its query columns (when it is the query tensor, uniform rq = 1), dK = scale dS^T Q and
 * dV = P^T dO in its key and value columns (when it is source 1 or 2, uniform src), zero in other columns. One
 * invocation per element; a self-attention's q|k|v tensor gets all three in one pass.
 */
function attentionGradInputProgram(shape: number[], dim: number, heads: number, twoSources: boolean): WebGPUProgram {
  const dh = dim / heads;
  const size = shape.reduce((p, q) => p * q, 1);
  return {
    variableNames: twoSources ? ["g", "q", "s1", "s2", "dy"] : ["g", "q", "s1", "dy"],
    outputShape: shape,
    shaderKey: `perfrdiffAttentionGradInput_${twoSources}_${dh}`,
    dispatchLayout: flat(shape),
    dispatch: [Math.ceil(size / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    uniforms: `${ATTENTION_UNIFORMS} rq : i32, src : i32,`,
    getUserCode: () => `
  const DH = ${dh};
  fn main(index : i32) {
    if (index >= uniforms.size) { return; }
    let C = uniforms.outShape[2];
    let L = uniforms.outShape[1];
    let c = index % C;
    let r = (index / C) % L;
    let b = index / (C * L);
    let heads = uniforms.heads;
    let lq = uniforms.lq;
    let l1 = uniforms.l1;
    let lk = l1 + uniforms.l2;
    let gRow = 2 * lk;
    var acc = 0.0;
    if (uniforms.rq == 1 && c >= uniforms.qOff && c < uniforms.qOff + ${dim}) {
      let h = (c - uniforms.qOff) / DH;
      let d = c - uniforms.qOff - h * DH;
      let gb = ((b * heads + h) * lq + r) * gRow + lk;
      for (var j = 0; j < l1; j++) { acc += g[gb + j] * s1[${sourceRow(1, "j", "k")} + d]; }${twoSources ? `
      for (var j = l1; j < lk; j++) { acc += g[gb + j] * s2[${sourceRow(2, "j", "k")} + d]; }` : ""}
    }
    if (uniforms.src != 0) {
      let j = select(l1, 0, uniforms.src == 1) + r; // this row's key in the whole sequence
      let ko = select(uniforms.k2, uniforms.k1, uniforms.src == 1);
      let vo = select(uniforms.v2, uniforms.v1, uniforms.src == 1);
      if (c >= ko && c < ko + ${dim}) {
        let h = (c - ko) / DH;
        let d = c - ko - h * DH;
        for (var i = 0; i < lq; i++) { acc += g[((b * heads + h) * lq + i) * gRow + lk + j] * q[(b * lq + i) * uniforms.cq + uniforms.qOff + h * DH + d]; }
      }
      if (c >= vo && c < vo + ${dim}) {
        let h = (c - vo) / DH;
        let d = c - vo - h * DH;
        for (var i = 0; i < lq; i++) { acc += g[((b * heads + h) * lq + i) * gRow + j] * dy[(b * lq + i) * ${dim} + h * DH + d]; }
      }
    }
    result[index] = acc;
  }`,
  };
}

export const attentionGradInputKernel: tf.KernelConfig = {
  kernelName: ATTENTION_GRAD_INPUT,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
    const a = attrs as unknown as AttentionAttrs & { query: boolean; source: number };
    const { q, srcs } = attentionOperands(inputs);
    const shape = a.query ? q.shape : srcs[a.source - 1]!.shape;
    const program = attentionGradInputProgram(shape, a.dim, a.heads, srcs.length === 2);
    return runProgram(backend, program, [inputs.g!, q, ...srcs, inputs.dy!], [...attentionUniforms(q, srcs, a), ...ints(a.query ? 1 : 0, a.source)]);
  }),
};
