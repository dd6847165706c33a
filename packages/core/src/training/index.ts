// @perfrdiff/core/training: optimisers (torch.optim.AdamW's update, fused on WebGPU).
export { AdamW, AdamWError } from "./adamw";
export type { AdamWOptions } from "./adamw";
