// Public API of @perfrdiff/features.
export { decodeWav, encodeWav, readWav, toMono } from "./audio/wav";
export type { DecodedAudio, WavBitDepth } from "./audio/wav";
export { resample } from "./audio/resample";
export type { ResampleOptions } from "./audio/resample";
export { computeDeltas, kaldiFrameCount, kaldiMfcc } from "./audio/kaldi";
export type { KaldiMfccOptions, Matrix } from "./audio/kaldi";
export { melFilterbank, mfcc } from "./audio/mfcc";
export type { MfccOptions } from "./audio/mfcc";
export { PowerSpectrum } from "./audio/fft";
export {
  extractReactAudioFeatures,
  reactAudioDim,
  samplesPerVideoFrame,
  StreamingReactAudio,
} from "./audio/react-audio";
export type { ReactAudioFeatures } from "./audio/react-audio";
export {
  ARKIT_BLENDSHAPES,
  columnIndex,
  EMOTION_AU_COLUMNS,
  EMOTION_COLUMNS,
  EMOTION_DIM,
  EMOTION_EXPRESSION_COLUMNS,
  EMOTION_GROUPS,
  EMOTION_VA_COLUMNS,
  FACE_COLUMNS,
  FACE_DIM,
  FACE_GROUPS,
  FACE_POSE_COLUMNS,
} from "./face/columns";
export type { ArkitBlendshape } from "./face/columns";
export {
  FeatureFileError,
  formatEmotionCsv,
  parse3dmmNpy,
  parseEmotionCsv,
  read3dmm,
  readEmotionCsv,
  serialize3dmmNpy,
  write3dmm,
  writeEmotionCsv,
} from "./face/io";
export type { EmotionTrack, FrameTrack } from "./face/io";
export { computeFaceStats, denormalise3dmm, loadFaceStats, normalise3dmm } from "./face/normalise";
export type { FaceNormalisation, FaceStats } from "./face/normalise";
export {
  emotionClipPath,
  formatSplitCsv,
  MODALITY_FOLDERS,
  modalityPath,
  parseSplitCsv,
  personId,
} from "./dataset/layout";
export type { ReactModality, ReactPairRow } from "./dataset/layout";
export { parseNeighbours, ReactDataset } from "./dataset/reader";
export type {
  DatasetProblem,
  OpenOptions,
  ReactItem,
  ReactSample,
  SampleOptions,
  ValidateOptions,
} from "./dataset/reader";
export { ReactLayoutWriter } from "./dataset/writer";
export type { ClipFiles } from "./dataset/writer";
export { generateSynthCorpus, LISTENING_RULES } from "./synth/corpus";
export type { SynthManifest, SynthOptions } from "./synth/corpus";
export { listenerReaction, randomStyle, renderFace, speakerClip } from "./synth/behaviour";
export type { FaceDrivers, ListenerReaction, ListenerStyle, SpeakerClip } from "./synth/behaviour";
export { randomVoice, synthesise, VOWELS } from "./synth/voice";
export type { SoundEvent, Voice } from "./synth/voice";
export { Rng } from "./synth/random";
export { measureListenerStyle } from "./synth/measure";
export type { MeasuredStyle } from "./synth/measure";
export {
  coefficientsFromFace,
  emotionFromFace,
  ESTIMATED_BLENDSHAPES,
  FACEAPI_EXPRESSIONS,
  landmarkFeatures,
} from "./vision/geometry";
export type { FaceApiExpressions, HeadPose, LandmarkFeatures, Point } from "./vision/geometry";
export { loadFaceAnalyzer } from "./vision/face-model";
export type { FaceAnalyzer, FaceAnalyzerOptions, FaceObservation, RgbImage } from "./vision/face-model";
export { decodeVideoFrames, extractVideoFaceTracks, ffmpegCommand, hasFfmpeg } from "./vision/video";
export type { DecodeOptions, VideoFaceTracks } from "./vision/video";
