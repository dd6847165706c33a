// @perfrdiff/features/dataset: the REACT 2024 dataset layout, its reader (pairs, windows, neighbours, validation)
// and writer.
export { emotionClipPath, formatSplitCsv, MODALITY_FOLDERS, modalityPath, parseSplitCsv, personId } from "./layout";
export type { ReactModality, ReactPairRow } from "./layout";
export { parseNeighbours, ReactDataset } from "./reader";
export type { DatasetProblem, OpenOptions, ReactItem, ReactSample, SampleOptions, ValidateOptions } from "./reader";
export { ReactLayoutWriter } from "./writer";
export { loadCorpus } from "./corpus";
export type { CorpusItem, LoadCorpusOptions, LoadedCorpus } from "./corpus";
export type { ClipFiles } from "./writer";
