import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import jpeg from "jpeg-js";
import { ARKIT_BLENDSHAPES } from "@perfrdiff/layout";
import { loadFaceAnalyzer, type FaceAnalyzer, type FaceObservation, type RgbImage } from "./face-model";
import { ESTIMATED_BLENDSHAPES, landmarkFeatures, type Point } from "./geometry";
import { decodeVideoFrames, encodeVideo, extractVideoFaceTracks, ffmpegCommand, hasFfmpeg } from "./video";

// Real photographs of faces that ship inside the @vladmandic/face-api npm package (demo/sample1..6.jpg).
const DEMO = join(dirname(createRequire(import.meta.url).resolve("@vladmandic/face-api/package.json")), "demo");
const SAMPLES = [1, 2, 3, 4, 5, 6].map((i) => join(DEMO, `sample${i}.jpg`));
const DEG = Math.PI / 180;
const BSI = (n: string) => ARKIT_BLENDSHAPES.indexOf(n as (typeof ARKIT_BLENDSHAPES)[number]);

function readJpeg(path: string): RgbImage {
  const img = jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: false });
  return { width: img.width, height: img.height, data: img.data };
}
function mirror(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++)
      for (let c = 0; c < 3; c++) out[(y * img.width + x) * 3 + c] = img.data[(y * img.width + (img.width - 1 - x)) * 3 + c];
  return { ...img, data: out };
}
/** Rotates clockwise (in image coordinates, y down) by `a` radians about the centre, bilinear, black outside. */
function rotate(img: RgbImage, a: number): RgbImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const c = Math.cos(a);
  const s = Math.sin(a);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // inverse map: source = R(-a) (dest - centre)
      const dx = x - cx;
      const dy = y - cy;
      const sx = c * dx + s * dy + cx;
      const sy = -s * dx + c * dy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h) continue;
      const fx = sx - x0;
      const fy = sy - y0;
      for (let k = 0; k < 3; k++) {
        const p = (yy: number, xx: number) => data[(yy * w + xx) * 3 + k];
        out[(y * w + x) * 3 + k] = Math.round(
          (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x0 + 1)) + fy * ((1 - fx) * p(y0 + 1, x0) + fx * p(y0 + 1, x0 + 1)),
        );
      }
    }
  return { ...img, data: out };
}
const smileOf = (f: FaceObservation) => (f.features.blendshapes[BSI("mouthSmileLeft")] + f.features.blendshapes[BSI("mouthSmileRight")]) / 2;

let analyzer: FaceAnalyzer;
const results: FaceObservation[][] = [];

beforeAll(async () => {
  analyzer = await loadFaceAnalyzer();
  for (const p of SAMPLES) results.push(await analyzer.analyze(readJpeg(p)));
}, 120_000);

describe("face model on real photographs", () => {
  it("finds the faces and writes well-formed REACT rows", () => {
    for (const faces of results) {
      expect(faces.length).toBeGreaterThanOrEqual(2);
      for (const f of faces) {
        expect(f.landmarks).toHaveLength(68);
        const e = f.emotion;
        for (let i = 0; i < 15; i++) expect([0, 1]).toContain(e[i]);
        expect(Math.abs(e[15])).toBeLessThanOrEqual(1);
        expect(Math.abs(e[16])).toBeLessThanOrEqual(1);
        expect(Array.from(e.slice(17)).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(e[24]).toBe(0); // contempt: not estimated
        for (let i = 0; i < 52; i++) {
          const v = f.coefficients[i];
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
          if (!(ESTIMATED_BLENDSHAPES as readonly string[]).includes(ARKIT_BLENDSHAPES[i])) expect(v).toBe(0);
        }
        expect(f.coefficients.every(Number.isFinite)).toBe(true);
      }
    }
  });

  it("smiles are larger on faces the expression net calls happy than on neutral ones", () => {
    const all = results.flat();
    const happy = all.filter((f) => f.expressions.happy > 0.9).map(smileOf);
    const neutral = all.filter((f) => f.expressions.neutral > 0.6).map(smileOf);
    expect(happy.length).toBeGreaterThanOrEqual(5);
    expect(neutral.length).toBeGreaterThanOrEqual(2);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(happy)).toBeGreaterThan(mean(neutral) + 0.15);
  });

  it("mirroring the photo negates yaw and roll and swaps the smile sides", async () => {
    const img = readJpeg(SAMPLES[2]);
    const a = results[2][0];
    const b = (await analyzer.analyze(mirror(img)))[0];
    expect(Math.abs(a.features.pose.yaw + b.features.pose.yaw)).toBeLessThan(6 * DEG);
    expect(Math.abs(a.features.pose.roll + b.features.pose.roll)).toBeLessThan(3 * DEG);
    const bs = (f: FaceObservation, n: string) => f.features.blendshapes[BSI(n)];
    expect(Math.abs(bs(a, "mouthSmileLeft") - bs(b, "mouthSmileRight"))).toBeLessThan(0.15);
    expect(Math.abs(bs(a, "mouthSmileRight") - bs(b, "mouthSmileLeft"))).toBeLessThan(0.15);
  }, 60_000);

  it("rotating the photo by 10 degrees adds 10 degrees of roll", async () => {
    const img = readJpeg(SAMPLES[5]);
    const before = results[5][0];
    const after = (await analyzer.analyze(rotate(img, 10 * DEG))).find(
      (f) => Math.abs(f.box[2] - before.box[2]) < 0.3 * before.box[2],
    )!;
    expect(after).toBeDefined();
    expect((after.features.pose.roll - before.features.pose.roll) / DEG).toBeGreaterThan(7);
    expect((after.features.pose.roll - before.features.pose.roll) / DEG).toBeLessThan(13);
  }, 60_000);
});

describe("landmark geometry", () => {
  it("is invariant to in-plane rotation, scale and shift, except roll which follows the rotation", () => {
    const f = results[5][0];
    const a = 0.3;
    const moved: Point[] = f.landmarks.map(([x, y]) => [
      50 + 1.7 * (Math.cos(a) * x - Math.sin(a) * y),
      20 + 1.7 * (Math.sin(a) * x + Math.cos(a) * y),
    ]);
    const g0 = landmarkFeatures(f.landmarks, 1000, 1000);
    const g1 = landmarkFeatures(moved, 1000, 1000);
    expect(g1.pose.roll - g0.pose.roll).toBeCloseTo(a, 9);
    expect(g1.pose.yaw).toBeCloseTo(g0.pose.yaw, 9);
    expect(g1.pose.pitch).toBeCloseTo(g0.pose.pitch, 9);
    for (let i = 0; i < 52; i++) expect(g1.blendshapes[i]).toBeCloseTo(g0.blendshapes[i], 5);
  });

  it("closing one eye raises that eye's blink only", () => {
    const pts = results[5][0].landmarks.map((p) => [...p] as [number, number]);
    const g0 = landmarkFeatures(pts, 1000, 1000);
    // Subject's right eye (36-41): put the upper lid on the lower lid.
    pts[37] = [...pts[41]];
    pts[38] = [...pts[40]];
    const g1 = landmarkFeatures(pts, 1000, 1000);
    expect(g1.blendshapes[BSI("eyeBlinkRight")]).toBe(1);
    expect(g1.blendshapes[BSI("eyeBlinkLeft")]).toBe(g0.blendshapes[BSI("eyeBlinkLeft")]);
    expect(() => landmarkFeatures(pts.slice(0, 10), 10, 10)).toThrow(/expected 68 landmarks, got 10/);
  });
});

describe.runIf(await hasFfmpeg())("face tracks from a video (ffmpeg)", () => {
  it("tracks the roll of a face rotating in a video made from a photo", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vid-"));
    const video = join(dir, "rot.mp4");
    const { spawnSync } = await import("node:child_process");
    // A 256 x 256 face clip like REACT's: the largest face of a photo, cropped with a margin, turning by
    // 0.2 sin(2 pi t) rad over 1 s at 25 fps (ffmpeg's rotate: positive = clockwise).
    const [bx, by, bw, bh] = results[5][0].box;
    const side = Math.round(1.8 * Math.max(bw, bh));
    const cx = Math.round(bx + bw / 2 - side / 2);
    const cy = Math.round(by + bh / 2 - side / 2);
    const r = spawnSync(ffmpegCommand(), [
      "-hide_banner", "-loglevel", "error", "-loop", "1", "-i", SAMPLES[5], "-t", "1", "-r", "25",
      "-vf", `crop=${side}:${side}:${cx}:${cy},scale=256:256,rotate=0.2*sin(2*PI*t)`, "-pix_fmt", "yuv420p", "-c:v", "libx264", video,
    ]);
    expect(r.status, String(r.stderr)).toBe(0);
    const tracks = await extractVideoFaceTracks(video, { fps: 25, frames: 26 });
    expect(tracks.emotion.frames).toBe(26);
    expect(tracks.coefficients.frames).toBe(26);
    expect(tracks.detected.slice(0, 25).every((d) => d === 1)).toBe(true);
    expect(tracks.detected[25]).toBe(0); // padded past the end of the video
    const roll = Array.from({ length: 25 }, (_, t) => tracks.coefficients.data[t * 58 + 54]);
    const applied = roll.map((_, t) => 0.2 * Math.sin((2 * Math.PI * t) / 25));
    const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const mr = m(roll);
    const ma = m(applied);
    const cov = m(roll.map((v, i) => (v - mr) * (applied[i] - ma)));
    const corr = cov / Math.sqrt(m(roll.map((v) => (v - mr) ** 2)) * m(applied.map((v) => (v - ma) ** 2)));
    expect(corr).toBeGreaterThan(0.95);
    await expect(extractVideoFaceTracks(join(dir, "none.mp4"))).rejects.toThrow(/no such video file: .*none\.mp4/);
  }, 120_000);

  it("encodes frames into an MP4 that decodes back to them (colours within the codec's error), never over a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "enc-"));
    const path = join(dir, "colours.mp4");
    // 20 frames of 64 x 48: the left half a colour that changes every 5 frames, the right half grey
    const colours = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [220, 220, 60]];
    const frames = Array.from({ length: 20 }, (_, f) => {
      const data = new Uint8Array(64 * 48 * 3);
      for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) data.set(x < 32 ? colours[Math.floor(f / 5)] : [128, 128, 128], (y * 64 + x) * 3);
      return { width: 64, height: 48, data };
    });
    expect(await encodeVideo(path, frames, { fps: 25 })).toBe(20);
    const back = [];
    for await (const img of decodeVideoFrames(path, { fps: 25 })) back.push(img);
    expect(back.length).toBe(20);
    back.forEach((img, f) => {
      const at = (x: number, y: number) => Array.from(img.data.subarray((y * 64 + x) * 3, (y * 64 + x) * 3 + 3));
      at(12, 24).forEach((v, c) => expect(Math.abs(v - colours[Math.floor(f / 5)][c]), `frame ${f}`).toBeLessThan(20));
      at(52, 24).forEach((v) => expect(Math.abs(v - 128)).toBeLessThan(8));
    });
    await expect(encodeVideo(path, frames)).rejects.toThrow(/colours\.mp4 exists/);
    await expect(encodeVideo(join(dir, "mixed.mp4"), [frames[0], { width: 32, height: 48, data: new Uint8Array(32 * 48 * 3) }])).rejects.toThrow("frame 1 is 32 x 48; the video is 64 x 48");
    expect(readdirSync(dir).sort()).toEqual(["colours.mp4"]); // the failed one left nothing behind
  }, 120_000);
});
