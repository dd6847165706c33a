/**
 * A dataset split opened for evaluation, as the PerFRDiff evaluation scripts read it: `<split>.csv`'s mirrored items,
 * the appropriate reactions of each speaker clip from a neighbour matrix, and for the personalised task (PMAFRG) the
 * history clip each item's listener is personalised from. Every file is checked before any long work starts.
 *
 * Neighbour matrices (`[2N, 2N]` 0/1 over the split's items):
 * - MAFRG: `neighbour_emotion_<split>.npy` (the REACT challenge's matrix);
 * - PMAFRG: `person_specific_masked_neighbour_emotion_<split>.npy` when present, else derived from
 *   `neighbour_emotion_<split>.npy`: each row kept only where the reaction is by the same listener as the item's
 *   (the reactions *this* listener could show), the item's own reaction always included;
 * - `neighbours` replaces either with a file of that shape.
 */
import { ReactDataset, loadCorpus, parseNeighbours } from "@perfrdiff/features/dataset";
import { readEmotionCsv } from "@perfrdiff/features/face";
import type { FaceStats, FrameTrack } from "@perfrdiff/layout";
import { REACT_CLIP_FRAMES } from "@perfrdiff/layout";
import type { EmotionCorpus, SplitCorpus } from "./reactions";

/** MAFRG: the generic model; PMAFRG: personalised per listener from their history. */
export type EvalTask = "mafrg" | "pmafrg";
export const EVAL_TASKS: readonly EvalTask[] = ["mafrg", "pmafrg"];

/** Where a split's appropriate reactions came from. */
export interface NeighbourSource {
  /** the matrix file read */
  path: string;
  /** true when the person-specific rows were derived from `path` (no masked matrix in the dataset) */
  derived: boolean;
}

export interface OpenEvalSplitOptions {
  /** default `mafrg` */
  task?: EvalTask;
  /** frames per clip (default 750, the official clip_length) */
  frames?: number;
  /** 3DMM normalisation (the official loaders subtract mean_face); model inputs only */
  faceStats?: FaceStats;
  /** a neighbour matrix file `[2N, 2N]` to use instead of the dataset's */
  neighbours?: string;
  /**
   * PMAFRG, an item whose listener has no other clip in the split: `error` (default), or `generic` (generate it
   * with the generic model; counted in {@link EvalSplit.unpersonalised}). Its own reaction is never used as history.
   */
  missingHistory?: "error" | "generic";
  /** read only the emotion tracks (what the REACT baselines and the metrics need): no audio, no 3DMM */
  emotionOnly?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface EvalSplit<C extends EmotionCorpus = SplitCorpus> {
  split: string;
  task: EvalTask;
  corpus: C;
  /** per item, its speaker clip `site/session/person/index` */
  clips: string[];
  neighbours: NeighbourSource;
  /**
   * PMAFRG: per item, the item whose listener 3DMM track personalises it (the first other clip of its listener), -1
   * for an item generated generically (see {@link OpenEvalSplitOptions.missingHistory})
   */
  history: number[] | null;
  /** PMAFRG: items generated with the generic model for want of a history clip */
  unpersonalised: number;
}

async function exists(path: string): Promise<boolean> {
  const { stat } = await import("node:fs/promises");
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Rows of a `[n, n]` 0/1 matrix in the official order: when a row has several columns, the item itself first. */
function rowsOf(matrix: Uint8Array, n: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const cols: number[] = [];
    for (let j = 0; j < n; j++) if (matrix[i * n + j]) cols.push(j);
    return cols.length > 1 && cols.includes(i) ? [i, ...cols.filter((j) => j !== i)] : cols;
  });
}

/**
 * The person-specific appropriate reactions: each row restricted to the reactions of the item's own listener,
 * the item's own reaction always first.
 * @param appropriate per item, its appropriate items
 * @param listenerIds per item, its listener's `site/session/person`
 */
export function personSpecificRows(appropriate: number[][], listenerIds: string[]): number[][] {
  return appropriate.map((row, i) => [i, ...row.filter((j) => j !== i && listenerIds[j] === listenerIds[i])]);
}

/** The emotion tracks of every item (speaker's and its listener's), `frames` each, read once per clip. */
async function loadEmotion(ds: ReactDataset, frames: number, onProgress?: (done: number, total: number) => void): Promise<EmotionCorpus["items"]> {
  const clips = [...new Set(ds.items.flatMap((it) => [it.speaker, it.listener]))];
  const tracks = new Map<string, FrameTrack>();
  for (const clip of clips) {
    const p = await ds.filePath(clip, "emotion");
    const t = await readEmotionCsv(p);
    if (t.frames < frames) throw new Error(`${p}: ${t.frames} frames; the evaluation reads ${frames}`);
    tracks.set(clip, { frames, dim: t.dim, data: t.data.slice(0, frames * t.dim) });
    onProgress?.(tracks.size, clips.length);
  }
  return ds.items.map((it) => ({ speakerEmotion: tracks.get(it.speaker)!, listenerEmotion: tracks.get(it.listener)!, listenerId: it.listenerId }));
}

/**
 * Every item's emotion tracks of a split, `frames` each, without its neighbour matrix: the training tracks of the
 * meanseq / meanfr baselines.
 */
export async function readSplitEmotion(root: string, split: string, options: { frames?: number; onProgress?: (done: number, total: number) => void } = {}): Promise<EmotionCorpus["items"]> {
  const ds = await ReactDataset.open(root, split);
  const problems = await ds.validate({ modalities: ["emotion"], deep: false, neighbours: false });
  if (problems.length) throw new Error(`${split} of ${root}: ${problems.length} problem(s), the first: ${problems[0]!.path}: ${problems[0]!.problem}`);
  return loadEmotion(ds, options.frames ?? REACT_CLIP_FRAMES, options.onProgress);
}

/**
 * Opens and loads a split for evaluation (see the module comment for the neighbour matrices).
 * @throws before reading any track when the list or a neighbour matrix is missing or malformed, or files are missing
 *   (all of them listed); for PMAFRG when a listener has no other clip to personalise from
 */
export async function openEvalSplit(root: string, split: string, options: OpenEvalSplitOptions & { emotionOnly: true }): Promise<EvalSplit<EmotionCorpus>>;
export async function openEvalSplit(root: string, split: string, options?: OpenEvalSplitOptions): Promise<EvalSplit>;
export async function openEvalSplit(root: string, split: string, options: OpenEvalSplitOptions = {}): Promise<EvalSplit<EmotionCorpus>> {
  const { join } = await import("node:path");
  const { readFile } = await import("node:fs/promises");
  const task = options.task ?? "mafrg";
  if (!EVAL_TASKS.includes(task)) throw new Error(`task must be one of ${EVAL_TASKS.join(", ")}, got '${String(task)}'`);
  const frames = options.frames ?? REACT_CLIP_FRAMES;
  const ds = await ReactDataset.open(root, split);
  const n = ds.items.length;
  const listenerIds = ds.items.map((it) => it.listenerId);

  // ---- appropriate reactions
  let neighbours: NeighbourSource;
  let appropriate: number[][];
  const read = async (path: string) => rowsOf(parseNeighbours(new Uint8Array(await readFile(path)), n, path), n);
  const masked = join(root, `person_specific_masked_neighbour_emotion_${split}.npy`);
  if (options.neighbours) {
    if (!(await exists(options.neighbours))) throw new Error(`no such neighbour matrix: ${options.neighbours}`);
    neighbours = { path: options.neighbours, derived: false };
    appropriate = await read(options.neighbours);
  } else if (task === "pmafrg" && (await exists(masked))) {
    neighbours = { path: masked, derived: false };
    appropriate = await read(masked);
  } else {
    if (!ds.neighbours) throw new Error(`no neighbour matrix ${ds.neighbourPath}: the metrics need each clip's appropriate reactions (or give a matrix file)`);
    neighbours = { path: ds.neighbourPath, derived: task === "pmafrg" };
    appropriate = rowsOf(ds.neighbours, n);
    if (task === "pmafrg") appropriate = personSpecificRows(appropriate, listenerIds);
  }
  const empty = appropriate.findIndex((row) => row.length === 0);
  if (empty >= 0) throw new Error(`${neighbours.path}: row ${empty} (speaker clip ${ds.items[empty]!.speaker}) has no appropriate reaction`);

  // ---- the listener history of each item (PMAFRG)
  let history: number[] | null = null;
  if (task === "pmafrg") {
    history = ds.items.map((it) => ds.history(it.index)[0] ?? -1);
    const lonely = ds.items.filter((it) => history![it.index]! < 0).map((it) => it.listenerId);
    if (lonely.length && (options.missingHistory ?? "error") === "error") {
      const names = [...new Set(lonely)];
      throw new Error(
        `PMAFRG personalises each listener from another clip of theirs; ${lonely.length} item(s) of ${split} have none ` +
          `(listeners ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}); generate those generically with missingHistory 'generic'`,
      );
    }
  }

  // ---- every file there, before anything long
  const problems = await ds.validate({ modalities: options.emotionOnly ? ["emotion"] : ["audio", "emotion", "3dmm"], deep: false, neighbours: false });
  if (problems.length) {
    const shown = problems.slice(0, 10).map((p) => `  ${p.path}: ${p.problem}`).join("\n");
    throw new Error(`${split} of ${root}: ${problems.length} problem(s)\n${shown}${problems.length > 10 ? `\n  ... and ${problems.length - 10} more` : ""}`);
  }

  const items = options.emotionOnly
    ? await loadEmotion(ds, frames, options.onProgress)
    : (await loadCorpus(ds, { frames, faceStats: options.faceStats, onProgress: options.onProgress })).items;
  const unpersonalised = history ? history.filter((h) => h < 0).length : 0;
  return { split, task, corpus: { items, appropriate }, clips: ds.items.map((it) => it.speaker), neighbours, history, unpersonalised };
}
