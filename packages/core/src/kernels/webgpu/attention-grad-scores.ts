import type * as tf from "@tensorflow/tfjs";
import type { WebGPUProgram } from "@tensorflow/tfjs-backend-webgpu";
import { ATTENTION_GRAD_SCORES, ATTENTION_MAX_KEYS } from "../names";
import { ATTENTION_UNIFORMS, LANES, attentionOperands, attentionUniforms, dropMultiplier, sourceRow, type AttentionAttrs } from "./attention-common";
import { hashSnippet } from "./dropout";
import { flat, kernelFunc, maxSnippet, runProgram, sumSnippet, WG } from "./program";

/**
 * Backward pass, first kernel: for each (batch, head, query i), the softmax weights as they weighted the values
 * (M_ij P_ij, with training's dropout multipliers M, else P_ij) and the scaled score gradients
 * scale * dS_ij = scale * P_ij (dP_ij - sum_j P_ij dP_ij), dP_ij = M_ij dO_i . V_j, as [B, H, Lq, 2 Lk] (M P, then
 * scale dS). One workgroup per query; key passes as in the forward (LANES invocations per key, coalesced rows).
 */
function attentionGradScoresProgram(B: number, Lq: number, dim: number, heads: number, lk: number, twoSources: boolean): WebGPUProgram {
  const dh = dim / heads;
  const dots = (src: 1 | 2) => `
          let pk = ${sourceRow(src, "j", "k")};
          let pv = ${sourceRow(src, "j", "v")};
          for (var d = lane; d < DH; d += ${LANES}) { a += qs[d] * s${src}[pk + d]; p += os[d] * s${src}[pv + d]; }`;
  return {
    variableNames: twoSources ? ["q", "s1", "s2", "dy"] : ["q", "s1", "dy"],
    outputShape: [B, heads, Lq, 2 * lk],
    shaderKey: `perfrdiffAttentionGradScores_${twoSources}_${dh}_dropout`,
    dispatchLayout: flat([B, heads, Lq, 2 * lk]),
    dispatch: [B * heads * Lq, 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms: ATTENTION_UNIFORMS,
    getUserCode: () => `
  const DH = ${dh};
  var<workgroup> qs : array<f32, DH>;
  var<workgroup> os : array<f32, DH>;
  var<workgroup> part : array<f32, ${2 * WG}>;
  var<workgroup> sc : array<f32, ${ATTENTION_MAX_KEYS}>;
  var<workgroup> dp : array<f32, ${ATTENTION_MAX_KEYS}>;
  ${hashSnippet}
  ${sumSnippet}
  ${maxSnippet}
  fn main(index : i32) {
    let wg = index / ${WG};
    let tid = index - wg * ${WG};
    let heads = uniforms.heads;
    let lq = uniforms.lq;
    let i = wg % lq;
    let h = (wg / lq) % heads;
    let b = wg / (lq * heads);
    let valid = b < uniforms.outShape[0];
    let lk = uniforms.l1 + uniforms.l2;
    let row = b * lq + i;
    for (var e = tid; e < DH; e += ${WG}) {
      var qv = 0.0;
      var ov = 0.0;
      if (valid) { qv = q[row * uniforms.cq + uniforms.qOff + h * DH + e] * uniforms.scale; ov = dy[row * ${dim} + h * DH + e]; }
      qs[e] = qv;
      os[e] = ov;
    }
    workgroupBarrier();
    let kk = tid / ${LANES};
    let lane = tid - kk * ${LANES};
    for (var j0 = 0; j0 < lk; j0 += ${WG / LANES}) {
      let j = j0 + kk;
      var a = 0.0;
      var p = 0.0;
      if (valid && j < lk) {${twoSources ? `
        if (j < uniforms.l1) {${dots(1)}
        } else {${dots(2)}
        }` : dots(1)}
      }
      part[tid] = a;
      part[${WG} + tid] = p;
      workgroupBarrier();
      if (tid < ${WG / LANES} && j0 + tid < lk) {
        var sa = 0.0;
        var sp = 0.0;
        for (var l = 0; l < ${LANES}; l++) { sa += part[tid * ${LANES} + l]; sp += part[${WG} + tid * ${LANES} + l]; }
        sc[j0 + tid] = sa;
        dp[j0 + tid] = sp;
      }
      workgroupBarrier();
    }
    // softmax and dS; each invocation keeps to its own keys j = tid, tid + WG, ... (no barrier needed between)
    var m = -3.402823e+38;
    for (var j = tid; j < lk; j += ${WG}) { m = max(m, sc[j]); }
    let mx = maxAll(tid, m);
    var s = 0.0;
    for (var j = tid; j < lk; j += ${WG}) { let e = exp(sc[j] - mx); sc[j] = e; s += e; }
    let inv = 1.0 / sumAll(tid, s);
    var r = 0.0;
    let prow = (b * heads + h) * lq + i;
    for (var j = tid; j < lk; j += ${WG}) { let pj = sc[j] * inv; sc[j] = pj; let dpj = dp[j] * ${dropMultiplier("prow", "j")}; dp[j] = dpj; r += pj * dpj; }
    let rs = sumAll(tid, r);
    if (valid) {
      let base = prow * 2 * lk;
      for (var j = tid; j < lk; j += ${WG}) { result[base + j] = sc[j] * ${dropMultiplier("prow", "j")}; result[base + lk + j] = uniforms.scale * sc[j] * (dp[j] - rs); }
    }
  }`,
  };
}

export const attentionGradScoresKernel: tf.KernelConfig = {
  kernelName: ATTENTION_GRAD_SCORES,
  backendName: "webgpu",
  kernelFunc: kernelFunc(({ inputs, backend, attrs }) => {
    const a = attrs as unknown as AttentionAttrs;
    const { q, srcs } = attentionOperands(inputs);
    const lk = srcs.reduce((n, t) => n + t.shape[1]!, 0);
    const program = attentionGradScoresProgram(q.shape[0]!, q.shape[1]!, a.dim, a.heads, lk, srcs.length === 2);
    return runProgram(backend, program, [q, ...srcs, inputs.dy!], attentionUniforms(q, srcs, a));
  }),
};
