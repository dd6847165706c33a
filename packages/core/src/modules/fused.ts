/**
 * Fused kernels for tfjs-webgpu: residual add + LayerNorm, exact GELU and multi-head attention over packed
 * projections, one GPU dispatch each, their backward passes (two or three dispatches each), and the AdamW update.
 *
 * Why: on WebGPU a denoiser step was bound by dispatches, not arithmetic. Measured on an H200 (bench/results), a
 * guided step cost ~0.1 s whatever the batch, for ~515 kernels: tfjs composes LayerNorm from ~10 kernels, GELU from
 * 5, attention from ~9 (head transposes, products, softmax). These kernels replace them (113 kernels per step); other
 * backends keep the composed tfjs ops (same math), so results agree across backends within float32 rounding. Large
 * attention batches still take the composed ops, which are faster there (see FUSED_ATTENTION_MAX_WORK).
 *
 * Training was dispatch-bound the same way (measured: ~3500 kernels per GAFRG step, 1.06 s against PyTorch's
 * 0.046 s): the backward passes and AdamW here replace tfjs's composed gradients and Adam.
 *
 * Each kernel is a tfjs kernel registered for the webgpu backend only; the forward ones register their gradients,
 * so tf.grad and friends work through them. The programs follow tfjs-webgpu's WebGPUProgram contract (4.22, pinned):
 * tfjs generates the buffer bindings, the `uniforms` struct (shapes, then our fields) and calls `main(index)` with
 * the global invocation index.
 */
import * as tf from "@tensorflow/tfjs";

/** The part of tfjs-webgpu's WebGPUBackend used here. */
interface WebGPUBackend {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: string, uniforms?: Uniform[], output?: tf.TensorInfo): tf.TensorInfo;
  incRef(dataId: tf.DataId): void;
}
interface Uniform {
  type: "int32" | "float32";
  data: number[];
}
interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms?: string;
  size?: boolean;
  getUserCode(): string;
}

let enabled = true;

/**
 * Turns the fused WebGPU kernels on or off (default on); off runs the composed tfjs ops, for comparisons and
 * benchmarks. Returns the previous setting.
 */
export function setFusedKernels(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Whether the fused kernels run for the current backend. */
export function fusedKernelsActive(): boolean {
  return enabled && tf.getBackend() === "webgpu";
}

const WG = 64; // invocations per workgroup in every program below
const flat = (shape: number[]) => ({ x: shape.map((_, i) => i) });

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
const sumSnippet = reduceSnippet("sumAll", (a, b) => `${a} + ${b}`);
const maxSnippet = reduceSnippet("maxAll", (a, b) => `max(${a}, ${b})`);

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the same formula as tfjs's own erf kernels
const erfSnippet = `
  fn erfAS(v : f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return select(-y, y, v >= 0.0);
  }`;

/** Runs a program; with `output`, the program writes into that tensor's buffer (in place) instead of a new one. */
function run(backend: unknown, program: Program, inputs: tf.TensorInfo[], uniforms?: Uniform[], output?: tf.TensorInfo): tf.TensorInfo {
  return (backend as WebGPUBackend).runWebGPUProgram(program, inputs, "float32", uniforms, output);
}

// ---------------------------------------------------------------------------------------------------------------
// LayerNorm(x + residual): one workgroup per row, two-pass mean/variance as torch.

// tfjs saves a gradient's inputs by name and cannot save an absent one: one kernel per variant
const LAYER_NORM = "PerfrdiffLayerNorm";
const ADD_LAYER_NORM = "PerfrdiffAddLayerNorm";
// the backward pass's kernels: an absent residual is fine here (no gradient of them is taken)
const LAYER_NORM_GRAD_X = "PerfrdiffLayerNormGradX";
const LAYER_NORM_GRAD_ROWS = "PerfrdiffLayerNormGradRows";

/**
 * What a LayerNorm program writes for each row: the forward output, the input gradient for an upstream gradient dy,
 * or dy * xhat (the rows the weight's gradient sums).
 */
type LayerNormMode = "forward" | "gradX" | "gradRows";

function layerNormProgram(rows: number, dim: number, residual: boolean, mode: LayerNormMode): Program {
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

/** Composed LayerNorm over the last axis: the path of other backends (and of webgpu with the fused kernels off). */
function composedLayerNorm(s: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(s, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(s, mean), tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/**
 * LayerNorm(x + residual) over the last axis with weight `gamma` and bias `beta` [dim] (torch.nn.LayerNorm after a
 * residual add). x, residual [..., dim] -> [..., dim].
 */
export function addLayerNorm(x: tf.Tensor, residual: tf.Tensor | null, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const dim = x.shape[x.rank - 1];
  if (residual && !tf.util.arraysEqual(residual.shape, x.shape)) throw new Error(`LayerNorm: residual [${residual.shape}] does not match input [${x.shape}]`);
  if (gamma.size !== dim || beta.size !== dim) throw new Error(`LayerNorm: weight [${gamma.shape}] / bias [${beta.shape}] do not match input dimension ${dim}`);
  if (!fusedKernelsActive()) return composedLayerNorm(residual ? tf.add(x, residual) : x, gamma, beta, eps);
  register();
  const inputs = residual ? { x, r: residual, gamma, beta } : { x, gamma, beta };
  return tf.engine().runKernel(residual ? ADD_LAYER_NORM : LAYER_NORM, inputs as unknown as tf.NamedTensorMap, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

// ---------------------------------------------------------------------------------------------------------------
// GELU (erf form) and its derivative, elementwise.

const GELU = "PerfrdiffGelu";
const GELU_GRAD = "PerfrdiffGeluGrad";

/**
 * One invocation per element of a flat output of `size` elements: `body` (WGSL statements) runs for index < size,
 * after `preamble` (WGSL functions) and with `uniforms` (WGSL struct fields) declared.
 */
function elementwiseProgram(key: string, names: string[], size: number, body: string, uniforms?: string, preamble = ""): Program {
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

/** An elementwise program writing `expr` of v = x[index] (GELU and its derivative). */
const geluProgram = (key: string, names: string[], size: number, expr: string) =>
  elementwiseProgram(key, names, size, `let v = x[index];
      result[index] = ${expr};`, undefined, erfSnippet);

/** Exact GELU, x * Phi(x), as torch.nn.functional.gelu's default. Any shape. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (!fusedKernelsActive()) return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  register();
  return tf.engine().runKernel(GELU, { x } as unknown as tf.NamedTensorMap) as tf.Tensor;
}

// ---------------------------------------------------------------------------------------------------------------
// Multi-head attention over packed projections.

const ATTENTION = ["PerfrdiffAttention1", "PerfrdiffAttention2"]; // by number of key/value sources
const SELF_ATTENTION = "PerfrdiffSelfAttention"; // queries, keys and values in one tensor
/** Longest key sequence and largest head size the attention kernel holds in workgroup memory (else: composed ops). */
export const MAX_FUSED_KEYS = 256;
const MAX_FUSED_HEAD_DIM = 128;
/**
 * Above this much work (batch x queries x keys x model dim) the composed ops are faster: their ~8 dispatches cost
 * less than the fused kernel's slower arithmetic once the GPU, not dispatching, is the bottleneck. Measured on an
 * H200: at 300 x 50 queries x 50 keys x 512 (3.8e8) the fused kernel took 1.4 ms of GPU time, tfjs's batched
 * products, transposes and softmax 0.7 ms; at a tenth of that batch the fused kernel wins by ~1 ms of dispatching.
 */
const FUSED_ATTENTION_MAX_WORK = 2 ** 28;
/** Queries per workgroup: each key and value row read serves this many queries. */
const QB = 8;
/**
 * Lanes sharing one key's dot products (each takes every LANES-th element: adjacent lanes read adjacent floats). The
 * score reduction pairs one invocation with each (key of a pass, query): WG / LANES keys per pass times QB = WG.
 */
const LANES = 8;

/**
 * Where queries, keys and values are inside packed projection tensors: queries are columns
 * [qOffset, qOffset + dim) of `q` [B, Lq, *]; keys and values are columns [kOffset, +dim) and [vOffset, +dim) of
 * each source [B, Li, *], the sources' rows concatenated into one key sequence.
 */
export interface PackedAttention {
  q: tf.Tensor3D;
  qOffset: number;
  sources: { t: tf.Tensor3D; kOffset: number; vOffset: number }[];
  dim: number;
  heads: number;
}

/**
 * WGSL: start of key (`off` "k") or value ("v") row j of head h, batch b, in source 1 or 2 ([B, L, C], columns at an
 * offset; key j counts across both sources), for the uniforms the attention programs share.
 */
function sourceRow(src: 1 | 2, j: string, off: "k" | "v"): string {
  return src === 1 ? `(b * uniforms.l1 + ${j}) * uniforms.c1 + uniforms.${off}1 + h * DH` : `(b * uniforms.l2 + ${j} - uniforms.l1) * uniforms.c2 + uniforms.${off}2 + h * DH`;
}

/** Uniforms of the attention programs: query geometry, each source's rows, columns and offsets, the score scale. */
const ATTENTION_UNIFORMS = "lq : i32, heads : i32, cq : i32, qOff : i32, l1 : i32, c1 : i32, k1 : i32, v1 : i32, l2 : i32, c2 : i32, k2 : i32, v2 : i32, scale : f32,";

function attentionUniforms(q: tf.TensorInfo, srcs: tf.TensorInfo[], a: AttentionAttrs): Uniform[] {
  const geom = (i: number) => (srcs[i] ? [srcs[i]!.shape[1]!, srcs[i]!.shape[2]!, a.offsets[2 * i]!, a.offsets[2 * i + 1]!] : [0, 1, 0, 0]);
  const ints = [q.shape[1]!, a.heads, q.shape[2]!, a.qOffset, ...geom(0), ...geom(1)];
  return [...ints.map((v): Uniform => ({ type: "int32", data: [v] })), { type: "float32", data: [1 / Math.sqrt(a.dim / a.heads)] }];
}

/**
 * One workgroup per (batch, head, block of QB queries), WG invocations. Scores: each pass takes WG / LANES keys, LANES
 * invocations per key reading its row in coalesced steps, each key row used for all QB queries; partial sums meet in
 * workgroup memory. Softmax per query, then each invocation accumulates head dims d = tid, tid + WG, ... over all keys
 * for the QB queries (value rows read once per workgroup, coalesced).
 */
function attentionProgram(B: number, Lq: number, dim: number, heads: number, twoSources: boolean): Program {
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
            ${qb.map((i) => `o${i} += sc[${i * MAX_FUSED_KEYS} + j] * v0 + sc[${i * MAX_FUSED_KEYS} + j + 1] * v1 + sc[${i * MAX_FUSED_KEYS} + j + 2] * v2 + sc[${i * MAX_FUSED_KEYS} + j + 3] * v3;`).join("\n            ")}
          }
          for (; j < ${to}; j++) {
            let v0 = s${src}[${sourceRow(src, "j", "v")} + d];
            ${qb.map((i) => `o${i} += sc[${i * MAX_FUSED_KEYS} + j] * v0;`).join(" ")}
          }
        }`;
  return {
    variableNames: twoSources ? ["q", "s1", "s2"] : ["q", "s1"],
    outputShape: [B, Lq, dim],
    shaderKey: `perfrdiffAttention_${twoSources}_${dh}`,
    dispatchLayout: flat([B, Lq, dim]),
    dispatch: [B * heads * Math.ceil(Lq / QB), 1, 1], // one workgroup per (batch, head, query block)
    workgroupSize: [WG, 1, 1],
    uniforms: ATTENTION_UNIFORMS,
    getUserCode: () => `
  const DH = ${dh};
  var<workgroup> qs : array<f32, ${QB * dh}>;
  var<workgroup> part : array<f32, ${WG * QB}>;
  var<workgroup> sc : array<f32, ${QB * MAX_FUSED_KEYS}>;
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
      if (j0 + rk < lk) { sc[rq * ${MAX_FUSED_KEYS} + j0 + rk] = s; }
      workgroupBarrier();
    }
    if (tid < ${QB}) {
      let base = tid * ${MAX_FUSED_KEYS};
      var m = -3.402823e+38;
      for (var j = 0; j < lk; j++) { m = max(m, sc[base + j]); }
      var sum = 0.0;
      for (var j = 0; j < lk; j++) { let e = exp(sc[base + j] - m); sc[base + j] = e; sum += e; }
      let inv = 1.0 / sum;
      for (var j = 0; j < lk; j++) { sc[base + j] *= inv; }
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

/**
 * Backward pass, first kernel: for each (batch, head, query i), the softmax weights P_ij and the scaled score
 * gradients scale * dS_ij = scale * P_ij (dP_ij - sum_j P_ij dP_ij), dP_ij = dO_i . V_j, as [B, H, Lq, 2 Lk] (P, then
 * scale dS). One workgroup per query; key passes as in the forward (LANES invocations per key, coalesced rows).
 */
function attentionGradScoresProgram(B: number, Lq: number, dim: number, heads: number, lk: number, twoSources: boolean): Program {
  const dh = dim / heads;
  const dots = (src: 1 | 2) => `
          let pk = ${sourceRow(src, "j", "k")};
          let pv = ${sourceRow(src, "j", "v")};
          for (var d = lane; d < DH; d += ${LANES}) { a += qs[d] * s${src}[pk + d]; p += os[d] * s${src}[pv + d]; }`;
  return {
    variableNames: twoSources ? ["q", "s1", "s2", "dy"] : ["q", "s1", "dy"],
    outputShape: [B, heads, Lq, 2 * lk],
    shaderKey: `perfrdiffAttentionGradScores_${twoSources}_${dh}`,
    dispatchLayout: flat([B, heads, Lq, 2 * lk]),
    dispatch: [B * heads * Lq, 1, 1],
    workgroupSize: [WG, 1, 1],
    uniforms: ATTENTION_UNIFORMS,
    getUserCode: () => `
  const DH = ${dh};
  var<workgroup> qs : array<f32, DH>;
  var<workgroup> os : array<f32, DH>;
  var<workgroup> part : array<f32, ${2 * WG}>;
  var<workgroup> sc : array<f32, ${MAX_FUSED_KEYS}>;
  var<workgroup> dp : array<f32, ${MAX_FUSED_KEYS}>;
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
    for (var j = tid; j < lk; j += ${WG}) { let pj = sc[j] * inv; sc[j] = pj; r += pj * dp[j]; }
    let rs = sumAll(tid, r);
    if (valid) {
      let base = ((b * heads + h) * lq + i) * 2 * lk;
      for (var j = tid; j < lk; j += ${WG}) { result[base + j] = sc[j]; result[base + lk + j] = uniforms.scale * sc[j] * (dp[j] - rs); }
    }
  }`,
  };
}

/**
 * Backward pass, second kernel: the gradient of one packed input tensor [B, L, C] from the first kernel's output g:
 * dQ = scale dS K in its query columns (when it is the query tensor, uniform rq = 1), dK = scale dS^T Q and
 * dV = P^T dO in its key and value columns (when it is source 1 or 2, uniform src), zero in other columns. One
 * invocation per element; a self-attention's q|k|v tensor gets all three in one pass.
 */
function attentionGradInputProgram(shape: number[], dim: number, heads: number, twoSources: boolean): Program {
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

/** Heads of columns [off, off + dim) of t [B, L, C]: [B, H, L, dim / H]. */
function headsOf(t: tf.Tensor3D, off: number, dim: number, H: number): tf.Tensor4D {
  const [B, L] = t.shape;
  return tf.transpose(tf.reshape(tf.slice(t, [0, 0, off], [B, L, dim]), [B, L, H, dim / H]), [0, 2, 1, 3]) as tf.Tensor4D;
}

/** Keys and values of every source, concatenated along the sequence: k, v [B, H, Lk, Dh]. */
function packedKeysValues(a: PackedAttention): { k: tf.Tensor4D; v: tf.Tensor4D } {
  const ks = a.sources.map((s) => headsOf(s.t, s.kOffset, a.dim, a.heads));
  const vs = a.sources.map((s) => headsOf(s.t, s.vOffset, a.dim, a.heads));
  return { k: ks.length === 1 ? ks[0]! : (tf.concat(ks, 2) as tf.Tensor4D), v: vs.length === 1 ? vs[0]! : (tf.concat(vs, 2) as tf.Tensor4D) };
}

/** softmax(q k^T / sqrt(Dh)) v in tfjs ops, heads merged: [B, Lq, dim]. */
function composedAttention(a: PackedAttention): tf.Tensor3D {
  const [B, Lq] = a.q.shape;
  const q = headsOf(a.q, a.qOffset, a.dim, a.heads);
  const { k, v } = packedKeysValues(a);
  const p = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(a.dim / a.heads)), -1);
  return tf.reshape(tf.transpose(tf.matMul(p as tf.Tensor4D, v), [0, 2, 1, 3]), [B, Lq, a.dim]) as tf.Tensor3D;
}

/**
 * Scaled dot-product attention without masks (torch.nn.MultiheadAttention's core, eval mode) on packed
 * projections (see {@link PackedAttention}): -> [B, Lq, dim], heads merged.
 */
export function packedAttention(a: PackedAttention): tf.Tensor3D {
  const lk = a.sources.reduce((n, s) => n + s.t.shape[1], 0);
  const dh = a.dim / a.heads;
  const work = a.q.shape[0] * a.q.shape[1] * lk * a.dim;
  if (!fusedKernelsActive() || a.sources.length > 2 || lk > MAX_FUSED_KEYS || dh > MAX_FUSED_HEAD_DIM || work > FUSED_ATTENTION_MAX_WORK) {
    return composedAttention(a);
  }
  register();
  const attrs = { qOffset: a.qOffset, dim: a.dim, heads: a.heads, offsets: a.sources.flatMap((s) => [s.kOffset, s.vOffset]) };
  // one input when queries, keys and values share a tensor: its gradient is then one kernel, not a sum of two
  const self = a.sources.length === 1 && a.sources[0]!.t === a.q;
  const inputs: Record<string, tf.Tensor> = { q: a.q };
  if (!self) a.sources.forEach((s, i) => (inputs[`s${i + 1}`] = s.t));
  const name = self ? SELF_ATTENTION : ATTENTION[a.sources.length - 1]!;
  return tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}

/**
 * Gradients of LayerNorm(x + r) * gamma + beta for the upstream gradient dy (all [..., D]; gamma [D]), on WebGPU:
 * two row kernels (the input's gradient, also the residual's; dy * xhat, summed over rows for gamma's) and a sum
 * over rows for beta's, instead of ~17 composed ops.
 */
function layerNormGradients(dy: tf.Tensor, x: tf.Tensor, r: tf.Tensor | null, gamma: tf.Tensor, eps: number): { x: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor } {
  const dim = x.shape[x.rank - 1]!;
  const rows = x.size / dim;
  const inputs = (r ? { x, r, gamma, dy } : { x, gamma, dy }) as unknown as tf.NamedTensorMap;
  const attrs = { eps } as unknown as tf.NamedAttrMap;
  const dx = tf.engine().runKernel(LAYER_NORM_GRAD_X, inputs, attrs) as tf.Tensor;
  const dyXhat = tf.engine().runKernel(LAYER_NORM_GRAD_ROWS, inputs, attrs) as tf.Tensor;
  return { x: dx, gamma: tf.sum(tf.reshape(dyXhat, [rows, dim]), 0), beta: tf.sum(tf.reshape(dy, [rows, dim]), 0) };
}

// ---------------------------------------------------------------------------------------------------------------
// AdamW update (tfjs's Adam composes ~15 kernels per variable): one dispatch updates the moments of up to
// ADAMW_GROUP variables in place, then one per variable makes its new value.

const ADAMW_MOMENTS = "PerfrdiffAdamWMoments";
const ADAMW_PARAM = "PerfrdiffAdamWParam";
/** Variables per moments dispatch: WebGPU's default limit of 8 storage buffers per shader, one of them the output. */
export const ADAMW_GROUP = 7;

/** Hyper-parameters of one AdamW step as torch.optim.AdamW applies them (bias corrections of this step included). */
export interface AdamWStep {
  beta1: number;
  beta2: number;
  /** 1 - lr * weight_decay: the decoupled decay, applied to the parameter before the Adam update */
  decay: number;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  correction2Sqrt: number;
  eps: number;
}

/**
 * WebGPU only (see {@link fusedKernelsActive}): updates, in place, the moments of a group of at most ADAMW_GROUP
 * variables held in one tensor `moments` [2 * total]: member k (size n_k, o_k = sizes of the members before it) keeps
 * m in [2 o_k, 2 o_k + n_k) and v in [2 o_k + n_k, 2 o_k + 2 n_k). grads[k] is member k's gradient, or null to leave
 * its moments as they are. m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2. The caller owns `moments` alone (it is
 * written in place, so no other tensor may share its data).
 */
export function adamWGroupMoments(moments: tf.Tensor, sizes: number[], grads: (tf.Tensor | null)[], beta1: number, beta2: number): void {
  const some = grads.find((g) => g);
  if (!some) return;
  register();
  // a member without a gradient is bound to another's (every binding needs a buffer) and skipped
  const inputs: Record<string, tf.Tensor> = { moments };
  grads.forEach((g, k) => (inputs[`g${k}`] = g ?? some));
  const attrs = { sizes, present: grads.map((g) => (g ? 1 : 0)), beta1, beta2 };
  const same = tf.engine().runKernel(ADAMW_MOMENTS, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  same.dispose(); // a second handle on `moments`' data
}

/**
 * WebGPU only: the variable after a step, given its group's moments after the step (see {@link adamWGroupMoments};
 * `offset` = 2 o_k): p decay - stepSize m / (sqrt(v) / correction2Sqrt + eps), the shape of `param`.
 */
export function adamWParam(param: tf.Tensor, moments: tf.Tensor, offset: number, s: AdamWStep): tf.Tensor {
  register();
  return tf.engine().runKernel(ADAMW_PARAM, { param, moments } as unknown as tf.NamedTensorMap, { ...s, offset } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function registerAdamW(): void {
  const ints = (...v: number[]): Uniform[] => v.map((x) => ({ type: "int32", data: [x] }));
  const f32 = (...v: number[]): Uniform[] => v.map((x) => ({ type: "float32", data: [x] }));
  tf.registerKernel({
    kernelName: ADAMW_MOMENTS,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
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
      const p = elementwiseProgram(`perfrdiffAdamWMoments_${K}`, sizes.map((_, k) => `g${k}`), offsets[K]!, members.join(""), uniforms);
      const grads = sizes.map((_, k) => inputs[`g${k}`]!);
      // in place: the output is the moments tensor itself (not also bound as an input), handed back as a second
      // handle on its data (one more reference, as tfjs's Reshape does)
      const out = run(backend, p, grads, [...ints(...offsets, ...present), ...f32(beta1, beta2)], inputs.moments!);
      (backend as WebGPUBackend).incRef(out.dataId);
      return { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
    }) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: ADAMW_PARAM,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const s = attrs as unknown as AdamWStep & { offset: number };
      const param = inputs.param!;
      const n = param.shape.reduce((p, q) => p * q, 1);
      const body = `let m = moments[uniforms.offset + index];
      let v = moments[uniforms.offset + uniforms.n + index];
      result[index] = param[index] * uniforms.decay - uniforms.stepSize * m / (sqrt(v) / uniforms.c2 + uniforms.eps);`;
      const uniforms = "offset : i32, n : i32, decay : f32, stepSize : f32, c2 : f32, eps : f32,";
      const p = elementwiseProgram("perfrdiffAdamWParam", ["param", "moments"], n, body, uniforms);
      const out = run(backend, p, [param, inputs.moments!], [...ints(s.offset, n), ...f32(s.decay, s.stepSize, s.correction2Sqrt, s.eps)]);
      return { ...out, shape: param.shape };
    }) as unknown as tf.KernelFunc,
  });
}

// ---------------------------------------------------------------------------------------------------------------

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** A LayerNorm program's kernel: inputs x, r (when given), gamma (not for gradRows), then beta (forward) or dy. */
function layerNormKernel(mode: LayerNormMode): tf.KernelFunc {
  return (({ inputs, backend, attrs }: KernelArgs) => {
    const { x, r, gamma, beta, dy } = inputs;
    const dim = x!.shape[x!.shape.length - 1]!;
    const rows = x!.shape.reduce((p, q) => p * q, 1) / dim;
    const ins = [x!, ...(r ? [r] : []), ...(mode === "gradRows" ? [] : [gamma!]), mode === "forward" ? beta! : dy!];
    const out = run(backend, layerNormProgram(rows, dim, !!r, mode), ins, [{ type: "float32", data: [attrs!.eps as number] }]);
    return { ...out, shape: x!.shape };
  }) as unknown as tf.KernelFunc;
}

function registerLayerNorm(kernelName: string, residual: boolean): void {
  tf.registerKernel({ kernelName, backendName: "webgpu", kernelFunc: layerNormKernel("forward") });
  tf.registerGradient({
    kernelName,
    inputsToSave: residual ? ["x", "r", "gamma"] : ["x", "gamma"],
    gradFunc: (dy, saved, attrs) => {
      const [x, r, g] = residual ? saved : [saved[0]!, null, saved[1]!];
      const grads = layerNormGradients(dy as tf.Tensor, x!, r, g!, (attrs as unknown as { eps: number }).eps);
      const map: Record<string, () => tf.Tensor> = { x: () => grads.x, gamma: () => grads.gamma, beta: () => grads.beta };
      if (residual) map.r = () => grads.x;
      return map;
    },
  });
}

function registerGelu(): void {
  tf.registerKernel({
    kernelName: GELU,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend }: KernelArgs) => {
      const x = inputs.x!;
      const out = run(backend, geluProgram("perfrdiffGelu", ["x"], x.shape.reduce((p, q) => p * q, 1), "0.5 * v * (1.0 + erfAS(v * 0.7071067811865476))"), [x]);
      return { ...out, shape: x.shape };
    }) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: GELU_GRAD,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend }: KernelArgs) => {
      const { x, dy } = inputs;
      // d/dv of v Phi(v) = Phi(v) + v phi(v)
      const expr = "dy[index] * (0.5 * (1.0 + erfAS(v * 0.7071067811865476)) + v * exp(-0.5 * v * v) * 0.3989422804014327)";
      const out = run(backend, geluProgram("perfrdiffGeluGrad", ["x", "dy"], x!.shape.reduce((p, q) => p * q, 1), expr), [x!, dy!]);
      return { ...out, shape: x!.shape };
    }) as unknown as tf.KernelFunc,
  });
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ["x"],
    gradFunc: (dy, saved) => ({
      x: () => tf.engine().runKernel(GELU_GRAD, { x: saved[0]!, dy: dy as tf.Tensor } as unknown as tf.NamedTensorMap) as tf.Tensor,
    }),
  });
}

interface AttentionAttrs {
  qOffset: number;
  dim: number;
  heads: number;
  /** kOffset, vOffset of each source */
  offsets: number[];
}

const ATTENTION_GRAD_SCORES = "PerfrdiffAttentionGradScores";
const ATTENTION_GRAD_INPUT = "PerfrdiffAttentionGradInput";

/** The packed tensors of an attention kernel's inputs: the query tensor and the sources (a self-attention's are one). */
function attentionOperands(inputs: tf.NamedTensorInfoMap): { q: tf.TensorInfo; srcs: tf.TensorInfo[] } {
  const q = inputs.q!;
  return { q, srcs: inputs.s1 ? [inputs.s1, ...(inputs.s2 ? [inputs.s2] : [])] : [q] };
}

/**
 * The forward kernels: `sources` names the key/value inputs (none: self-attention, whose one input `q` holds
 * queries, keys and values). The backward pass is two kernels per input tensor or fewer (see the programs above).
 */
function registerAttention(kernelName: string, sources: string[]): void {
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const a = attrs as unknown as AttentionAttrs;
      const { q, srcs } = attentionOperands(inputs);
      const [B, Lq] = q.shape as [number, number, number];
      const program = attentionProgram(B, Lq, a.dim, a.heads, srcs.length === 2);
      return run(backend, program, [q, ...srcs], attentionUniforms(q, srcs, a));
    }) as unknown as tf.KernelFunc,
  });
  tf.registerGradient({
    kernelName,
    inputsToSave: ["q", ...sources],
    gradFunc: (dy, saved, attrs) => {
      const ins: Record<string, tf.Tensor> = { q: saved[0]!, dy: dy as tf.Tensor };
      sources.forEach((n, i) => (ins[n] = saved[i + 1]!));
      const g = tf.engine().runKernel(ATTENTION_GRAD_SCORES, ins as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
      // the gradient of the query tensor (query: true) or of source 1 or 2
      const gradOf = (query: boolean, source: number) => () =>
        tf.engine().runKernel(ATTENTION_GRAD_INPUT, { ...ins, g } as unknown as tf.NamedTensorMap, { ...attrs, query, source } as unknown as tf.NamedAttrMap) as tf.Tensor;
      if (!sources.length) return { q: gradOf(true, 1) };
      return Object.fromEntries([["q", gradOf(true, 0)], ...sources.map((n, i) => [n, gradOf(false, i + 1)])]);
    },
  });
}

function registerAttentionBackward(): void {
  tf.registerKernel({
    kernelName: ATTENTION_GRAD_SCORES,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const a = attrs as unknown as AttentionAttrs;
      const { q, srcs } = attentionOperands(inputs);
      const lk = srcs.reduce((n, t) => n + t.shape[1]!, 0);
      const program = attentionGradScoresProgram(q.shape[0]!, q.shape[1]!, a.dim, a.heads, lk, srcs.length === 2);
      return run(backend, program, [q, ...srcs, inputs.dy!], attentionUniforms(q, srcs, a));
    }) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: ATTENTION_GRAD_INPUT,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const a = attrs as unknown as AttentionAttrs & { query: boolean; source: number };
      const { q, srcs } = attentionOperands(inputs);
      const shape = a.query ? q.shape : srcs[a.source - 1]!.shape;
      const program = attentionGradInputProgram(shape, a.dim, a.heads, srcs.length === 2);
      const roles: Uniform[] = [a.query ? 1 : 0, a.source].map((v) => ({ type: "int32", data: [v] }));
      return run(backend, program, [inputs.g!, q, ...srcs, inputs.dy!], [...attentionUniforms(q, srcs, a), ...roles]);
    }) as unknown as tf.KernelFunc,
  });
}

function register(): void {
  if (tf.getKernel(LAYER_NORM, "webgpu")) return;
  registerLayerNorm(LAYER_NORM, false);
  registerLayerNorm(ADD_LAYER_NORM, true);
  tf.registerKernel({ kernelName: LAYER_NORM_GRAD_X, backendName: "webgpu", kernelFunc: layerNormKernel("gradX") });
  tf.registerKernel({ kernelName: LAYER_NORM_GRAD_ROWS, backendName: "webgpu", kernelFunc: layerNormKernel("gradRows") });
  registerGelu();
  registerAttention(SELF_ATTENTION, []);
  registerAttention(ATTENTION[0]!, ["s1"]);
  registerAttention(ATTENTION[1]!, ["s1", "s2"]);
  registerAttentionBackward();
  registerAdamW();
}
