import { parseNpy, serializeNpy, NpyFormatError } from "@perfrdiff/npy";
import { EMOTION_COLUMNS, EMOTION_DIM, FACE_DIM, type FrameTrack } from "@perfrdiff/layout";

/** An emotion track read from a CSV, with the header row as found in the file. */
export interface EmotionTrack extends FrameTrack {
  header: string[];
}

/** Raised for a malformed REACT per-frame file; the message names the file (and line) and the problem. */
export class FeatureFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FeatureFileError";
  }
}

/**
 * Parses a REACT emotion CSV: one header row (skipped by position, as the official loader's `drop(0)` does), then one
 * row of 25 numbers per frame (15 AUs, valence, arousal, 8 expression probabilities; see EMOTION_COLUMNS).
 * @returns `[frames, 25]`
 */
export function parseEmotionCsv(text: string, where = "emotion CSV"): EmotionTrack {
  const lines = text.split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  if (lines.length === 0) throw new FeatureFileError(`${where}: empty file (expected a header row and 25 columns per frame)`);
  const header = lines[0].split(",").map((s) => s.trim());
  if (header.length !== EMOTION_DIM) {
    throw new FeatureFileError(`${where}: header has ${header.length} columns; expected ${EMOTION_DIM}`);
  }
  const frames = lines.length - 1;
  const data = new Float32Array(frames * EMOTION_DIM);
  for (let r = 0; r < frames; r++) {
    const cells = lines[r + 1].split(",");
    if (cells.length !== EMOTION_DIM) {
      throw new FeatureFileError(`${where}:${r + 2}: ${cells.length} columns; expected ${EMOTION_DIM}`);
    }
    for (let c = 0; c < EMOTION_DIM; c++) {
      const s = cells[c].trim();
      const v = s === "" ? Number.NaN : Number(s);
      if (!Number.isFinite(v)) {
        throw new FeatureFileError(`${where}:${r + 2}: column ${c + 1} (${EMOTION_COLUMNS[c]}) is '${s}', not a finite number`);
      }
      data[r * EMOTION_DIM + c] = v;
    }
  }
  return { frames, dim: EMOTION_DIM, data, header };
}

/** Formats `[frames, 25]` as a REACT emotion CSV with the EMOTION_COLUMNS header (values as shortest float32 text). */
export function formatEmotionCsv(track: FrameTrack): string {
  checkTrack(track, EMOTION_DIM, "emotion track");
  const out: string[] = [EMOTION_COLUMNS.join(",")];
  for (let r = 0; r < track.frames; r++) {
    const row: string[] = [];
    for (let c = 0; c < EMOTION_DIM; c++) row.push(String(track.data[r * EMOTION_DIM + c]));
    out.push(row.join(","));
  }
  return `${out.join("\n")}\n`;
}

function checkTrack(track: FrameTrack, dim: number, what: string): void {
  if (track.dim !== dim) throw new Error(`${what} has ${track.dim} values per frame; expected ${dim}`);
  if (track.data.length !== track.frames * dim) {
    throw new Error(`${what}: data length ${track.data.length} != frames ${track.frames} x ${dim}`);
  }
  for (let i = 0; i < track.data.length; i++) {
    if (!Number.isFinite(track.data[i])) {
      throw new Error(`${what}: value at frame ${Math.floor(i / dim)}, column ${i % dim} is ${track.data[i]}`);
    }
  }
}

/**
 * Parses a FaceVerse coefficient `.npy` (float32/64): any shape that is `[frames, 58]` once unit dimensions are
 * dropped (the official loader `squeeze()`s it). A single frame may be stored as `[58]`.
 * @returns `[frames, 58]` float32
 */
export function parse3dmmNpy(bytes: Uint8Array, where = "3DMM .npy"): FrameTrack {
  let arr;
  try {
    arr = parseNpy(bytes);
  } catch (err) {
    if (err instanceof NpyFormatError) throw new FeatureFileError(`${where}: ${err.message}`);
    throw err;
  }
  if (arr.dtype !== "<f4" && arr.dtype !== "<f8") {
    throw new FeatureFileError(`${where}: dtype ${arr.dtype}; expected float32 or float64`);
  }
  const dims = arr.shape.filter((d) => d !== 1);
  const ok = (dims.length === 2 && dims[1] === FACE_DIM) || (dims.length === 1 && dims[0] === FACE_DIM);
  if (!ok) {
    throw new FeatureFileError(`${where}: shape [${arr.shape.join(", ")}]; expected [frames, 58] (unit dimensions allowed)`);
  }
  const frames = dims.length === 2 ? dims[0] : 1;
  const data = Float32Array.from(arr.data as Float32Array | Float64Array);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new FeatureFileError(`${where}: frame ${Math.floor(i / FACE_DIM)}, coefficient ${i % FACE_DIM} is ${data[i]}`);
    }
  }
  return { frames, dim: FACE_DIM, data };
}

/** Serialises `[frames, 58]` as a float32 `.npy` of that shape. */
export function serialize3dmmNpy(track: FrameTrack): Uint8Array {
  checkTrack(track, FACE_DIM, "3DMM track");
  return serializeNpy({ data: Float32Array.from(track.data), shape: [track.frames, FACE_DIM] });
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  const { readFile } = await import("node:fs/promises");
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new FeatureFileError(`missing ${what}: ${path}`);
    throw new FeatureFileError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

async function writeBytes(path: string, bytes: Uint8Array | string, overwrite: boolean): Promise<void> {
  const { writeFile, mkdir } = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, bytes, { flag: overwrite ? "w" : "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${path} exists; pass overwrite: true to replace it`);
    throw err;
  }
}

/** Reads a REACT emotion CSV (Node). `[frames, 25]` */
export async function readEmotionCsv(path: string): Promise<EmotionTrack> {
  const bytes = await readBytes(path, "emotion CSV");
  return parseEmotionCsv(new TextDecoder().decode(bytes), path);
}

/** Writes a REACT emotion CSV (Node); refuses to overwrite unless asked. */
export async function writeEmotionCsv(path: string, track: FrameTrack, options: { overwrite?: boolean } = {}): Promise<void> {
  await writeBytes(path, formatEmotionCsv(track), options.overwrite ?? false);
}

/** Reads a FaceVerse coefficient file (Node). `[frames, 58]` */
export async function read3dmm(path: string): Promise<FrameTrack> {
  return parse3dmmNpy(await readBytes(path, "3DMM file"), path);
}

/** Writes a FaceVerse coefficient file `[frames, 58]` float32 (Node); refuses to overwrite unless asked. */
export async function write3dmm(path: string, track: FrameTrack, options: { overwrite?: boolean } = {}): Promise<void> {
  await writeBytes(path, serialize3dmmNpy(track), options.overwrite ?? false);
}
