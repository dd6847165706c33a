// @perfrdiff/features/face: REACT per-frame files (emotion CSVs, 3DMM .npy) and the FaceVerse statistics files.
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
} from "./io";
export type { EmotionTrack } from "./io";
export { loadFaceStats } from "./stats-file";
