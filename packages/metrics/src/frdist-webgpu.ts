/// <reference types="@webgpu/types" />
import { requestWebGPUDevice as requestPlatformDevice } from "@perfrdiff/platform";
import type { PreparedInputs } from "./inputs";
import { EMOTION_DIM, FRDIST_GROUPS } from "@perfrdiff/layout";

/**
 * FRdist on the GPU through WebGPU: every (prediction, appropriate reaction, group) DTW is one workgroup that sweeps
 * the cost matrix by anti-diagonals (cells on one anti-diagonal are independent), keeping the last three diagonals in
 * workgroup memory. Costs accumulate in float32 (WGSL has no float64): results agree with the float64 reference to
 * about 1e-6 relative.
 *
 * Written as a raw WGSL kernel rather than with gpu.js or tfjs: the wavefront needs workgroup barriers and shared
 * memory, which gpu.js's one-output-per-thread kernels and tfjs's tensor ops do not express.
 */

const WORKGROUP = 256;

function shaderSource(t: number): string {
  return /* wgsl */ `
struct Params { base: u32, t: u32, dims: u32, pad: u32 };
@group(0) @binding(0) var<storage, read> preds: array<f32>;
@group(0) @binding(1) var<storage, read> reals: array<f32>;
@group(0) @binding(2) var<storage, read> pairs: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> result: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

const T: u32 = ${t}u;
const D: u32 = ${EMOTION_DIM}u;
const INF: f32 = 3.0e38;
var<workgroup> diag: array<f32, ${3 * t}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let pairIndex = params.base + wid.x;
  let pair = pairs[pairIndex];
  let g = wid.y;
  var start = 0u;
  var end = 15u;
  if (g == 1u) { start = 15u; end = 17u; }
  if (g == 2u) { start = 17u; end = 25u; }
  let pOff = pair.x * T * D;
  let rOff = pair.y * T * D;
  for (var d = 0u; d < 2u * T - 1u; d++) {
    let cur = (d % 3u) * T;
    let prev1 = ((d + 2u) % 3u) * T;
    let prev2 = ((d + 1u) % 3u) * T;
    var lo = 0u;
    if (d >= T) { lo = d - T + 1u; }
    let hi = min(d, T - 1u);
    for (var i = lo + lid.x; i <= hi; i += ${WORKGROUP}u) {
      let j = d - i;
      var c = 0.0;
      for (var k = start; k < end; k++) {
        let x = preds[pOff + i * D + k] - reals[rOff + j * D + k];
        c += x * x;
      }
      var m = INF;
      if (i == 0u && j == 0u) {
        m = 0.0;
      } else {
        if (i > 0u) { m = min(m, diag[prev1 + i - 1u]); }
        if (j > 0u) { m = min(m, diag[prev1 + i]); }
        if (i > 0u && j > 0u) { m = min(m, diag[prev2 + i - 1u]); }
      }
      diag[cur + i] = c + m;
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    result[pairIndex * 3u + g] = diag[((2u * T - 2u) % 3u) * T + T - 1u];
  }
}`;
}

/** Where WebGPU's usage flags live: the browser's globals, or those of the API the device came from. */
let usage: { buffer: typeof GPUBufferUsage; map: typeof GPUMapMode } | undefined;

/**
 * A WebGPU device for FRdist: the browser's `navigator.gpu`, or in Node the optional `webgpu` package (Dawn). Null
 * when no adapter exists (e.g. no GPU, or Node without the package).
 */
export async function requestWebGPUDevice(): Promise<GPUDevice | null> {
  const got = await requestPlatformDevice();
  if (!got) return null;
  usage = { buffer: got.api.globals.GPUBufferUsage, map: got.api.globals.GPUMapMode };
  return got.device;
}

function flags() {
  if (!usage) {
    const g = globalThis as unknown as { GPUBufferUsage?: typeof GPUBufferUsage; GPUMapMode?: typeof GPUMapMode };
    if (!g.GPUBufferUsage || !g.GPUMapMode) throw new Error("WebGPU globals are missing; get the device from requestWebGPUDevice()");
    usage = { buffer: g.GPUBufferUsage, map: g.GPUMapMode };
  }
  return usage;
}

function upload(device: GPUDevice, data: ArrayBufferView, extraUsage: number): GPUBuffer {
  const u = flags().buffer;
  const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
  const buffer = device.createBuffer({ size, usage: u.STORAGE | u.COPY_DST | extraUsage });
  // writeBuffer refuses SharedArrayBuffers (inputs shared with worker threads): copy those first.
  const bytes =
    data.buffer instanceof ArrayBuffer
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buffer;
}

/**
 * FRdist's inner minima on a WebGPU device: per clip and prediction, the minimum weighted DTW over the clip's
 * appropriate reactions, `[N, K]`. All pairs are computed (no early abandoning: the GPU is not the bottleneck).
 */
export async function frdistMinimaWebGPU(
  p: PreparedInputs,
  device: GPUDevice,
  onProgress?: (done: number, total: number) => void,
): Promise<Float64Array> {
  const { n, k, t } = p;
  const u = flags();
  const maxBinding = device.limits.maxStorageBufferBindingSize;
  const clipBytes = k * t * EMOTION_DIM * 4;
  if (p.listener.byteLength > maxBinding || clipBytes > maxBinding) {
    throw new Error(`FRdist on WebGPU: inputs exceed the device's storage binding limit of ${maxBinding} bytes`);
  }
  if (3 * t * 4 > device.limits.maxComputeWorkgroupStorageSize) {
    throw new Error(
      `FRdist on WebGPU: T = ${t} frames needs ${3 * t * 4} bytes of workgroup memory, the device allows ${device.limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const module = device.createShaderModule({ code: shaderSource(t) });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const reals = upload(device, p.listener, 0);
  const minima = new Float64Array(n * k).fill(Infinity);
  const clipsPerChunk = Math.max(1, Math.min(n, Math.floor(maxBinding / clipBytes)));
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  for (let c0 = 0; c0 < n; c0 += clipsPerChunk) {
    const c1 = Math.min(n, c0 + clipsPerChunk);
    const preds = upload(device, p.predictions.subarray(c0 * k * t * EMOTION_DIM, c1 * k * t * EMOTION_DIM), 0);
    const pairList: number[] = [];
    const owner: number[] = [];
    for (let c = c0; c < c1; c++) {
      for (let kk = 0; kk < k; kk++) {
        for (const nb of p.neighbourLists[c]) {
          pairList.push((c - c0) * k + kk, nb);
          owner.push(c * k + kk);
        }
      }
    }
    const pairCount = owner.length;
    const pairs = upload(device, Uint32Array.from(pairList), 0);
    const result = device.createBuffer({ size: pairCount * 3 * 4, usage: u.buffer.STORAGE | u.buffer.COPY_SRC });
    const readback = device.createBuffer({ size: pairCount * 3 * 4, usage: u.buffer.MAP_READ | u.buffer.COPY_DST });
    const paramBuffers: GPUBuffer[] = [];
    const encoder = device.createCommandEncoder();
    for (let base = 0; base < pairCount; base += maxGroups) {
      const params = device.createBuffer({ size: 16, usage: u.buffer.UNIFORM | u.buffer.COPY_DST });
      device.queue.writeBuffer(params, 0, new Uint32Array([base, t, EMOTION_DIM, 0]));
      paramBuffers.push(params);
      const bind = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: preds } },
          { binding: 1, resource: { buffer: reals } },
          { binding: 2, resource: { buffer: pairs } },
          { binding: 3, resource: { buffer: result } },
          { binding: 4, resource: { buffer: params } },
        ],
      });
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bind);
      pass.dispatchWorkgroups(Math.min(maxGroups, pairCount - base), FRDIST_GROUPS.length);
      pass.end();
    }
    encoder.copyBufferToBuffer(result, 0, readback, 0, pairCount * 3 * 4);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(u.map.READ);
    const out = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    for (let q = 0; q < pairCount; q++) {
      let r = 0;
      for (let g = 0; g < FRDIST_GROUPS.length; g++) r += FRDIST_GROUPS[g][2] * Math.sqrt(out[q * 3 + g]);
      if (r < minima[owner[q]]) minima[owner[q]] = r;
    }
    for (const b of [preds, pairs, result, readback, ...paramBuffers]) b.destroy();
    onProgress?.(c1, n);
  }
  reals.destroy();
  return minima;
}
