// @perfrdiff/core/training: training every PerFRDiff stage (embedder, PSSL, GAFRG, PWSG) into a run folder, the
// optimisers (torch's AdamW, fused on WebGPU, and SGD), the losses and schedules of the official loops.
export { AdamW, AdamWError } from "./adamw";
export type { AdamWOptions } from "./adamw";
export { SGD } from "./sgd";
export type { SGDOptions } from "./sgd";
export { officialCosineRate } from "./schedule";
export { gaussianKl, l2Norm, mse, supConLoss, temporalLoss } from "./losses";
export { checkCorpus } from "./corpus";
export type { CorpusItem, TrainingCorpus } from "./corpus";
export { TRAIN_STAGES, buildStage, stageModules, embedderStage, gafrgStage, psslStage, pwsgStage } from "./stages";
export type { Stage, StageInputs, StepLoss, TrainStage } from "./stages";
export { TrainingDivergedError, train } from "./trainer";
export type { StepRecord, TrainOptions, TrainResult, TrainState } from "./trainer";
export { TrainingRun } from "./run";
export { copyFileAtomic, writeFileAtomic } from "../io/atomic-file";
export { lossPlotSvg } from "./plot";
export type { ValidationPoint } from "./plot";
export { trainStages } from "./session";
export type { TrainingSessionOptions, TrainingSessionResult } from "./session";
