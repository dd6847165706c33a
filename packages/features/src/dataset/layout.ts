/**
 * The REACT 2024 dataset layout, as read by the official loaders (REACT 2024 baseline `dataset.py`, PerFRDiff
 * `dataset/dataset.py`) and described in their READMEs:
 *
 * ```
 * <root>/<split>.csv                          header row, then: <index>,<speaker clip>,<listener clip>  (split = train/val/test)
 * <root>/neighbour_emotion_<split>.npy        [2N, 2N] 0/1: row i = speaker of item i, column j = listener reaction of item j
 * <root>/person_specific_<split>.csv          PerFRDiff's evaluation lists (same format), with
 * <root>/person_specific_masked_neighbour_emotion_<split>.npy
 * <root>/<split>/Audio_files/<clip>.wav
 * <root>/<split>/Video_files/<clip>.mp4       (or a folder <clip>/ of 1.png ... 751.png in the 2024 baseline)
 * <root>/<split>/Emotion/<clip*>.csv          clip* = clip with the person folder renamed, see emotionClipPath
 * <root>/<split>/3D_FV_files/<clip>.npy       [751, 58] (unit dims allowed)
 * ```
 * A clip is `site/session/person/index`, e.g. `NoXI/010_2016-03-25_Paris/Expert_video/1` or `RECOLA/group-1/P25/1`.
 * The list of N pairs is mirrored into 2N items: item i < N is (speaker, listener) of row i, item N + i swaps them.
 * A listener's identity is the first three path segments (site/session/person).
 */

export type ReactModality = "audio" | "video" | "emotion" | "3dmm";

export const MODALITY_FOLDERS: Record<ReactModality, string> = {
  audio: "Audio_files",
  video: "Video_files",
  emotion: "Emotion",
  "3dmm": "3D_FV_files",
};

const RECOLA_EMOTION_PERSON: Record<string, string> = { P25: "P1", P26: "P2", P41: "P1", P42: "P2", P45: "P1", P46: "P2" };

/**
 * The clip path used under `Emotion/`: the released emotion files name persons differently from the other
 * modalities. NoXI: `Expert_video` -> `P1`, `Novice_video` -> `P2`; RECOLA groups: P25/P41/P45 -> P1 and
 * P26/P42/P46 -> P2 (the official loaders rename these by string replacement).
 */
export function emotionClipPath(clip: string): string {
  const seg = clip.split("/");
  if (seg.length < 3) return clip;
  if (seg[0] === "NoXI") {
    if (seg[2] === "Expert_video") seg[2] = "P1";
    else if (seg[2] === "Novice_video") seg[2] = "P2";
  } else if (seg[0] === "RECOLA" && seg[1].startsWith("group")) {
    seg[2] = RECOLA_EMOTION_PERSON[seg[2]] ?? seg[2];
  }
  return seg.join("/");
}

/** Listener (or speaker) identity of a clip: `site/session/person`. */
export function personId(clip: string): string {
  return clip.split("/").slice(0, 3).join("/");
}

/** Path of a clip's file of one modality, relative to the dataset root (forward slashes). */
export function modalityPath(split: string, modality: ReactModality, clip: string): string {
  const folder = `${split}/${MODALITY_FOLDERS[modality]}`;
  switch (modality) {
    case "audio":
      return `${folder}/${clip}.wav`;
    case "video":
      return `${folder}/${clip}.mp4`;
    case "emotion":
      return `${folder}/${emotionClipPath(clip)}.csv`;
    case "3dmm":
      return `${folder}/${clip}.npy`;
  }
}

/** One row of a split list. */
export interface ReactPairRow {
  speaker: string;
  listener: string;
}

/**
 * Parses a split list (`train.csv`, `val.csv`, `person_specific_test.csv`, ...): a header row, then rows whose
 * second and third cells are the speaker and listener clips (the first cell is an index; the official loaders read
 * columns 1 and 2 by position).
 */
export function parseSplitCsv(text: string, where = "split CSV"): ReactPairRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  if (lines.length === 0) throw new Error(`${where}: empty file (expected a header row and one row per pair)`);
  const rows: ReactPairRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const cells = lines[i].split(",").map((c) => c.trim());
    if (cells.length < 3 || cells[1] === "" || cells[2] === "") {
      throw new Error(`${where}:${i + 1}: expected '<index>,<speaker clip>,<listener clip>', got '${lines[i]}'`);
    }
    for (const c of [cells[1], cells[2]]) {
      if (c.split("/").length < 4 || c.includes("..") || c.startsWith("/")) {
        throw new Error(`${where}:${i + 1}: '${c}' is not a clip path site/session/person/index`);
      }
    }
    rows.push({ speaker: cells[1], listener: cells[2] });
  }
  return rows;
}

/** Formats a split list in the layout {@link parseSplitCsv} reads. */
export function formatSplitCsv(rows: readonly ReactPairRow[]): string {
  return `,speaker_path,listener_path\n${rows.map((r, i) => `${i},${r.speaker},${r.listener}`).join("\n")}\n`;
}
