/**
 * A flat cartoon face drawn from one frame of the 58 REACT face coefficients (52 ARKit-named blendshape weights in
 * 0..1, then pitch / yaw / roll in radians and a translation): eyes that blink, widen and narrow, brows that rise and
 * fall, a mouth that smiles on either side, frowns, opens and purses, cheeks that raise, a head that turns, nods and
 * tilts. Enough to see a reaction move in a video, with no 3D mesh or GPU; the demo page draws 3D faces. Left and right
 * are the face's own (ARKit's): its left eye is on the viewer's right.
 *
 * Drawn into an RGB buffer by our own scanline polygon fill at twice the resolution, then averaged 2x2 (anti-aliased
 * edges): a canvas library (node-canvas, skia) would need a native build for a few ellipses and curves.
 */
import { ARKIT_BLENDSHAPES, FACE_DIM } from "@perfrdiff/layout";

/** An RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Rgb = readonly [number, number, number];

/** An image of one colour. */
export function rgbImage(width: number, height: number, colour: Rgb = [255, 255, 255]): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new Error(`image size must be whole numbers >= 1, got ${width} x ${height}`);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(colour, i);
  return { width, height, data };
}

type Point = [number, number];
const BS = Object.fromEntries(ARKIT_BLENDSHAPES.map((n, i) => [n, i])) as Record<(typeof ARKIT_BLENDSHAPES)[number], number>;

/** A canvas of packed 0xBBGGRR pixels (spans fill with one typed-array call). */
interface Canvas {
  size: number;
  px: Uint32Array;
}

const pack = (c: Rgb) => (c[0] | (c[1] << 8) | (c[2] << 16)) >>> 0;

/** Fills a closed polygon (even-odd rule) at pixel centres, blending `colour` with opacity `alpha`. */
function fillPolygon(cv: Canvas, pts: Point[], colour: Rgb, alpha = 1): void {
  if (pts.length < 3) return;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const [, y] of pts) [y0, y1] = [Math.min(y0, y), Math.max(y1, y)];
  const from = Math.max(0, Math.ceil(y0 - 0.5));
  const to = Math.min(cv.size - 1, Math.floor(y1 - 0.5));
  const packed = pack(colour);
  const xs: number[] = [];
  for (let row = from; row <= to; row++) {
    const y = row + 0.5;
    xs.length = 0;
    for (let i = 0; i < pts.length; i++) {
      const [ax, ay] = pts[i]!;
      const [bx, by] = pts[(i + 1) % pts.length]!;
      if ((ay <= y && by > y) || (by <= y && ay > y)) xs.push(ax + ((y - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const c0 = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const c1 = Math.min(cv.size - 1, Math.floor(xs[k + 1]! - 0.5));
      if (c1 < c0) continue;
      const at = row * cv.size;
      if (alpha >= 1) {
        cv.px.fill(packed, at + c0, at + c1 + 1);
        continue;
      }
      for (let col = c0; col <= c1; col++) {
        const v = cv.px[at + col]!;
        let out = 0;
        for (let ch = 0; ch < 3; ch++) out |= Math.round(((v >>> (8 * ch)) & 255) * (1 - alpha) + colour[ch]! * alpha) << (8 * ch);
        cv.px[at + col] = out >>> 0;
      }
    }
  }
}

const ellipse = (cx: number, cy: number, rx: number, ry: number, n = 40): Point[] =>
  Array.from({ length: n }, (_, i) => [cx + rx * Math.cos((2 * Math.PI * i) / n), cy + ry * Math.sin((2 * Math.PI * i) / n)] as Point);

/** Points of a quadratic Bézier curve from a to b through control c. */
const curve = (a: Point, c: Point, b: Point, n = 16): Point[] =>
  Array.from({ length: n + 1 }, (_, i) => {
    const t = i / n;
    return [(1 - t) ** 2 * a[0] + 2 * (1 - t) * t * c[0] + t * t * b[0], (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * c[1] + t * t * b[1]] as Point;
  });

/** A quadratic curve from a to b that passes through `mid` halfway. */
const through = (a: Point, mid: Point, b: Point): Point[] => curve(a, [2 * mid[0] - (a[0] + b[0]) / 2, 2 * mid[1] - (a[1] + b[1]) / 2], b);

/** A band of width `w` along a polyline (for brows and lips). */
function band(line: Point[], w: number): Point[] {
  const normal = (i: number): Point => {
    const [a, b] = [line[Math.max(0, i - 1)]!, line[Math.min(line.length - 1, i + 1)]!];
    const [dx, dy] = [b[0] - a[0], b[1] - a[1]];
    const len = Math.hypot(dx, dy) || 1;
    return [-dy / len, dx / len];
  };
  const top = line.map((p, i) => [p[0] + (normal(i)[0] * w) / 2, p[1] + (normal(i)[1] * w) / 2] as Point);
  const bottom = line.map((p, i) => [p[0] - (normal(i)[0] * w) / 2, p[1] - (normal(i)[1] * w) / 2] as Point).reverse();
  return [...top, ...bottom];
}

export interface FaceStyle {
  skin?: Rgb;
  /** the frame around the face (e.g. to tell the speaker from the listeners) */
  frame?: Rgb;
}

/**
 * Draws the face of one frame of coefficients (`[58]`, as the dataset stores them: not normalised) into the square
 * `size` x `size` at (x, y) of `img`.
 * @throws when `coefficients` does not hold 58 values
 */
export function drawFace(img: RgbImage, x: number, y: number, size: number, coefficients: ArrayLike<number>, style: FaceStyle = {}): void {
  if (coefficients.length !== FACE_DIM) throw new Error(`a face frame has ${FACE_DIM} coefficients, got ${coefficients.length}`);
  // draw at twice the size, then average 2x2
  const S = 2 * size;
  const big: Canvas = { size: S, px: new Uint32Array(S * S).fill(pack([245, 245, 245])) };
  const c = (name: keyof typeof BS) => Math.max(0, Math.min(1, Number(coefficients[BS[name]]) || 0));
  const [pitch, yaw, roll] = [coefficients[52]!, coefficients[53]!, coefficients[54]!].map((v) => Math.max(-0.8, Math.min(0.8, Number(v) || 0)));
  const unit = S * 0.4;
  // face-local coordinates (unit = 0.4 of the image, y down) to pixels: features shift with yaw and pitch, all turns with roll
  const place = (p: Point, depth = 1): Point => {
    const lx = p[0] + depth * 0.35 * Math.sin(yaw!);
    const ly = p[1] + depth * 0.35 * Math.sin(pitch!);
    const [cr, sr] = [Math.cos(roll!), Math.sin(roll!)];
    return [S / 2 + unit * (lx * cr - ly * sr), S / 2 + unit * (lx * sr + ly * cr)];
  };
  const shape = (pts: Point[], colour: Rgb, alpha = 1, depth = 1) => fillPolygon(big, pts.map((p) => place(p, depth)), colour, alpha);
  const skin = style.skin ?? [241, 204, 170];
  shape(ellipse(0, 0.05, 0.78 * Math.cos(yaw! * 0.6), 0.98), skin, 1, 0.25);

  // cheeks, raised with a Duchenne smile
  for (const [side, sq] of [[1, c("cheekSquintLeft")], [-1, c("cheekSquintRight")]] as const) {
    if (sq > 0.02) shape(ellipse(side * 0.42, 0.28 - 0.05 * sq, 0.16, 0.1), [230, 120, 110], 0.5 * sq);
  }
  // eyes: open unless blinking, wider when widened, narrower when squinting
  for (const [side, s] of [[1, "Left"], [-1, "Right"]] as const) {
    const open = Math.max(0.04, (1 - c(`eyeBlink${s}`)) * (1 + 0.6 * c(`eyeWide${s}`) - 0.5 * c(`eyeSquint${s}`)));
    const ex = side * 0.3;
    shape(ellipse(ex, -0.12, 0.15, 0.085 * open), [255, 255, 255]);
    const look = c(`eyeLookOut${s}`) - c(`eyeLookIn${s}`);
    if (open > 0.25) shape(ellipse(ex + side * 0.06 * look, -0.12 + 0.04 * (c(`eyeLookDown${s}`) - c(`eyeLookUp${s}`)), 0.05, 0.05 * Math.min(1, open)), [60, 40, 30]);
    // brows: the inner end rises with browInnerUp, the outer with browOuterUp, both fall with browDown
    const down = c(`browDown${s}`);
    const inner: Point = [side * 0.1, -0.32 - 0.14 * c("browInnerUp") + 0.08 * down];
    const outer: Point = [side * 0.46, -0.3 - 0.12 * c(`browOuterUp${s}`) + 0.05 * down];
    shape(band(curve(inner, [side * 0.28, (inner[1] + outer[1]) / 2 - 0.06], outer), 0.055), [90, 60, 40]);
  }
  // nose
  shape([[0, -0.05], [-0.07, 0.17], [0.07, 0.17]], [225, 180, 150], 1, 1.2);

  // mouth: corners pulled up by smiles (each side), down by frowns, in by a pucker; lips apart as the jaw opens
  const mouthX = 0.27 - 0.1 * c("mouthPucker") - 0.05 * c("mouthFunnel") + 0.04 * (c("mouthStretchLeft") + c("mouthStretchRight")) / 2;
  const corner = (side: -1 | 1, s: "Left" | "Right"): Point => [side * (mouthX + 0.06 * c(`mouthSmile${s}`)), 0.46 - 0.13 * c(`mouthSmile${s}`) + 0.08 * c(`mouthFrown${s}`) - 0.03 * c(`mouthDimple${s}`)];
  const [l, r] = [corner(-1, "Right"), corner(1, "Left")];
  const smile = (c("mouthSmileLeft") + c("mouthSmileRight")) / 2;
  const gap = 0.28 * c("jawOpen") + 0.06 * (c("mouthLowerDownLeft") + c("mouthLowerDownRight")) + 0.04 * (c("mouthUpperUpLeft") + c("mouthUpperUpRight"));
  const upperMid: Point = [0, 0.44 - 0.05 * (c("mouthUpperUpLeft") + c("mouthUpperUpRight")) / 2 + 0.02 * smile];
  const lowerMid: Point = [0, 0.47 + gap + 0.09 * smile];
  const upper = through(l, upperMid, r);
  const lower = through(r, lowerMid, l);
  if (gap > 0.015 || smile > 0.3) shape([...upper, ...lower], [110, 30, 40]);
  shape(band(upper, 0.05), [190, 90, 90]);
  shape(band(through(l, [0, lowerMid[1] + 0.02], r), 0.06), [200, 100, 100]);

  // the frame, then 2x2 averaging into the target
  if (style.frame) {
    const f = style.frame;
    const t = Math.max(2, Math.round(S / 60));
    for (const rect of [[0, 0, S, t], [0, S - t, S, t], [0, 0, t, S], [S - t, 0, t, S]] as const) {
      fillPolygon(big, [[rect[0], rect[1]], [rect[0] + rect[2], rect[1]], [rect[0] + rect[2], rect[1] + rect[3]], [rect[0], rect[1] + rect[3]]], f);
    }
  }
  for (let row = 0; row < size; row++) {
    const ty = y + row;
    if (ty < 0 || ty >= img.height) continue;
    for (let col = 0; col < size; col++) {
      const tx = x + col;
      if (tx < 0 || tx >= img.width) continue;
      const o = (ty * img.width + tx) * 3;
      const i = 2 * row * S + 2 * col;
      const [a, b, c2, d] = [big.px[i]!, big.px[i + 1]!, big.px[i + S]!, big.px[i + S + 1]!];
      for (let ch = 0; ch < 3; ch++) {
        const sh = 8 * ch;
        img.data[o + ch] = (((a >>> sh) & 255) + ((b >>> sh) & 255) + ((c2 >>> sh) & 255) + ((d >>> sh) & 255) + 2) >> 2;
      }
    }
  }
}

export interface ReactionVideoInput {
  /** the speaker's coefficients `[T, 58]` (not normalised), or null to show the reactions only */
  speaker: ArrayLike<number> | null;
  /** K reactions' coefficients `[K, T, 58]` (not normalised) */
  reactions: ArrayLike<number>;
  k: number;
  frames: number;
  /** the side of each face in pixels (default 192) */
  size?: number;
  /** at most this many reactions are shown (default 4) */
  maxReactions?: number;
}

/**
 * The frames of a video of the speaker's face (framed in black) beside the first reactions' faces, one row, one
 * image per frame; a generator, so a video encoder holds one frame at a time.
 */
export function* reactionVideoFrames(input: ReactionVideoInput): Generator<RgbImage> {
  const { speaker, reactions, k, frames } = input;
  const size = input.size ?? 192;
  if (reactions.length !== k * frames * FACE_DIM) throw new Error(`reaction coefficients hold ${reactions.length} values; [${k}, ${frames}, ${FACE_DIM}] needs ${k * frames * FACE_DIM}`);
  if (speaker && speaker.length < frames * FACE_DIM) throw new Error(`the speaker's coefficients hold ${speaker.length} values; ${frames} frames need ${frames * FACE_DIM}`);
  const shown = Math.min(k, input.maxReactions ?? 4);
  const faces = shown + (speaker ? 1 : 0);
  const frameOf = (a: ArrayLike<number>, offset: number) => Array.prototype.slice.call(a, offset, offset + FACE_DIM) as number[];
  for (let f = 0; f < frames; f++) {
    const img = rgbImage(faces * size, size, [245, 245, 245]);
    let slot = 0;
    if (speaker) drawFace(img, size * slot++, 0, size, frameOf(speaker, f * FACE_DIM), { frame: [0, 0, 0] });
    for (let r = 0; r < shown; r++) drawFace(img, size * slot++, 0, size, frameOf(reactions, (r * frames + f) * FACE_DIM));
    yield img;
  }
}
