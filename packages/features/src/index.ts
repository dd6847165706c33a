/**
 * @perfrdiff/features: model inputs from raw recordings and REACT files. The front door holds what a pipeline calls;
 * each area has its own sub-path with the rest: `@perfrdiff/features/audio`, `/face`, `/dataset`, `/synth`,
 * `/vision` (face-api and ffmpeg load only when a vision function runs).
 */
export { readWav, toMono, extractReactAudioFeatures, StreamingReactAudio } from "./audio/index";
export type { DecodedAudio, ReactAudioFeatures } from "./audio/index";
export { FeatureFileError, read3dmm, readEmotionCsv, write3dmm, writeEmotionCsv, loadFaceStats } from "./face/index";
export type { EmotionTrack } from "./face/index";
export { ReactDataset } from "./dataset/index";
export type { ReactItem, ReactSample } from "./dataset/index";
export { generateSynthCorpus } from "./synth/index";
export type { SynthManifest, SynthOptions } from "./synth/index";
export { extractVideoFaceTracks } from "./vision/index";
export type { VideoFaceTracks } from "./vision/index";
