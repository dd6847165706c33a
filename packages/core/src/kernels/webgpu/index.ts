/** Core's WebGPU kernels and the gradients of the forward ones, registered together by kernels/registry.ts. */
import type * as tf from "@tensorflow/tfjs";
import { adamWMomentsKernel } from "./adamw-moments";
import { adamWParamKernel } from "./adamw-param";
import { attentionGradients, attentionKernels } from "./attention";
import { attentionGradInputKernel } from "./attention-grad-input";
import { attentionGradScoresKernel } from "./attention-grad-scores";
import { dropoutGradient, dropoutKernel } from "./dropout";
import { geluGradient, geluKernel } from "./gelu";
import { geluGradKernel } from "./gelu-grad";
import { gruStepKernel } from "./gru-step";
import { layerNormGradients, layerNormKernels } from "./layer-norm";

export const webgpuKernels: tf.KernelConfig[] = [
  ...layerNormKernels,
  geluKernel,
  geluGradKernel,
  ...attentionKernels,
  attentionGradScoresKernel,
  attentionGradInputKernel,
  adamWMomentsKernel,
  adamWParamKernel,
  dropoutKernel,
  gruStepKernel,
];
export const webgpuGradients: tf.GradConfig[] = [...layerNormGradients, geluGradient, ...attentionGradients, dropoutGradient];
