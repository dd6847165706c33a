// @perfrdiff/features/audio: WAV I/O, resampling, Kaldi MFCC (torchaudio parity) and the official REACT audio features.
export { decodeWav, encodeWav, readWav, toMono } from "./wav";
export type { DecodedAudio, DecodeWavOptions, WavBitDepth } from "./wav";
export { resample } from "./resample";
export type { ResampleOptions } from "./resample";
export { computeDeltas, kaldiFrameCount, kaldiMfcc } from "./kaldi";
export type { KaldiMfccOptions, Matrix } from "./kaldi";
export { melFilterbank, mfcc } from "./mfcc";
export type { MfccOptions } from "./mfcc";
export { PowerSpectrum } from "./fft";
export { extractReactAudioFeatures, reactAudioDim, samplesPerVideoFrame, StreamingReactAudio } from "./react-audio";
export type { ReactAudioFeatures } from "./react-audio";
