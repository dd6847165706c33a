import { inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ARKIT_BLENDSHAPES } from "@perfrdiff/layout";
import { drawFace, rgbImage } from "./face";
import { encodePng } from "./png";

const coefficients = (set: Record<string, number> = {}) => {
  const c = new Float32Array(58);
  for (const [k, v] of Object.entries(set)) c[ARKIT_BLENDSHAPES.indexOf(k as never) >= 0 ? ARKIT_BLENDSHAPES.indexOf(k as never) : Number(k)] = v;
  return c;
};
const face = (set: Record<string, number> = {}) => {
  const img = rgbImage(200, 200);
  drawFace(img, 0, 0, 200, coefficients(set));
  return img;
};
/** Pixels of a region that are (near) white: the whites of the eyes. */
const whites = (img: ReturnType<typeof rgbImage>, x0: number, y0: number, x1: number, y1: number) => {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (img.data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3).every((v) => v > 250)) n++;
  return n;
};
/** Pixels of the open mouth's colour (dark red; the pupils are dark brown). */
const darkPixels = (img: ReturnType<typeof rgbImage>) => {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 3) if (img.data[i]! > 95 && img.data[i]! < 125 && img.data[i + 1]! < 45 && img.data[i + 2]! > 30) n++;
  return n;
};

describe("cartoon face", () => {
  it("moves with the coefficients: eyes close on a blink, the mouth opens with the jaw, the head turns with yaw", () => {
    const neutral = face();
    // the face's left eye (the viewer's right) at face-local (0.3, -0.12): pixel (100 + 0.3 * 80, 100 - 0.12 * 80)
    expect(whites(neutral, 110, 82, 138, 98)).toBeGreaterThan(60);
    expect(whites(face({ eyeBlinkLeft: 1 }), 110, 82, 138, 98)).toBe(0);
    expect(whites(face({ eyeBlinkLeft: 1 }), 62, 82, 90, 98)).toBeGreaterThan(60); // the other eye stays open
    expect(darkPixels(neutral)).toBe(0);
    expect(darkPixels(face({ jawOpen: 0.3 }))).toBeGreaterThan(50);
    expect(darkPixels(face({ jawOpen: 0.9 }))).toBeGreaterThan(2 * darkPixels(face({ jawOpen: 0.3 })));
    // turning the head (yaw 0.5) moves the eyes sideways, by 0.35 sin(0.5) face units of 80 px
    const eyeX = (img: ReturnType<typeof rgbImage>) => {
      let [sum, n] = [0, 0];
      for (let y = 70; y < 110; y++) for (let x = 100; x < 200; x++) if (img.data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3).every((v) => v > 250)) [sum, n] = [sum + x, n + 1];
      return sum / n;
    };
    const shift = eyeX(face({ 53: 0.5 })) - eyeX(neutral);
    expect(Math.abs(shift - 0.35 * Math.sin(0.5) * 80)).toBeLessThan(1.5); // pixel rounding at the eye's edges
    expect(() => drawFace(rgbImage(10, 10), 0, 0, 10, new Float32Array(52))).toThrow("a face frame has 58 coefficients, got 52");
  });

  it("is encoded as a PNG that inflates back to its pixels", () => {
    const img = face({ mouthSmileLeft: 1 });
    const png = encodePng(img);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(png.buffer, png.byteOffset);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([200, 200]);
    expect(Array.from(png.subarray(png.length - 8))).toEqual([0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]); // IEND and its CRC
    const idatLength = view.getUint32(33);
    const raw = inflateSync(png.subarray(41, 41 + idatLength));
    for (let y = 0; y < 200; y += 37) expect(Buffer.compare(raw.subarray(y * 601 + 1, (y + 1) * 601), Buffer.from(img.data.subarray(y * 600, (y + 1) * 600)))).toBe(0);
  });
});
