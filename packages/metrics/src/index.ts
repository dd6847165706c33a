/**
 * @perfrdiff/metrics: the REACT facial-reaction metrics, matching the official code, with fast DTW.
 */
export { evaluateReact, PER_CLIP_METRICS } from "./evaluate";
export type { EvalProgress, EvalTimings, EvaluateOptions, FrdistBackend, MetricConvention, PerClipMetricName, PerClipMetrics, ReactMetrics } from "./evaluate";
export { prepareInputs, ReactInputError } from "./inputs";
export type { ArrayND, PreparedInputs, ReactEvalInputs } from "./inputs";
export { bestCccPerPrediction, ccc, cccFromStats, cccStats } from "./ccc";
export type { CccStats } from "./ccc";
export { dtwReference, emotionDtwReference } from "./dtw-reference";
export { DTW_LANES, EmotionDtwKernel, wasmSimdSupported } from "./dtw-kernel";
export { frdistClipMinima } from "./frdist";
export { auMasks, frdistClipMinimaScreened, PairDtwKernel } from "./dtw-screen";
export type { FrdistMethod } from "./clip-tasks";
export type { FrdistData, FrdistWork } from "./frdist";
export { frdistMinima } from "./pool";
export type { FrdistMinima, FrdistOptions } from "./pool";
export { frdistMinimaWebGPU, requestWebGPUDevice } from "./frdist-webgpu";
export { frdiv, frdvs, frvar } from "./diversity";
export { TLCC_MAX_LAG, laggedCorrelations, tlccOffset } from "./tlcc";
export { FRREA_WINDOW, frechetDistance, frreaFeat, reactionFeatures } from "./frechet";
export { mulberry32, syntheticReactInputs } from "./synthetic";
