/**
 * @perfrdiff/layout: the REACT per-frame data layout, written once for every package (features, metrics, core, the
 * CLI): emotion columns and groups, FaceVerse coefficient names, audio feature size, clip length, 3DMM normalisation.
 */
export {
  EMOTION_AU_COLUMNS,
  EMOTION_COLUMNS,
  EMOTION_DIM,
  EMOTION_EXPRESSION_COLUMNS,
  EMOTION_GROUPS,
  EMOTION_VA_COLUMNS,
  FRDIST_GROUPS,
} from "./emotion";
export { ARKIT_BLENDSHAPES, FACE_COLUMNS, FACE_DIM, FACE_GROUPS, FACE_POSE_COLUMNS, columnIndex } from "./face";
export type { ArkitBlendshape } from "./face";
export { AUDIO_DIM, REACT_CLIP_FRAMES, REACT_FPS } from "./clip";
export type { CorpusItem, FrameTrack } from "./clip";
export { computeFaceStats, denormalise3dmm, normalise3dmm } from "./normalise";
export type { FaceNormalisation, FaceStats } from "./normalise";
