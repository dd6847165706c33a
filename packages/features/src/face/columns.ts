/**
 * Column metadata of the REACT per-frame files.
 *
 * Emotion (25 per frame), in the order of the REACT 2023/2024 emotion CSVs, which the official loaders read by
 * position (header row dropped): 15 facial action unit occurrences (GraphAU), valence and arousal, and 8 facial
 * expression probabilities.
 */
export const EMOTION_AU_COLUMNS = [
  "AU1", "AU2", "AU4", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU17", "AU23", "AU24", "AU25", "AU26",
] as const;
export const EMOTION_VA_COLUMNS = ["valence", "arousal"] as const;
export const EMOTION_EXPRESSION_COLUMNS = [
  "Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt",
] as const;
/** All 25 emotion columns, in file order. */
export const EMOTION_COLUMNS: readonly string[] = [
  ...EMOTION_AU_COLUMNS,
  ...EMOTION_VA_COLUMNS,
  ...EMOTION_EXPRESSION_COLUMNS,
];
export const EMOTION_DIM = 25;
/** Index ranges of the three groups, as the REACT metrics (FRdist) split them. */
export const EMOTION_GROUPS = { au: [0, 15], va: [15, 17], expression: [17, 25] } as const;

/**
 * Apple ARKit's 52 face blendshapes (ARFaceAnchor.BlendShapeLocation), in the order of Apple's documentation.
 * FaceVerse v2's 52 expression coefficients are built on these blendshapes; we name the first 52 of the 58 REACT
 * coefficients with them in this order. FaceVerse does not publish its index order in the released code we have, so
 * treat the index-to-name mapping as the ARKit order, not as a verified FaceVerse fact.
 */
export const ARKIT_BLENDSHAPES = [
  "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft", "eyeSquintLeft", "eyeWideLeft",
  "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight",
  "eyeWideRight", "jawForward", "jawLeft", "jawRight", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker",
  "mouthLeft", "mouthRight", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
  "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight", "mouthRollLower", "mouthRollUpper",
  "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft",
  "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp",
  "browOuterUpLeft", "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
  "noseSneerRight", "tongueOut",
] as const;
export type ArkitBlendshape = (typeof ARKIT_BLENDSHAPES)[number];

/** Head pose part of the 58-d FaceVerse vector: Euler angles (radians, x/y/z) then translation. */
export const FACE_POSE_COLUMNS = ["rotX", "rotY", "rotZ", "transX", "transY", "transZ"] as const;
/** All 58 FaceVerse coefficient names: 52 expression, 3 rotation, 3 translation (official slicing 0:52, 52:55, 55:58). */
export const FACE_COLUMNS: readonly string[] = [...ARKIT_BLENDSHAPES, ...FACE_POSE_COLUMNS];
export const FACE_DIM = 58;
export const FACE_GROUPS = { expression: [0, 52], rotation: [52, 55], translation: [55, 58] } as const;

/** Index of a named column; throws listing the valid names. */
export function columnIndex(columns: readonly string[], name: string): number {
  const i = columns.indexOf(name);
  if (i < 0) throw new Error(`unknown column '${name}'; expected one of ${columns.join(", ")}`);
  return i;
}
