/**
 * Fused kernels for tfjs-webgpu: residual add + LayerNorm, exact GELU (and its gradient) and multi-head attention
 * over packed projections, one GPU dispatch each.
 *
 * Why: on WebGPU a denoiser step was bound by dispatches, not arithmetic. Measured on an H200 (bench/results), a
 * guided step cost ~0.1 s whatever the batch, for ~515 kernels: tfjs composes LayerNorm from ~10 kernels, GELU from
 * 5, attention from ~9 (head transposes, products, softmax). These kernels replace them (113 kernels per step); other
 * backends keep the composed tfjs ops (same math), so results agree across backends within float32 rounding. Large
 * attention batches still take the composed ops, which are faster there (see FUSED_ATTENTION_MAX_WORK).
 *
 * Each kernel is a tfjs kernel registered for the webgpu backend only, with a gradient written in tfjs ops, so
 * training through it works on every path. The programs follow tfjs-webgpu's WebGPUProgram contract (4.22, pinned):
 * tfjs generates the buffer bindings, the `uniforms` struct (shapes, then our fields) and calls `main(index)` with
 * the global invocation index.
 */
import * as tf from "@tensorflow/tfjs";

/** The part of tfjs-webgpu's WebGPUBackend used here. */
interface WebGPUBackend {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: string, uniforms?: Uniform[]): tf.TensorInfo;
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

/** Workgroup sum (tree reduction in `red`); every invocation must call it, as it has barriers. */
const sumSnippet = `
  var<workgroup> red : array<f32, ${WG}>;
  fn sumAll(tid : i32, v : f32) -> f32 {
    red[tid] = v;
    workgroupBarrier();
    for (var n = ${WG / 2}; n > 0; n = n >> 1) {
      if (tid < n) { red[tid] = red[tid] + red[tid + n]; }
      workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
  }`;

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the same formula as tfjs's own erf kernels
const erfSnippet = `
  fn erfAS(v : f32) -> f32 {
    let a = abs(v);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return select(-y, y, v >= 0.0);
  }`;

function run(backend: unknown, program: Program, inputs: tf.TensorInfo[], uniforms?: Uniform[]): tf.TensorInfo {
  return (backend as WebGPUBackend).runWebGPUProgram(program, inputs, "float32", uniforms);
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

function elementwiseProgram(key: string, names: string[], size: number, expr: string): Program {
  return {
    variableNames: names,
    outputShape: [size],
    shaderKey: key,
    dispatchLayout: flat([size]),
    dispatch: [Math.ceil(size / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    getUserCode: () => `
  ${erfSnippet}
  fn main(index : i32) {
    if (index < uniforms.size) {
      let v = x[index];
      result[index] = ${expr};
    }
  }`,
  };
}

/** Exact GELU, x * Phi(x), as torch.nn.functional.gelu's default. Any shape. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (!fusedKernelsActive()) return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  register();
  return tf.engine().runKernel(GELU, { x } as unknown as tf.NamedTensorMap) as tf.Tensor;
}

// ---------------------------------------------------------------------------------------------------------------
// Multi-head attention over packed projections.

const ATTENTION = ["PerfrdiffAttention1", "PerfrdiffAttention2"]; // by number of key/value sources
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
 * One workgroup per (batch, head, block of QB queries), WG invocations. Scores: each pass takes WG / LANES keys, LANES
 * invocations per key reading its row in coalesced steps, each key row used for all QB queries; partial sums meet in
 * workgroup memory. Softmax per query, then each invocation accumulates head dims d = tid, tid + WG, ... over all keys
 * for the QB queries (value rows read once per workgroup, coalesced).
 */
function attentionProgram(B: number, Lq: number, dim: number, heads: number, twoSources: boolean): Program {
  const dh = dim / heads; // baked into the shader: its loops unroll, so each invocation keeps many loads in flight
  const qb = Array.from({ length: QB }, (_, i) => i);
  const srcs: (1 | 2)[] = twoSources ? [1, 2] : [1];
  // start of row j of the head's keys ("k") or values ("v") in source 1 or 2 ([B, L, C], columns at an offset)
  const row = (src: 1 | 2, j: string, off: "k" | "v") =>
    src === 1 ? `(b * uniforms.l1 + ${j}) * uniforms.c1 + uniforms.${off}1 + h * DH` : `(b * uniforms.l2 + ${j} - uniforms.l1) * uniforms.c2 + uniforms.${off}2 + h * DH`;
  const scoreLoop = (src: 1 | 2) => `
          let p = ${row(src, "j", "k")};
          for (var d = lane; d < DH; d += ${LANES}) {
            let kv = s${src}[p + d];
            ${qb.map((i) => `a${i} += qs[${i} * DH + d] * kv;`).join(" ")}
          }`;
  // values of keys [from, to) of one source, four rows per iteration (independent loads)
  const valueLoop = (src: 1 | 2, from: string, to: string) => `
        {
          var j = ${from};
          for (; j + 4 <= ${to}; j += 4) {
            let base = ${row(src, "j", "v")} + d;
            let rs = uniforms.c${src};
            let v0 = s${src}[base]; let v1 = s${src}[base + rs]; let v2 = s${src}[base + 2 * rs]; let v3 = s${src}[base + 3 * rs];
            ${qb.map((i) => `o${i} += sc[${i * MAX_FUSED_KEYS} + j] * v0 + sc[${i * MAX_FUSED_KEYS} + j + 1] * v1 + sc[${i * MAX_FUSED_KEYS} + j + 2] * v2 + sc[${i * MAX_FUSED_KEYS} + j + 3] * v3;`).join("\n            ")}
          }
          for (; j < ${to}; j++) {
            let v0 = s${src}[${row(src, "j", "v")} + d];
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
    uniforms: "lq : i32, heads : i32, cq : i32, qOff : i32, l1 : i32, c1 : i32, k1 : i32, v1 : i32, l2 : i32, c2 : i32, k2 : i32, v2 : i32, scale : f32,",
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

/** [B, H, L, Dh] -> [B, L, H * Dh]. */
const mergeHeads = (x: tf.Tensor4D) => {
  const [B, H, L, Dh] = x.shape;
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [B, L, H * Dh]) as tf.Tensor3D;
};

/** Column blocks [B, L, w] placed at their offsets in a zero tensor [B, L, C]; blocks on the same columns add. */
function placeColumns(C: number, blocks: { off: number; t: tf.Tensor3D }[]): tf.Tensor3D {
  const padded = blocks.map(({ off, t }) => tf.pad(t, [[0, 0], [0, 0], [off, C - off - t.shape[2]]]) as tf.Tensor3D);
  return (padded.length === 1 ? padded[0]! : tf.addN(padded)) as tf.Tensor3D;
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
  const inputs: Record<string, tf.Tensor> = { q: a.q };
  a.sources.forEach((s, i) => (inputs[`s${i + 1}`] = s.t));
  const attrs = { qOffset: a.qOffset, dim: a.dim, heads: a.heads, offsets: a.sources.flatMap((s) => [s.kOffset, s.vOffset]) };
  return tf.engine().runKernel(ATTENTION[a.sources.length - 1]!, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
}

/**
 * Gradients of LayerNorm(x + r) * gamma + beta for the upstream gradient dy (all [..., D]; gamma [D]): the fused
 * kernel's backward pass, in tfjs ops. x is also the gradient of r.
 */
export function layerNormGradients(dy: tf.Tensor, x: tf.Tensor, r: tf.Tensor | null, gamma: tf.Tensor, eps: number): { x: tf.Tensor; gamma: tf.Tensor; beta: tf.Tensor } {
  const dim = x.shape[x.rank - 1]!;
  const rows = x.size / dim;
  const dBeta = () => tf.sum(tf.reshape(dy, [rows, dim]), 0);
  if (fusedKernelsActive()) {
    // two row kernels (input gradient; dy * xhat, summed over rows for the weight's gradient) instead of ~17
    register();
    const inputs = (r ? { x, r, gamma, dy } : { x, gamma, dy }) as unknown as tf.NamedTensorMap;
    const attrs = { eps } as unknown as tf.NamedAttrMap;
    const dx = tf.engine().runKernel(LAYER_NORM_GRAD_X, inputs, attrs) as tf.Tensor;
    const dyXhat = tf.engine().runKernel(LAYER_NORM_GRAD_ROWS, inputs, attrs) as tf.Tensor;
    return { x: dx, gamma: tf.sum(tf.reshape(dyXhat, [rows, dim]), 0), beta: dBeta() };
  }
  const s = r ? tf.add(x, r) : x;
  const { mean, variance } = tf.moments(s, -1, true);
  const rstd = tf.rsqrt(tf.add(variance, eps));
  const xhat = tf.mul(tf.sub(s, mean), rstd);
  const dxhat = tf.mul(dy, gamma);
  // d/ds of (s - mean) * rstd applied to dxhat
  const ds = tf.mul(rstd, tf.sub(tf.sub(dxhat, tf.mean(dxhat, -1, true)), tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), -1, true))));
  return { x: ds, gamma: tf.sum(tf.reshape(tf.mul(dy, xhat), [rows, dim]), 0), beta: dBeta() };
}

/**
 * Gradients of {@link packedAttention} for the upstream gradient dy [B, Lq, dim]: one tensor per input (q, then each
 * source), shaped like it, zero outside the attended columns; the fused kernel's backward pass, in tfjs ops.
 */
export function packedAttentionGradients(dy: tf.Tensor, a: PackedAttention): tf.Tensor3D[] {
  const { qOffset, dim, heads } = a;
  const scale = 1 / Math.sqrt(dim / heads);
  // P = softmax(s Q K^T), O = P V: dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(dP P)), dQ = s dS K, dK = s dS^T Q
  const q = headsOf(a.q, qOffset, dim, heads);
  const { k, v } = packedKeysValues(a);
  const p = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale), -1) as tf.Tensor4D;
  const [B, Lq, Cq] = a.q.shape;
  const dO = tf.transpose(tf.reshape(dy, [B, Lq, heads, dim / heads]), [0, 2, 1, 3]) as tf.Tensor4D;
  const dV = tf.matMul(p, dO, true, false);
  const dP = tf.matMul(dO, v, false, true);
  const dS = tf.mul(p, tf.sub(dP, tf.sum(tf.mul(dP, p), -1, true))) as tf.Tensor4D;
  const dQ = mergeHeads(tf.mul(tf.matMul(dS, k), scale) as tf.Tensor4D);
  const dK = tf.mul(tf.matMul(dS, q, true, false), scale) as tf.Tensor4D;
  // the key sequence back into the sources' rows
  const lens = a.sources.map((s) => s.t.shape[1]);
  const dKs = (lens.length === 1 ? [dK] : tf.split(dK, lens, 2)) as tf.Tensor4D[];
  const dVs = (lens.length === 1 ? [dV] : tf.split(dV, lens, 2)) as tf.Tensor4D[];
  return [
    placeColumns(Cq, [{ off: qOffset, t: dQ }]),
    ...a.sources.map((s, i) =>
      placeColumns(s.t.shape[2], [
        { off: s.kOffset, t: mergeHeads(dKs[i]!) },
        { off: s.vOffset, t: mergeHeads(dVs[i]!) },
      ]),
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// AdamW update: moments, then the parameter, one dispatch each (tfjs's Adam composes ~15 kernels per variable).

const ADAMW_MOMENTS = "PerfrdiffAdamWMoments";
const ADAMW_PARAM = "PerfrdiffAdamWParam";

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
 * First and second moments of one variable after a step: moments [2, n] (m then v, n = the variable's size), grad
 * of the variable's shape -> [2, n]. m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2.
 */
export function adamWMoments(moments: tf.Tensor, grad: tf.Tensor, s: AdamWStep): tf.Tensor2D {
  if (!fusedKernelsActive()) {
    return tf.tidy(() => {
      const g = tf.reshape(grad, [1, -1]);
      const [m, v] = tf.split(moments, 2, 0);
      return tf.concat([tf.add(tf.mul(m!, s.beta1), tf.mul(g, 1 - s.beta1)), tf.add(tf.mul(v!, s.beta2), tf.mul(tf.square(g), 1 - s.beta2))], 0) as tf.Tensor2D;
    });
  }
  register();
  return tf.engine().runKernel(ADAMW_MOMENTS, { moments, grad } as unknown as tf.NamedTensorMap, { ...s } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

/**
 * The variable after a step, given its moments after the step [2, n]: p decay - stepSize m / (sqrt(v) /
 * correction2Sqrt + eps), the shape of `param`.
 */
export function adamWParam(param: tf.Tensor, moments: tf.Tensor, s: AdamWStep): tf.Tensor {
  if (!fusedKernelsActive()) {
    return tf.tidy(() => {
      const [m, v] = tf.split(moments, 2, 0);
      const update = tf.div(tf.mul(m!, s.stepSize), tf.add(tf.div(tf.sqrt(v!), s.correction2Sqrt), s.eps));
      return tf.sub(tf.mul(param, s.decay), tf.reshape(update, param.shape));
    });
  }
  register();
  return tf.engine().runKernel(ADAMW_PARAM, { param, moments } as unknown as tf.NamedTensorMap, { ...s } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function registerAdamW(): void {
  const size = (t: tf.TensorInfo) => t.shape.reduce((p, q) => p * q, 1);
  const program = (key: string, names: string[], n: number, total: number, uniforms: string, body: string): Program => ({
    variableNames: names,
    outputShape: [total],
    shaderKey: key,
    dispatchLayout: flat([total]),
    dispatch: [Math.ceil(total / WG), 1, 1],
    workgroupSize: [WG, 1, 1],
    size: true,
    uniforms: `n : i32, ${uniforms}`,
    getUserCode: () => `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let n = uniforms.n;
      ${body}
    }
  }`,
  });
  const f32 = (...v: number[]): Uniform[] => v.map((x) => ({ type: "float32", data: [x] }));
  tf.registerKernel({
    kernelName: ADAMW_MOMENTS,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const s = attrs as unknown as AdamWStep;
      const n = size(inputs.grad!);
      const body = `if (index < n) {
        result[index] = uniforms.b1 * moments[index] + (1.0 - uniforms.b1) * grad[index];
      } else {
        let g = grad[index - n];
        result[index] = uniforms.b2 * moments[index] + (1.0 - uniforms.b2) * g * g;
      }`;
      const p = program("perfrdiffAdamWMoments", ["moments", "grad"], n, 2 * n, "b1 : f32, b2 : f32,", body);
      const out = run(backend, p, [inputs.moments!, inputs.grad!], [{ type: "int32", data: [n] }, ...f32(s.beta1, s.beta2)]);
      return { ...out, shape: [2, n] };
    }) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: ADAMW_PARAM,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const s = attrs as unknown as AdamWStep;
      const param = inputs.param!;
      const n = size(param);
      const body = `let denom = sqrt(moments[index + n]) / uniforms.c2 + uniforms.eps;
      result[index] = param[index] * uniforms.decay - uniforms.stepSize * moments[index] / denom;`;
      const p = program("perfrdiffAdamWParam", ["param", "moments"], n, n, "decay : f32, stepSize : f32, c2 : f32, eps : f32,", body);
      const out = run(backend, p, [param, inputs.moments!], [{ type: "int32", data: [n] }, ...f32(s.decay, s.stepSize, s.correction2Sqrt, s.eps)]);
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

function registerLayerNorm(kernelName: string, residual: boolean): void {
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const { x, r, gamma, beta } = inputs;
      const dim = x!.shape[x!.shape.length - 1]!;
      const rows = x!.shape.reduce((p, q) => p * q, 1) / dim;
      const ins = residual ? [x!, r!, gamma!, beta!] : [x!, gamma!, beta!];
      const out = run(backend, layerNormProgram(rows, dim, residual, "forward"), ins, [{ type: "float32", data: [attrs!.eps as number] }]);
      return { ...out, shape: x!.shape };
    }) as unknown as tf.KernelFunc,
  });
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

function registerLayerNormBackward(kernelName: string, mode: LayerNormMode): void {
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const { x, r, gamma, dy } = inputs;
      const dim = x!.shape[x!.shape.length - 1]!;
      const rows = x!.shape.reduce((p, q) => p * q, 1) / dim;
      const ins = [x!, ...(r ? [r] : []), ...(mode === "gradRows" ? [] : [gamma!]), dy!];
      const out = run(backend, layerNormProgram(rows, dim, !!r, mode), ins, [{ type: "float32", data: [attrs!.eps as number] }]);
      return { ...out, shape: x!.shape };
    }) as unknown as tf.KernelFunc,
  });
}

function registerGelu(): void {
  tf.registerKernel({
    kernelName: GELU,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend }: KernelArgs) => {
      const x = inputs.x!;
      const out = run(backend, elementwiseProgram("perfrdiffGelu", ["x"], x.shape.reduce((p, q) => p * q, 1), "0.5 * v * (1.0 + erfAS(v * 0.7071067811865476))"), [x]);
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
      const out = run(backend, elementwiseProgram("perfrdiffGeluGrad", ["x", "dy"], x!.shape.reduce((p, q) => p * q, 1), expr), [x!, dy!]);
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

function registerAttention(kernelName: string, sourceCount: number): void {
  const names = ["s1", "s2"].slice(0, sourceCount);
  tf.registerKernel({
    kernelName,
    backendName: "webgpu",
    kernelFunc: (({ inputs, backend, attrs }: KernelArgs) => {
      const { qOffset, dim, heads, offsets } = attrs as unknown as AttentionAttrs;
      const q = inputs.q!;
      const srcs = names.map((n) => inputs[n]!);
      const [B, Lq, Cq] = q.shape as [number, number, number];
      const program = attentionProgram(B, Lq, dim, heads, sourceCount === 2);
      const geom = (i: number) => (srcs[i] ? [srcs[i]!.shape[1]!, srcs[i]!.shape[2]!, offsets[2 * i]!, offsets[2 * i + 1]!] : [0, 1, 0, 0]);
      const ints = [Lq, heads, Cq, qOffset, ...geom(0), ...geom(1)];
      const uniforms: Uniform[] = ints.map((v) => ({ type: "int32", data: [v] }));
      uniforms.push({ type: "float32", data: [1 / Math.sqrt(dim / heads)] });
      return run(backend, program, [q, ...srcs], uniforms);
    }) as unknown as tf.KernelFunc,
  });
  tf.registerGradient({
    kernelName,
    inputsToSave: ["q", ...names],
    gradFunc: (dy, saved, attrs) => {
      const { qOffset, dim, heads, offsets } = attrs as unknown as AttentionAttrs;
      const [q, ...srcs] = saved as tf.Tensor3D[];
      const sources = srcs.map((t, i) => ({ t, kOffset: offsets[2 * i]!, vOffset: offsets[2 * i + 1]! }));
      const [dq, ...ds] = packedAttentionGradients(dy as tf.Tensor, { q: q!, qOffset, dim, heads, sources });
      return Object.fromEntries([["q", () => dq!], ...ds.map((d, i) => [names[i]!, () => d])]);
    },
  });
}

function register(): void {
  if (tf.getKernel(LAYER_NORM, "webgpu")) return;
  registerLayerNorm(LAYER_NORM, false);
  registerLayerNorm(ADD_LAYER_NORM, true);
  registerLayerNormBackward(LAYER_NORM_GRAD_X, "gradX");
  registerLayerNormBackward(LAYER_NORM_GRAD_ROWS, "gradRows");
  registerGelu();
  registerAttention(ATTENTION[0]!, 1);
  registerAttention(ATTENTION[1]!, 2);
  registerAdamW();
}
