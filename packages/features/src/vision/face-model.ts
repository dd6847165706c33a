import { coefficientsFromFace, emotionFromFace, landmarkFeatures, type FaceApiExpressions, type LandmarkFeatures, type Point } from "./geometry";

/** An RGB image, row-major `[height, width, 3]` bytes. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** One detected face with everything estimated for it. */
export interface FaceObservation {
  /** detector confidence 0..1 */
  score: number;
  /** pixels: x, y, width, height */
  box: [number, number, number, number];
  /** 68 iBUG landmarks in pixels */
  landmarks: Point[];
  /** face-api's 7 expression probabilities */
  expressions: FaceApiExpressions;
  features: LandmarkFeatures;
  /** `[25]` REACT emotion values (see emotionFromFace) */
  emotion: Float32Array;
  /** `[58]` FaceVerse-layout values (see coefficientsFromFace) */
  coefficients: Float32Array;
}

export interface FaceAnalyzerOptions {
  /** Detector threshold (default 0.4). */
  minConfidence?: number;
  /** Images are downscaled so their longer side is at most this (default 960) before detection; coordinates are returned in the original pixels. */
  maxSide?: number;
}

/** Detects faces and estimates pose, blendshapes, expressions and AUs; see {@link loadFaceAnalyzer}. */
export interface FaceAnalyzer {
  /** All faces of an image, largest first. */
  analyze(image: RgbImage): Promise<FaceObservation[]>;
}

type FaceApi = {
  nets: Record<string, { loadFromDisk(dir: string): Promise<void> }>;
  detectAllFaces(input: unknown, options: unknown): {
    withFaceLandmarks(): { withFaceExpressions(): Promise<FaceApiResult[]> };
  };
  SsdMobilenetv1Options: new (o: { minConfidence: number }) => unknown;
};
interface FaceApiResult {
  detection: { score: number; box: { x: number; y: number; width: number; height: number } };
  landmarks: { positions: { x: number; y: number }[] };
  expressions: FaceApiExpressions;
}

let loading: Promise<{ faceapi: FaceApi; tf: typeof import("@tensorflow/tfjs") }> | undefined;

async function loadModels() {
  // Loaded lazily: only users of the face features pay for tfjs and the 13 MB of weights. The model runs on the
  // application's tfjs backend: a library never switches it. Importing the wasm package only registers wasm, which
  // then is tfjs's default (its priority is above cpu's) when the application has chosen none.
  const tf = await import("@tensorflow/tfjs");
  await import("@tensorflow/tfjs-backend-wasm");
  await tf.ready();
  const mod = (await import("@vladmandic/face-api/dist/face-api.node-wasm.js")) as unknown as { default?: FaceApi } & FaceApi;
  const faceapi = (mod.default ?? mod) as FaceApi;
  const [{ createRequire }, { dirname, join }] = await Promise.all([import("node:module"), import("node:path")]);
  // The weights ship inside the @vladmandic/face-api package (no download): resolve its folder from this module.
  const pkg = dirname(createRequire(import.meta.url).resolve("@vladmandic/face-api/package.json"));
  const modelDir = join(pkg, "model");
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceExpressionNet.loadFromDisk(modelDir);
  return { faceapi, tf };
}

/**
 * Loads the face model: face-api (vladmandic's maintained fork of face-api.js) with its SSD MobileNet v1 detector,
 * 68-point landmark net and 7-class expression net, whose weights ship inside the npm package, run by tfjs on the
 * active backend (tfjs's default, wasm, unless the application chose another; the cpu backend is ~30x slower). Estimates per face: see geometry.ts (pose, 15 of the 52 ARKit blendshapes, VA, AUs).
 */
export async function loadFaceAnalyzer(options: FaceAnalyzerOptions = {}): Promise<FaceAnalyzer> {
  loading ??= loadModels();
  const { faceapi, tf } = await loading;
  const minConfidence = options.minConfidence ?? 0.4;
  const maxSide = options.maxSide ?? 960;
  return {
    async analyze(image: RgbImage): Promise<FaceObservation[]> {
      const { width, height, data } = image;
      if (data.length !== width * height * 3) {
        throw new Error(`RGB image data has ${data.length} bytes; expected ${width} x ${height} x 3 = ${width * height * 3}`);
      }
      const scale = Math.min(1, maxSide / Math.max(width, height));
      const input = tf.tidy(() => {
        const t = tf.tensor3d(data, [height, width, 3], "int32");
        if (scale === 1) return t;
        const w = Math.round(width * scale);
        const h = Math.round(height * scale);
        return tf.cast(tf.image.resizeBilinear(t, [h, w]), "int32");
      }) as import("@tensorflow/tfjs").Tensor3D;
      let results: FaceApiResult[];
      try {
        results = await faceapi
          .detectAllFaces(input, new faceapi.SsdMobilenetv1Options({ minConfidence }))
          .withFaceLandmarks()
          .withFaceExpressions();
      } finally {
        input.dispose();
      }
      const faces = results.map((r): FaceObservation => {
        const landmarks = r.landmarks.positions.map((p): Point => [p.x / scale, p.y / scale]);
        const features = landmarkFeatures(landmarks, width, height);
        const b = r.detection.box;
        return {
          score: r.detection.score,
          box: [b.x / scale, b.y / scale, b.width / scale, b.height / scale],
          landmarks,
          expressions: { ...r.expressions },
          features,
          emotion: emotionFromFace(features.blendshapes, r.expressions),
          coefficients: coefficientsFromFace(features),
        };
      });
      return faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
    },
  };
}
