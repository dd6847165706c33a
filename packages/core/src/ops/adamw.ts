/**
 * AdamW's update as ops: on backends with core's AdamW kernels (WebGPU, wasm) one kernel updates the moments of a group
 * of variables in place and one per variable makes its new value; `training/adamw.ts` composes tfjs ops elsewhere.
 */
import type * as tf from "@tensorflow/tfjs";
import { ADAMW_GROUP, ADAMW_MOMENTS, ADAMW_PARAM } from "../kernels/names";
import { hasKernel } from "../kernels/registry";
import { runKernel } from "../kernels/run";

export { ADAMW_GROUP };

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

/** Whether the grouped AdamW kernels run on the active backend (WebGPU, wasm). */
export function groupedAdamW(): boolean {
  return hasKernel(ADAMW_MOMENTS) && hasKernel(ADAMW_PARAM);
}

/**
 * Updates, in place, the moments of a group of at most ADAMW_GROUP variables held in one tensor `moments` [2 * total]:
 * member k (size n_k, o_k = sizes of the members before it) keeps m in [2 o_k, 2 o_k + n_k) and v in
 * [2 o_k + n_k, 2 o_k + 2 n_k). grads[k] is member k's gradient, or null to leave its moments as they are. The caller
 * owns `moments` alone (it is written in place, so no other tensor may share its data). Needs {@link groupedAdamW}.
 */
export function adamWGroupMoments(moments: tf.Tensor, sizes: number[], grads: (tf.Tensor | null)[], beta1: number, beta2: number): void {
  const some = grads.find((g) => g);
  if (!some) return;
  // a member without a gradient is bound to another's (every binding needs a buffer) and skipped
  const inputs: Record<string, tf.Tensor> = { moments };
  grads.forEach((g, k) => (inputs[`g${k}`] = g ?? some));
  const same = runKernel(ADAMW_MOMENTS, inputs, { sizes, present: grads.map((g) => (g ? 1 : 0)), beta1, beta2 });
  same.dispose(); // a second handle on `moments`' data
}

/**
 * The variable after a step, given its group's moments after the step (see {@link adamWGroupMoments};
 * `offset` = 2 o_k): p decay - stepSize m / (sqrt(v) / correction2Sqrt + eps), the shape of `param`.
 */
export function adamWParam(param: tf.Tensor, moments: tf.Tensor, offset: number, s: AdamWStep): tf.Tensor {
  return runKernel(ADAMW_PARAM, { param, moments }, { ...s, offset });
}
