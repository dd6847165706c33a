// Command-line input helpers shared by the commands: whole-number options, file checks and float .npy reading.
import { access, constants, stat } from "node:fs/promises";
import { readNpy, type NpyArray, type NpyTypedArray } from "@perfrdiff/npy";

/** A numeric .npy array (no 64-bit integers). */
export type NumericNpy = NpyArray<Exclude<NpyTypedArray, BigInt64Array | BigUint64Array>>;

const FLOAT_DTYPES = new Set(["<f4", "<f8"]);

/**
 * A whole-number option in [min, max]; an error naming the flag otherwise (also for an empty string, which
 * Number() would read as 0).
 */
export function wholeNumber(value: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`${flag} must be a whole number ${range}, got '${value}'`);
  }
  return n;
}

export function fileExists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Makes sure `dir` (the value of `flag`) can take a command's outputs before any work starts, without creating it:
 * an existing file of that name, a path below a file, or a folder (or, for a new folder, the nearest existing parent)
 * that cannot be written is an error in words, not an errno after the run.
 */
export async function checkOutputFolder(dir: string, flag = "--out"): Promise<void> {
  const { dirname, resolve } = await import("node:path");
  const info = await stat(dir).catch(() => null);
  if (info && !info.isDirectory()) throw new Error(`${flag} ${dir} is a file, not a folder`);
  let existing = resolve(dir);
  let found = info;
  while (!found) {
    existing = dirname(existing);
    found = await stat(existing).catch(() => null);
  }
  if (!found.isDirectory()) throw new Error(`cannot create the ${flag} folder ${dir} (${existing} is a file)`);
  try {
    await access(existing, constants.W_OK);
  } catch (err) {
    throw new Error(`cannot write to ${info ? `the ${flag} folder ${dir}` : `${existing}, where the ${flag} folder ${dir} would be made`} (${reason(err)})`);
  }
}

/** An fs error in words. */
function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const words: Record<string, string> = { EACCES: "permission denied", EPERM: "not permitted", EROFS: "read-only file system", ENOTDIR: "a part of the path is a file", ENOSPC: "no space left" };
  return (code && words[code]) ?? (err as Error).message;
}

/**
 * Reads a float32 or float64 .npy file; a missing or malformed file or any other dtype is an error naming the file
 * and its role (`what`).
 */
export async function readFloatNpy(path: string, what: string): Promise<NumericNpy> {
  let a;
  try {
    a = await readNpy(path);
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
  if (!FLOAT_DTYPES.has(a.dtype)) {
    throw new Error(`${path} (${what}) has dtype '${a.dtype}'; expected float32 or float64`);
  }
  return a as NumericNpy;
}

/**
 * The folder of mean_face.npy / std_face.npy a command normalises 3DMM tracks with: `--face-stats DIR`, none with
 * `--no-face-stats` (false), else the model's own (`<checkpoint>/FaceVerse`: training and the default model keep the
 * statistics their model was trained with there), else `<data>/FaceVerse`, the first that holds mean_face.npy.
 */
export async function faceStatsFolder(option: string | false | undefined, data: string | undefined, checkpoint?: string): Promise<string | null> {
  if (option === false) return null;
  if (option) return option;
  const { join } = await import("node:path");
  for (const root of [checkpoint, data]) {
    if (!root) continue;
    const dir = join(root, "FaceVerse");
    if (await fileExists(join(dir, "mean_face.npy"))) return dir;
  }
  return null;
}

/**
 * A `--checkpoint` / `--weights` value as a folder: `default` (or none, where `allowNone`) is the bundled default
 * model, said on stderr; anything else is returned as given.
 */
export async function checkpointFolder(value: string | undefined, flag: string, allowNone = false): Promise<string> {
  const core = await import("@perfrdiff/core");
  if (value === undefined && !allowNone) throw new Error(`give ${flag} RUN (a run or weights folder), or ${flag} ${core.DEFAULT_CHECKPOINT} for the bundled default model`);
  if (!core.isDefaultCheckpoint(value)) return value!;
  const d = await core.defaultCheckpoint();
  process.stderr.write(`${value === undefined ? `no ${flag}: ` : ""}using the ${d.name}\n`);
  return d.checkpoint as string;
}
