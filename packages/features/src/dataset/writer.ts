import { serializeNpy } from "@perfrdiff/npy";
import type { FrameTrack } from "@perfrdiff/layout";
import { formatEmotionCsv, serialize3dmmNpy } from "../face/io";
import { formatSplitCsv, modalityPath, type ReactPairRow } from "./layout";

/** Files of one clip to write; every part is optional. */
export interface ClipFiles {
  /** WAV bytes (see encodeWav) */
  wav?: Uint8Array;
  /** `[frames, 25]` */
  emotion?: FrameTrack;
  /** `[frames, 58]` */
  threeDmm?: FrameTrack;
}

/** Writes files in the official REACT layout under `root` (Node). Existing files are replaced. */
export class ReactLayoutWriter {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  private async put(rel: string, bytes: Uint8Array | string): Promise<string> {
    const [{ mkdir, writeFile }, { join, dirname }] = await Promise.all([import("node:fs/promises"), import("node:path")]);
    const p = join(this.root, ...rel.split("/"));
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, bytes);
    return p;
  }

  /** Writes a clip's files (emotion under its renamed person folder, as the official data). */
  async writeClip(split: string, clip: string, files: ClipFiles): Promise<void> {
    if (files.wav) await this.put(modalityPath(split, "audio", clip), files.wav);
    if (files.emotion) await this.put(modalityPath(split, "emotion", clip), formatEmotionCsv(files.emotion));
    if (files.threeDmm) await this.put(modalityPath(split, "3dmm", clip), serialize3dmmNpy(files.threeDmm));
  }

  /** Writes `<split>.csv` (or `person_specific_<split>.csv`). */
  async writeSplitList(split: string, rows: readonly ReactPairRow[], personSpecific = false): Promise<void> {
    await this.put(personSpecific ? `person_specific_${split}.csv` : `${split}.csv`, formatSplitCsv(rows));
  }

  /** Writes the `[2N, 2N]` neighbour matrix as a NumPy bool array (`neighbour_emotion_<split>.npy`). */
  async writeNeighbours(split: string, matrix: Uint8Array, n: number, personSpecific = false): Promise<void> {
    if (matrix.length !== n * n) throw new Error(`neighbour matrix has ${matrix.length} entries; expected ${n} x ${n}`);
    const name = personSpecific ? `person_specific_masked_neighbour_emotion_${split}.npy` : `neighbour_emotion_${split}.npy`;
    await this.put(name, serializeNpy({ data: matrix, shape: [n, n], dtype: "|b1" }));
  }

  /** Writes an arbitrary file relative to the root (metadata). */
  async writeFile(rel: string, content: Uint8Array | string): Promise<string> {
    return this.put(rel, content);
  }
}
