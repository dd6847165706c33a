// @perfrdiff/core/ops: the backend-neutral ops the model code calls. Each runs core's kernel where the active backend
// has one (see @perfrdiff/core/kernels) and composed tfjs ops elsewhere.
export { addLayerNorm } from "./layer-norm";
export { detach } from "./detach";
export { repeatInterleave } from "./repeat";
export { dropout } from "./dropout";
export { gelu } from "./gelu";
export { gruLastHidden, gruStep } from "./gru";
export { AttentionMemory, multiHeadAttention, packedAttention, projectKeysValues } from "./attention";
export type { AttentionDropout, PackedAttention, PackedSource } from "./attention";
export { bmm, matmulLast } from "./matmul";
export { releaseDerivedWeights, weightProduct, withoutWeightCache } from "./linear";
