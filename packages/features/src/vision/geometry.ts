import { ARKIT_BLENDSHAPES, EMOTION_DIM, FACE_DIM } from "@perfrdiff/layout";

/**
 * Face features estimated from the 68 iBUG landmarks (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67;
 * 36-41 and 17-21 are the subject's right eye and brow, on the image's left) and face-api's 7 expression
 * probabilities. These stand in for FaceVerse (3DMM fitting) and GraphAU, which have no JavaScript port. Every number
 * below is a geometric proxy with hand-set constants, not a fitted 3D model: see ESTIMATED_BLENDSHAPES and the README.
 */

export type Point = readonly [number, number];

/** Blendshapes we estimate from 2D landmarks; the other ARKit weights are written as 0 (not estimated). */
export const ESTIMATED_BLENDSHAPES = [
  "eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "eyeWideRight", "jawOpen", "mouthSmileLeft", "mouthSmileRight",
  "mouthFrownLeft", "mouthFrownRight", "mouthPucker", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
  "browDownLeft", "browDownRight",
] as const;

/** face-api's expression classes, in its order. */
export const FACEAPI_EXPRESSIONS = ["neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised"] as const;
export type FaceApiExpressions = Record<(typeof FACEAPI_EXPRESSIONS)[number], number>;

export interface HeadPose {
  /** radians; positive = head tilted down (nose tip nearer the mouth line than at rest) */
  pitch: number;
  /** radians; positive = subject turned to their left (nose toward the image right) */
  yaw: number;
  /** radians; positive = clockwise in the image (subject's left eye lower) */
  roll: number;
}

export interface LandmarkFeatures {
  pose: HeadPose;
  /** image-plane proxies: eye midpoint relative to the image centre (fractions of width/height), interocular / width */
  translation: [number, number, number];
  /** `[52]` ARKit-named weights in 0..1; only ESTIMATED_BLENDSHAPES are nonzero */
  blendshapes: Float32Array;
}

const clamp = (x: number, lo = 0, hi = 1) => Math.max(lo, Math.min(hi, x));
const mean = (ps: Point[]): [number, number] => [ps.reduce((a, p) => a + p[0], 0) / ps.length, ps.reduce((a, p) => a + p[1], 0) / ps.length];
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
const BS = Object.fromEntries(ARKIT_BLENDSHAPES.map((n, i) => [n, i])) as Record<string, number>;

/** Eye aspect ratio (Soukupova & Cech 2016): ~0.3 open, ~0.05-0.1 closed. */
function ear(p: Point[]): number {
  return (dist(p[1], p[5]) + dist(p[2], p[4])) / (2 * dist(p[0], p[3]));
}

/**
 * Head pose, image-plane translation and 15 blendshapes from 68 landmarks (pixels) of an image of the given size.
 * Points are first de-rotated by the roll and scaled by the interocular distance d, so the measures below are
 * in-plane rotation and scale invariant:
 * - roll: angle of the line between the eye centres; yaw: asin of the nose tip's left/right imbalance between the
 *   jaw ends; pitch: asin(2 (r - 0.58)), r = nose tip depth between the eye line and the mouth line (0.58 at rest);
 * - eyeBlink = (0.26 - EAR) / 0.16, eyeWide = (EAR - 0.34) / 0.1 per eye;
 * - jawOpen = inner-lip gap / (0.5 d); mouthSmile = 4 x corner lift above the lip midline / d + 2 (mouth width / d
 *   - 0.95); mouthFrown = -4 x (corner lift + 0.02); mouthPucker = (0.8 - mouth width / d) / 0.25;
 * - brows: heights h of brow points above their eye centre / d (at rest about 0.30 inner, 0.35 middle, 0.27 outer on
 *   face-api's landmarks): browInnerUp = (h_inner - 0.36) / 0.15, browOuterUp = (h_outer - 0.33) / 0.12,
 *   browDown = (0.28 - h_middle) / 0.08.
 * Weights are clamped to 0..1.
 */
export function landmarkFeatures(points: readonly Point[], imageWidth: number, imageHeight: number): LandmarkFeatures {
  if (points.length !== 68) throw new Error(`expected 68 landmarks, got ${points.length}`);
  const pts = points as Point[];
  const rEye = mean(pts.slice(36, 42));
  const lEye = mean(pts.slice(42, 48));
  const roll = Math.atan2(lEye[1] - rEye[1], lEye[0] - rEye[0]);
  const mid: Point = [(rEye[0] + lEye[0]) / 2, (rEye[1] + lEye[1]) / 2];
  const d = dist(rEye, lEye);
  if (!(d > 0)) throw new Error("degenerate landmarks (eye centres coincide)");
  const c = Math.cos(-roll);
  const s = Math.sin(-roll);
  // De-rotate about the eye midpoint and scale by d: eyes on y = 0, x in [-0.5, 0.5], y down.
  const q = pts.map(([x, y]): Point => {
    const dx = x - mid[0];
    const dy = y - mid[1];
    return [(c * dx - s * dy) / d, (s * dx + c * dy) / d];
  });
  const a = q[30][0] - q[0][0];
  const b = q[16][0] - q[30][0];
  const yaw = Math.asin(clamp((a - b) / (a + b), -1, 1));
  const mouthY = (q[48][1] + q[54][1]) / 2;
  const r = q[30][1] / mouthY;
  const pitch = Math.asin(clamp(2 * (r - 0.58), -1, 1));

  const bs = new Float32Array(52);
  const set = (name: (typeof ESTIMATED_BLENDSHAPES)[number], v: number) => {
    bs[BS[name]] = clamp(v);
  };
  const earR = ear(q.slice(36, 42));
  const earL = ear(q.slice(42, 48));
  set("eyeBlinkRight", (0.26 - earR) / 0.16);
  set("eyeBlinkLeft", (0.26 - earL) / 0.16);
  set("eyeWideRight", (earR - 0.34) / 0.1);
  set("eyeWideLeft", (earL - 0.34) / 0.1);
  set("jawOpen", dist(q[62], q[66]) / 0.5);
  const lipMid = (q[51][1] + q[57][1]) / 2;
  const mouthW = dist(q[48], q[54]);
  const liftR = lipMid - q[48][1]; // y is down: a lifted corner is above the midline
  const liftL = lipMid - q[54][1];
  set("mouthSmileRight", 4 * liftR + 2 * (mouthW - 0.95));
  set("mouthSmileLeft", 4 * liftL + 2 * (mouthW - 0.95));
  set("mouthFrownRight", -4 * (liftR + 0.02));
  set("mouthFrownLeft", -4 * (liftL + 0.02));
  set("mouthPucker", (0.8 - mouthW) / 0.25);
  const h = (i: number, eye: Point) => eye[1] - q[i][1];
  const eyeR = mean(q.slice(36, 42));
  const eyeL = mean(q.slice(42, 48));
  const inner = (h(21, eyeR) + h(22, eyeL)) / 2;
  set("browInnerUp", (inner - 0.36) / 0.15);
  set("browOuterUpRight", (h(17, eyeR) - 0.33) / 0.12);
  set("browOuterUpLeft", (h(26, eyeL) - 0.33) / 0.12);
  set("browDownRight", (0.28 - (h(19, eyeR) + h(21, eyeR)) / 2) / 0.08);
  set("browDownLeft", (0.28 - (h(24, eyeL) + h(22, eyeL)) / 2) / 0.08);
  return {
    pose: { pitch, yaw, roll },
    translation: [mid[0] / imageWidth - 0.5, mid[1] / imageHeight - 0.5, d / imageWidth],
    blendshapes: bs,
  };
}

/** Circumplex coordinates (valence, arousal) of face-api's classes, after Russell (1980), used to estimate VA. */
const CIRCUMPLEX: Record<(typeof FACEAPI_EXPRESSIONS)[number], [number, number]> = {
  neutral: [0, 0],
  happy: [0.8, 0.5],
  sad: [-0.7, -0.4],
  angry: [-0.6, 0.8],
  fearful: [-0.6, 0.7],
  disgusted: [-0.7, 0.3],
  surprised: [0.2, 0.8],
};

/**
 * The 25 REACT emotion values of one face from its blendshapes (`[52]`) and face-api expression probabilities:
 * - expression probabilities: face-api's 7 classes in REACT order; Contempt, which face-api lacks, is 0;
 * - valence/arousal: expectation of the classes' circumplex coordinates under those probabilities;
 * - AU occurrences (0/1) by rules: AU1 browInnerUp > 0.4; AU2 mean browOuterUp > 0.4; AU4 mean browDown > 0.4;
 *   AU6 mean smile > 0.4 and happy > 0.5; AU7 mean blink in 0.3..0.7; AU9 disgusted > 0.5; AU10 disgusted > 0.5 or
 *   (smile > 0.7 and jawOpen > 0.2); AU12 mean smile > 0.35; AU14 |smileL - smileR| > 0.3; AU15 mean frown > 0.35;
 *   AU17 sad > 0.5 and jawOpen < 0.1; AU23 angry > 0.5; AU24 angry > 0.5 and jawOpen < 0.05; AU25 jawOpen > 0.15;
 *   AU26 jawOpen > 0.35.
 * @returns `[25]`
 */
export function emotionFromFace(blendshapes: Float32Array, expressions: FaceApiExpressions): Float32Array {
  const b = (n: string) => blendshapes[BS[n]];
  const e = expressions;
  const smile = (b("mouthSmileLeft") + b("mouthSmileRight")) / 2;
  const jaw = b("jawOpen");
  const blink = (b("eyeBlinkLeft") + b("eyeBlinkRight")) / 2;
  const au = [
    b("browInnerUp") > 0.4,
    (b("browOuterUpLeft") + b("browOuterUpRight")) / 2 > 0.4,
    (b("browDownLeft") + b("browDownRight")) / 2 > 0.4,
    smile > 0.4 && e.happy > 0.5,
    blink > 0.3 && blink < 0.7,
    e.disgusted > 0.5,
    e.disgusted > 0.5 || (smile > 0.7 && jaw > 0.2),
    smile > 0.35,
    Math.abs(b("mouthSmileLeft") - b("mouthSmileRight")) > 0.3,
    (b("mouthFrownLeft") + b("mouthFrownRight")) / 2 > 0.35,
    e.sad > 0.5 && jaw < 0.1,
    e.angry > 0.5,
    e.angry > 0.5 && jaw < 0.05,
    jaw > 0.15,
    jaw > 0.35,
  ];
  const out = new Float32Array(EMOTION_DIM);
  au.forEach((v, i) => (out[i] = v ? 1 : 0));
  let total = 0;
  for (const k of FACEAPI_EXPRESSIONS) {
    const p = e[k];
    if (!(p >= 0 && p <= 1)) throw new Error(`expression probability '${k}' is ${p}`);
    total += p;
  }
  let v = 0;
  let a = 0;
  for (const k of FACEAPI_EXPRESSIONS) {
    v += (e[k] / total) * CIRCUMPLEX[k][0];
    a += (e[k] / total) * CIRCUMPLEX[k][1];
  }
  out[15] = v;
  out[16] = a;
  const order = [e.neutral, e.happy, e.sad, e.surprised, e.fearful, e.disgusted, e.angry, 0];
  order.forEach((p, i) => (out[17 + i] = p / total));
  return out;
}

/** The 58 FaceVerse-layout values: 52 blendshapes, then pitch/yaw/roll as rotX/Y/Z, then the translation proxies. */
export function coefficientsFromFace(f: LandmarkFeatures): Float32Array {
  const out = new Float32Array(FACE_DIM);
  out.set(f.blendshapes, 0);
  out[52] = f.pose.pitch;
  out[53] = f.pose.yaw;
  out[54] = f.pose.roll;
  out.set(f.translation, 55);
  return out;
}
