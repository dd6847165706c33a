/**
 * @perfrdiff/eval: PerFRDiff models evaluated on a dataset split. Generate K reactions for every speaker clip
 * ({@link generateForCorpus}, generic or personalised), score them with the REACT metrics against the split's
 * appropriate reactions ({@link evaluateOnCorpus}), and put the REACT challenge's no-training baselines beside them
 * ({@link baselineReactions}), and compare runs clip by clip with t-tests ({@link compareRuns}). Splits are opened with
 * {@link openEvalSplit} (REACT layout, real or synthetic; the MAFRG or PMAFRG neighbour matrix, listener histories);
 * {@link evaluateModelOnSplit} runs a whole evaluation, resumable through a {@link PredictionStore}; {@link runAblation}
 * trains and evaluates every row of one of the paper's ablation tables.
 */
export { generateForCorpus } from "./reactions";
export type { EmotionCorpus, SplitCorpus, SplitGenerationOptions } from "./reactions";
export { EVAL_TASKS, openEvalSplit, personSpecificRows, readSplitEmotion } from "./split";
export type { EvalSplit, EvalTask, NeighbourSource, OpenEvalSplitOptions } from "./split";
export { PredictionStore } from "./store";
export type { PredictionSettings } from "./store";
export { clipRecords, evaluateModelOnSplit } from "./run";
export type { SplitEvaluation, SplitEvaluationOptions } from "./run";
export { BETTER_SIDE, compareRuns } from "./compare";
export type { ClipMetricsRecord, CompareOptions, MetricComparison } from "./compare";
export { evaluateOnCorpus, splitEvalInputs } from "./evaluate";
export { REACT_BASELINES, baselineReactions } from "./baselines";
export type { BaselineName, BaselineOptions, EmotionClips } from "./baselines";
export { ABLATION_TABLES, ablationConfig, ablationConfigPath, ablationMarkdown, runAblation } from "./ablation";
export type { AblationOptions, AblationResult, AblationRow, AblationRowResult, AblationTable, AblationTableNumber } from "./ablation";
export { STYLE_COLUMNS, listenerRetrieval, reactionStyle, styleDistance } from "./listeners";
export type { ListenerClip, ReactionStyle, RetrievalResult } from "./listeners";
