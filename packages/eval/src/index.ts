/**
 * @perfrdiff/eval: PerFRDiff models evaluated on a dataset split. Generate K reactions for every speaker clip
 * ({@link generateForCorpus}, generic or personalised), score them with the REACT metrics against the split's
 * appropriate reactions ({@link evaluateOnCorpus}), and put the REACT challenge's no-training baselines beside them
 * ({@link baselineReactions}). Splits are loaded by @perfrdiff/features' loadCorpus (REACT layout, real or synthetic).
 */
export { generateForCorpus } from "./reactions";
export type { SplitCorpus, SplitGenerationOptions } from "./reactions";
export { evaluateOnCorpus, splitEvalInputs } from "./evaluate";
export { REACT_BASELINES, baselineReactions } from "./baselines";
export type { BaselineName, BaselineOptions, EmotionClips } from "./baselines";
export { STYLE_COLUMNS, listenerRetrieval, reactionStyle, styleDistance } from "./listeners";
export type { ListenerClip, ReactionStyle, RetrievalResult } from "./listeners";
