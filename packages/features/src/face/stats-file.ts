import { FACE_DIM, type FaceStats } from "@perfrdiff/layout";
import { parseNpy } from "@perfrdiff/npy";

function statsVector(bytes: Uint8Array, where: string): Float32Array {
  const a = parseNpy(bytes);
  if (a.dtype !== "<f4" && a.dtype !== "<f8") throw new Error(`${where}: dtype ${a.dtype}; expected float`);
  if (a.data.length !== FACE_DIM) throw new Error(`${where}: shape [${a.shape.join(", ")}]; expected ${FACE_DIM} values`);
  return Float32Array.from(a.data as Float32Array);
}

/**
 * Reads `mean_face.npy` and `std_face.npy` from a folder (the official `external/FaceVerse/`); normalise with
 * `normalise3dmm` from @perfrdiff/layout.
 */
export async function loadFaceStats(dir: string): Promise<FaceStats> {
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const read = async (name: string) => {
    const p = join(dir, name);
    try {
      return statsVector(await readFile(p), p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`missing FaceVerse statistics file: ${p}`);
      throw err;
    }
  };
  return { mean: await read("mean_face.npy"), std: await read("std_face.npy") };
}
