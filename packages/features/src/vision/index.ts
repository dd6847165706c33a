// @perfrdiff/features/vision: estimated face features from images and videos (face-api landmarks and expressions,
// ffmpeg decoding). face-api and its weights load on first use only.
export { coefficientsFromFace, emotionFromFace, ESTIMATED_BLENDSHAPES, FACEAPI_EXPRESSIONS, landmarkFeatures } from "./geometry";
export type { FaceApiExpressions, HeadPose, LandmarkFeatures, Point } from "./geometry";
export { loadFaceAnalyzer } from "./face-model";
export type { FaceAnalyzer, FaceAnalyzerOptions, FaceObservation, RgbImage } from "./face-model";
export { decodeVideoFrames, encodeVideo, extractVideoFaceTracks, ffmpegCommand, hasFfmpeg } from "./video";
export type { DecodeOptions, EncodeOptions, VideoFaceTracks } from "./video";
