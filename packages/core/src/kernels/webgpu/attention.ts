/**
 * Multi-head attention on WebGPU, one dispatch: scaled dot-product attention without masks (torch.nn.MultiheadAttention's
 * core; in training with dropout on the probabilities, hashed as ops/dropout.ts) that reads heads in place from packed q|k|v projections (tfjs composes ~9 kernels: head transposes,
 * products, softmax). Kernels for one or two key/value sources (time token + cached conditions, no concat) and for
 * self-attention (one input holding queries, keys and values, so its gradient is one tensor, not a sum of two).
 * The backward pass is attention-grad-scores.ts then attention-grad-input.ts, once per input tensor.
 */
import * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { ATTENTION, ATTENTION_GRAD_INPUT, ATTENTION_GRAD_SCORES, ATTENTION_MAX_KEYS, SELF_ATTENTION } from "../names";
import { runKernel } from "../run";
import { ATTENTION_UNIFORMS, LANES, QB, attentionOperands, attentionUniforms, dropMultiplier, sourceRow, type AttentionAttrs } from "./attention-common";
import { hashSnippet } from "./dropout";
import { flat, kernelFunc, runProgram, WG } from "./program";

/**
 * One workgroup per (batch, head, block of QB queries), WG invocations. Scores: each pass takes WG / LANES keys, LANES
 * invocations per key reading its row in coalesced steps, each key row used for all QB queries; partial sums meet in
 * workgroup memory. Softmax per query, then each invocation accumulates head dims d = tid, tid + WG, ... over all keys
 * for the QB queries (value rows read once per workgroup, coalesced).
 */
function attentionProgram(B: number, Lq: number, dim: number, heads: number, twoSources: boolean): WebGPUProgram {
  const dh = dim / heads; // baked into the shader: its loops unroll, so each invocation keeps many loads in flight
  const qb = Array.from({ length: QB }, (_, i) => i);
  const srcs: (1 | 2)[] = twoSources ? [1, 2] : [1];
  const scoreLoop = (src: 1 | 2) => `
          let p = ${sourceRow(src, "j", "k")};
          for (var d = lane; d < DH; d += ${LANES}) {
            let kv = s${src}[p + d];
            ${qb.map((i) => `a${i} += qs[${i} * DH + d] * kv;`).join(" ")}
          }`;
  // values of keys [from, to) of one source, four rows per iteration (independent loads)
  const valueLoop = (src: 1 | 2, from: string, to: string) => `
        {
          var j = ${from};
          for (; j + 4 <= ${to}; j += 4) {
            let base = ${sourceRow(src, "j", "v")} + d;
            let rs = uniforms.c${src};
            let v0 = s${src}[base]; let v1 = s${src}[base + rs]; let v2 = s${src}[base + 2 * rs]; let v3 = s${src}[base + 3 * rs];
            ${qb.map((i) => `o${i} += sc[${i * ATTENTION_MAX_KEYS} + j] * v0 + sc[${i * ATTENTION_MAX_KEYS} + j + 1] * v1 + sc[${i * ATTENTION_MAX_KEYS} + j + 2] * v2 + sc[${i * ATTENTION_MAX_KEYS} + j + 3] * v3;`).join("\n            ")}
          }
          for (; j < ${to}; j++) {
            let v0 = s${src}[${sourceRow(src, "j", "v")} + d];
            ${qb.map((i) => `o${i} += sc[${i * ATTENTION_MAX_KEYS} + j] * v0;`).join(" ")}
          }
        }`;
  return {
    variableNames: twoSources ? ["q", "s1", "s2"] : ["q", "s1"],
    outputShape: [B, Lq, dim],
    shaderKey: `perfrdiffAttention_${twoSources}_${dh}_dropout`,
    dispatchLayout: flat([B, Lq, dim]),
    dispatch: [B * heads * Math.ceil(Lq / QB), 1, 1], // one workgroup per (batch, head, query block)
    workgroupSize: [WG, 1, 1],
    uniforms: ATTENTION_UNIFORMS,
    getUserCode: () => `
  const DH = ${dh};
  ${hashSnippet}
  var<workgroup> qs : array<f32, ${QB * dh}>;
  var<workgroup> part : array<f32, ${WG * QB}>;
  var<workgroup> sc : array<f32, ${QB * ATTENTION_MAX_KEYS}>;
  fn main(index : i32) {
    let wg = index / ${WG};
    let tid = index - wg * ${WG};
    let heads = uniforms.heads;
    let dim = uniforms.outShape[2];
    let lq = uniforms.lq;
    let blocks = (lq + ${QB - 1}) / ${QB};
    let h = wg % heads;
    let i0 = ((wg / heads) % blocks) * ${QB};
    let b = wg / (heads * blocks);
    let valid = b < uniforms.outShape[0];
    let lk = uniforms.l1 + uniforms.l2;
    for (var e = tid; e < ${QB} * DH; e += ${WG}) {
      let qi = e / DH;
      var v = 0.0;
      if (valid && i0 + qi < lq) { v = q[(b * lq + i0 + qi) * uniforms.cq + uniforms.qOff + h * DH + e - qi * DH] * uniforms.scale; }
      qs[e] = v;
    }
    workgroupBarrier();
    let kk = tid / ${LANES};
    let lane = tid - kk * ${LANES};
    for (var j0 = 0; j0 < lk; j0 += ${WG / LANES}) {
      let j = j0 + kk;
      ${qb.map((i) => `var a${i} = 0.0;`).join(" ")}
      if (valid && j < lk) {${twoSources ? `
        if (j < uniforms.l1) {${scoreLoop(1)}
        } else {${scoreLoop(2)}
        }` : scoreLoop(1)}
      }
      ${qb.map((i) => `part[tid * ${QB} + ${i}] = a${i};`).join(" ")}
      workgroupBarrier();
      // invocation t sums the lanes of (key t / QB, query t % QB)
      let rk = tid / ${QB};
      let rq = tid - rk * ${QB};
      var s = 0.0;
      for (var l = 0; l < ${LANES}; l++) { s += part[(rk * ${LANES} + l) * ${QB} + rq]; }
      if (j0 + rk < lk) { sc[rq * ${ATTENTION_MAX_KEYS} + j0 + rk] = s; }
      workgroupBarrier();
    }
    if (tid < ${QB}) {
      let base = tid * ${ATTENTION_MAX_KEYS};
      var m = -3.402823e+38;
      for (var j = 0; j < lk; j++) { m = max(m, sc[base + j]); }
      var sum = 0.0;
      for (var j = 0; j < lk; j++) { let e = exp(sc[base + j] - m); sc[base + j] = e; sum += e; }
      let inv = 1.0 / sum;
      // training: the dropped probabilities weight the values
      let row = (b * heads + h) * lq + i0 + tid;
      for (var j = 0; j < lk; j++) { sc[base + j] *= inv * ${dropMultiplier("row", "j")}; }
    }
    workgroupBarrier();
    if (valid) {
      for (var d = tid; d < DH; d += ${WG}) {
        ${qb.map((i) => `var o${i} = 0.0;`).join(" ")}${srcs.map((src) => valueLoop(src, src === 1 ? "0" : "uniforms.l1", src === 1 ? "uniforms.l1" : "lk")).join("")}
        ${qb.map((i) => `if (i0 + ${i} < lq) { result[(b * lq + i0 + ${i}) * dim + h * DH + d] = o${i}; }`).join("\n        ")}
      }
    }
  }`,
  };
}

/** The forward kernel named `kernelName` for inputs q and `sources` (none: self-attention, one input q). */
function attentionKernel(kernelName: string): tf.KernelConfig {
  return {
    kernelName,
    backendName: "webgpu",
    kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
      const a = attrs as unknown as AttentionAttrs;
      const { q, srcs } = attentionOperands(inputs);
      const [B, Lq] = q.shape as [number, number, number];
      return runProgram(backend, attentionProgram(B, Lq, a.dim, a.heads, srcs.length === 2), [q, ...srcs], attentionUniforms(q, srcs, a));
    }),
  };
}

/** The backward pass of a forward kernel: the score gradients once, then the gradient of each input tensor. */
function attentionGradient(kernelName: string, sources: string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["q", ...sources],
    gradFunc: (dy, saved, attrs) => {
      const ins: Record<string, tf.Tensor> = { q: saved[0]!, dy: dy as tf.Tensor };
      sources.forEach((n, i) => (ins[n] = saved[i + 1]!));
      const g = runKernel(ATTENTION_GRAD_SCORES, ins, attrs);
      // the gradient of the query tensor (query: true) or of source 1 or 2
      const gradOf = (query: boolean, source: number) => () => runKernel(ATTENTION_GRAD_INPUT, { ...ins, g }, { ...attrs, query, source });
      if (!sources.length) return { q: gradOf(true, 1) };
      return Object.fromEntries([["q", gradOf(true, 0)], ...sources.map((n, i) => [n, gradOf(false, i + 1)])]);
    },
  };
}

export const attentionKernels: tf.KernelConfig[] = [attentionKernel(SELF_ATTENTION), attentionKernel(ATTENTION[0]), attentionKernel(ATTENTION[1])];
export const attentionGradients: tf.GradConfig[] = [
  attentionGradient(SELF_ATTENTION, []),
  attentionGradient(ATTENTION[0], ["s1"]),
  attentionGradient(ATTENTION[1], ["s1", "s2"]),
];
