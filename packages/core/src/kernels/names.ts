/**
 * Names of core's own tfjs kernels, shared by the backend-neutral ops (src/ops) that run them and the backend folders
 * (kernels/webgpu, kernels/wasm) that implement them, as tfjs's kernel_names.ts. An op runs one of these only when the
 * active backend has it (see hasKernel in registry.ts), and composes tfjs ops otherwise.
 */

/** LayerNorm(x) over the last axis with weight and bias: inputs x, gamma, beta; attrs eps. */
export const LAYER_NORM = "PerfrdiffLayerNorm";
/** LayerNorm(x + r): inputs x, r, gamma, beta; attrs eps (tfjs saves a gradient's inputs by name: one kernel each). */
export const ADD_LAYER_NORM = "PerfrdiffAddLayerNorm";
/** LayerNorm's input gradient: inputs x, r (optional), gamma, dy; attrs eps. */
export const LAYER_NORM_GRAD_X = "PerfrdiffLayerNormGradX";
/** dy * xhat per row (summed over rows for gamma's gradient): inputs x, r (optional), dy; attrs eps. */
export const LAYER_NORM_GRAD_ROWS = "PerfrdiffLayerNormGradRows";

/** Exact (erf) GELU: input x. */
export const GELU = "PerfrdiffGelu";
/** dy * GELU'(x): inputs x, dy. */
export const GELU_GRAD = "PerfrdiffGeluGrad";

/**
 * Multi-head attention over packed projections (see ops/attention.ts): inputs q, s1[, s2]; attrs qOffset, dim,
 * heads, offsets (kOffset, vOffset per source), dropRate and seed (training's dropout on the attention probabilities
 * [B, H, Lq, Lk], hashed as the DROPOUT kernel; rate 0: none). One kernel per number of key/value sources.
 */
export const ATTENTION = ["PerfrdiffAttention1", "PerfrdiffAttention2"] as const;
/** Attention whose one input q holds queries, keys and values (its gradient is one tensor, not a sum of two). */
export const SELF_ATTENTION = "PerfrdiffSelfAttention";
/** Attention backward, first pass: softmax weights and scaled score gradients [B, H, Lq, 2 Lk]. */
export const ATTENTION_GRAD_SCORES = "PerfrdiffAttentionGradScores";
/** Attention backward, second pass: the gradient of one packed input tensor. */
export const ATTENTION_GRAD_INPUT = "PerfrdiffAttentionGradInput";
/** Longest key sequence and largest head size the attention kernels hold in workgroup memory. */
export const ATTENTION_MAX_KEYS = 256;
export const ATTENTION_MAX_HEAD_DIM = 128;
/**
 * Above this much work (batch x queries x keys x model dim) the composed ops are faster: their ~8 dispatches cost
 * less than the fused kernel's slower arithmetic once the GPU, not dispatching, is the bottleneck. Measured on an
 * H200: at 300 x 50 queries x 50 keys x 512 (3.8e8) the fused kernel took 1.4 ms of GPU time, tfjs's batched
 * products, transposes and softmax 0.7 ms; at a tenth of that batch the fused kernel wins by ~1 ms of dispatching.
 */
export const ATTENTION_MAX_WORK = 2 ** 28;

/** AdamW moments of a group of variables, updated in place: inputs moments, g0..g(n-1); attrs sizes, present, betas. */
export const ADAMW_MOMENTS = "PerfrdiffAdamWMoments";
/** A variable after an AdamW step, from its group's moments: inputs param, moments; attrs offset and the step. */
export const ADAMW_PARAM = "PerfrdiffAdamWParam";
/** Variables per moments kernel: WebGPU's default limit of 8 storage buffers per shader, one of them the output. */
export const ADAMW_GROUP = 7;

/** Batched product a [Ba, M, K] x b [Bb, K, N] (+ bias [N]) without transposes: inputs a, b, bias (optional). */
export const BATCH_MATMUL = "PerfrdiffBatchMatMul";

/**
 * Inverted dropout with a counter-based mask: x * keep / (1 - rate), keep = hash(seed, index) >= rate. Inputs x;
 * attrs rate, seed, swap (1: hash by the index with the last two axes swapped). Its gradient is the same kernel on
 * dy with the same attrs (the mask is recomputed, not stored).
 */
export const DROPOUT = "PerfrdiffDropout";

/**
 * One GRUCell step of a frozen GRU (no gradient): inputs gi [B, T, 3H] (the input side's pre-activations of all steps,
 * x W_ih^T + b_ih), h [B, H], whh [3H, H], bhh [3H]; attrs t (the step read from gi). -> h' [B, H].
 */
export const GRU_STEP = "PerfrdiffGruStep";
