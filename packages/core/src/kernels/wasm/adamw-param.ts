/**
 * A variable after an AdamW step as one JS loop over the heap (see adamw-moments.ts for why): p decay - stepSize m /
 * (sqrt(v) / correction2Sqrt + eps), m and v read from the group's moments at `offset` = 2 o_k.
 */
import type * as tf from "@tensorflow/tfjs";
import { ADAMW_PARAM } from "../names";
import { heapF32 } from "./heap";
import type { WasmBackend } from "./heap";

function adamWParam({ inputs, attrs, backend: be }: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const backend = be as WasmBackend;
  const s = attrs as unknown as { offset: number; decay: number; stepSize: number; correction2Sqrt: number; eps: number };
  const param = inputs.param!;
  const out = backend.makeOutput(param.shape, "float32");
  // views after the allocation (it may grow the heap)
  const n = param.shape.reduce((a, b) => a * b, 1);
  const p = heapF32(backend, param, n);
  const all = heapF32(backend, inputs.moments!);
  const m = all.subarray(s.offset, s.offset + n);
  const v = all.subarray(s.offset + n, s.offset + 2 * n);
  const r = heapF32(backend, out, n);
  const { decay, stepSize, correction2Sqrt: c2, eps } = s;
  for (let i = 0; i < n; i++) r[i] = p[i]! * decay - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / c2 + eps);
  return out;
}

export const adamWParamKernel: tf.KernelConfig = { kernelName: ADAMW_PARAM, backendName: "wasm", kernelFunc: adamWParam as unknown as tf.KernelFunc };
