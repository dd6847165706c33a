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
/** Values per frame of a 3DMM (FaceVerse) track. */
export const FACE_DIM = 58;
/** Column ranges `[start, end)` of the expression, rotation and translation parts. */
export const FACE_GROUPS = { expression: [0, 52], rotation: [52, 55], translation: [55, 58] } as const;

/** Index of a named column; throws listing the valid names. */
export function columnIndex(columns: readonly string[], name: string): number {
  const i = columns.indexOf(name);
  if (i < 0) throw new Error(`unknown column '${name}'; expected one of ${columns.join(", ")}`);
  return i;
}
