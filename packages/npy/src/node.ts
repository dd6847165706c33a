import { NpyFormatError, parseNpy, serializeNpy } from "./npy";
import type { NpyArray, NpyDtype, NpyTypedArray } from "./npy";

/** Options for {@link writeNpy}. */
export interface WriteNpyOptions {
  /** Replace an existing file. Default false: an existing file is an error, so nothing is overwritten silently. */
  overwrite?: boolean;
  /** Write a Uint8Array as `|b1` booleans. */
  dtype?: NpyDtype;
}

/**
 * Reads a `.npy` file (Node only; `node:fs` is loaded lazily so browser bundles of this package stay clean).
 * @throws Error naming the path when the file is missing, NpyFormatError (with the path) when it is malformed.
 */
export async function readNpy(path: string): Promise<NpyArray> {
  const { readFile } = await import("node:fs/promises");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new Error(`no such .npy file: ${path}`);
    throw new Error(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseNpy(bytes);
  } catch (err) {
    if (err instanceof NpyFormatError) throw new NpyFormatError(`${path}: ${err.message}`);
    throw err;
  }
}

/** Writes a C-ordered array as a `.npy` file, creating parent folders. Refuses to overwrite unless asked. */
export async function writeNpy(
  path: string,
  array: { data: NpyTypedArray; shape: readonly number[] },
  options: WriteNpyOptions = {},
): Promise<void> {
  const { writeFile, mkdir } = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  const bytes = serializeNpy({ ...array, dtype: options.dtype });
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, bytes, { flag: options.overwrite ? "w" : "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new Error(`${path} exists; pass overwrite: true (CLI: --force) to replace it`);
    }
    throw err;
  }
}
