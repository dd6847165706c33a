/**
 * AdamW's moment update for a group of variables, in place, as one JS loop over the heap (the composed update is 13
 * tfjs ops per variable, and at the small preset's sizes each op's fixed cost outweighs its arithmetic). The same
 * contract as the WebGPU kernel (kernels/names.ts ADAMW_MOMENTS): member k's m and v at [2 o_k, 2 o_k + 2 n_k) of
 * `moments`; m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2 for members with a gradient.
 */
import type * as tf from "@tensorflow/tfjs";
import { ADAMW_MOMENTS } from "../names";
import { heapF32 } from "./heap";
import type { WasmBackend } from "./heap";

function adamWMoments({ inputs, attrs, backend: be }: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const backend = be as WasmBackend;
  const { sizes, present, beta1, beta2 } = attrs as unknown as { sizes: number[]; present: number[]; beta1: number; beta2: number };
  const moments = inputs.moments!;
  const all = heapF32(backend, moments);
  let offset = 0;
  sizes.forEach((n, k) => {
    if (present[k]) {
      const g = heapF32(backend, inputs[`g${k}`]!, n);
      const m = all.subarray(2 * offset, 2 * offset + n);
      const v = all.subarray(2 * offset + n, 2 * offset + 2 * n);
      for (let i = 0; i < n; i++) {
        const gi = g[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
      }
    }
    offset += n;
  });
  // in place: a second handle on the moments' data (one more reference, as tfjs's Reshape does)
  backend.incRef(moments.dataId);
  return { dataId: moments.dataId, shape: moments.shape, dtype: moments.dtype };
}

export const adamWMomentsKernel: tf.KernelConfig = { kernelName: ADAMW_MOMENTS, backendName: "wasm", kernelFunc: adamWMoments as unknown as tf.KernelFunc };
