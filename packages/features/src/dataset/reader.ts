import { parseNpy } from "@perfrdiff/npy";
import { extractReactAudioFeatures } from "../audio/react-audio";
import { decodeWav, toMono } from "../audio/wav";
import { normalise3dmm, type FaceNormalisation, type FaceStats, type FrameTrack } from "@perfrdiff/layout";
import { parse3dmmNpy, parseEmotionCsv } from "../face/io";
import { modalityPath, parseSplitCsv, personId, type ReactModality, type ReactPairRow } from "./layout";

/** One (mirrored) item: a speaker clip and the listener clip recorded with it. */
export interface ReactItem {
  index: number;
  speaker: string;
  listener: string;
  /** `site/session/person` of the listener */
  listenerId: string;
}

/** A missing or malformed file (or matrix), with its path. */
export interface DatasetProblem {
  path: string;
  problem: string;
}

export interface OpenOptions {
  /** `"standard"`: `<split>.csv` + `neighbour_emotion_<split>.npy` (default); `"person_specific"`: PerFRDiff's evaluation lists. */
  list?: "standard" | "person_specific";
}

export interface SampleOptions {
  /** Speaker audio features `[length, 78]` (default true). */
  audio?: boolean;
  /** Speaker and listener emotion `[length, 25]` (default true). */
  emotion?: boolean;
  /** Speaker and listener FaceVerse coefficients `[length, 58]` (default true). */
  threeDmm?: boolean;
  /** Also load the listener tracks of every appropriate reaction (default false). */
  appropriate?: boolean;
  /** First frame (default 0). */
  start?: number;
  /** Frames to return (default: clipFrames - start). */
  length?: number;
  /** Frames of a full clip (default 751, as the official loaders); audio is cut or padded to it. */
  clipFrames?: number;
  fps?: number;
  /** Normalise the 3DMM tracks with these statistics (the official loaders subtract mean_face). */
  faceStats?: FaceStats;
  normalisation?: FaceNormalisation;
}

/** The loaded tracks of one item, each `[length, dim]`. */
export interface ReactSample {
  item: ReactItem;
  start: number;
  length: number;
  speakerAudio?: FrameTrack;
  speakerEmotion?: FrameTrack;
  speaker3dmm?: FrameTrack;
  listenerEmotion?: FrameTrack;
  listener3dmm?: FrameTrack;
  /** Items whose listener reaction is appropriate for this speaker clip, in the official order. */
  appropriate: number[];
  /** With `appropriate: true`: the listener tracks of those items, in the same order. */
  appropriateEmotion?: FrameTrack[];
  appropriate3dmm?: FrameTrack[];
}

export interface ValidateOptions {
  modalities?: ReactModality[];
  /** Minimum frames every emotion / 3DMM file must have (default 751). */
  frames?: number;
  /** Parse every file (default true); false only checks that files exist. */
  deep?: boolean;
  /** Require the neighbour matrix (default true). */
  neighbours?: boolean;
  /** Called after each clip is checked. */
  onProgress?: (done: number, total: number) => void;
}

async function fs() {
  const [fsp, path] = await Promise.all([import("node:fs/promises"), import("node:path")]);
  return { fsp, path };
}

function sliceTrack(t: FrameTrack, start: number, length: number, where: string): FrameTrack {
  if (t.frames < start + length) {
    throw new Error(`${where}: ${t.frames} frames; need frames ${start}..${start + length - 1}`);
  }
  return { frames: length, dim: t.dim, data: t.data.slice(start * t.dim, (start + length) * t.dim) };
}

/**
 * Reads a REACT 2024 dataset split in the official layout (see layout.ts). Opening reads only the pair list and the
 * neighbour matrix; tracks are read per item, on demand ({@link ReactDataset.sample}, {@link ReactDataset.samples}).
 */
export class ReactDataset {
  readonly root: string;
  readonly split: string;
  readonly rows: ReactPairRow[];
  /** 2N mirrored items. */
  readonly items: ReactItem[];
  /** `[2N, 2N]` 0/1, or null when the split has no neighbour matrix. */
  readonly neighbours: Uint8Array | null;
  readonly neighbourPath: string;
  private readonly byListener = new Map<string, number[]>();

  private constructor(root: string, split: string, rows: ReactPairRow[], neighbours: Uint8Array | null, neighbourPath: string) {
    this.root = root;
    this.split = split;
    this.rows = rows;
    const n = rows.length;
    this.items = [];
    for (let i = 0; i < 2 * n; i++) {
      const r = rows[i % n];
      const [speaker, listener] = i < n ? [r.speaker, r.listener] : [r.listener, r.speaker];
      this.items.push({ index: i, speaker, listener, listenerId: personId(listener) });
    }
    for (const it of this.items) {
      const list = this.byListener.get(it.listenerId) ?? [];
      list.push(it.index);
      this.byListener.set(it.listenerId, list);
    }
    this.neighbours = neighbours;
    this.neighbourPath = neighbourPath;
  }

  /**
   * Opens `<root>/<split>.csv` (or `person_specific_<split>.csv`) and its neighbour matrix if present.
   * @throws naming the path when the list is missing or malformed, or the matrix is malformed
   */
  static async open(root: string, split: string, options: OpenOptions = {}): Promise<ReactDataset> {
    const { fsp, path } = await fs();
    const ps = options.list === "person_specific";
    const listPath = path.join(root, ps ? `person_specific_${split}.csv` : `${split}.csv`);
    const nbPath = path.join(root, ps ? `person_specific_masked_neighbour_emotion_${split}.npy` : `neighbour_emotion_${split}.npy`);
    let text: string;
    try {
      text = await fsp.readFile(listPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`missing split list: ${listPath}`);
      throw err;
    }
    const rows = parseSplitCsv(text, listPath);
    let nb: Uint8Array | null = null;
    let bytes: Uint8Array | null = null;
    try {
      bytes = await fsp.readFile(nbPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (bytes) nb = parseNeighbours(bytes, 2 * rows.length, nbPath);
    return new ReactDataset(root, split, rows, nb, nbPath);
  }

  get length(): number {
    return this.items.length;
  }

  /** Absolute path of an item's file. */
  async filePath(clip: string, modality: ReactModality): Promise<string> {
    const { path } = await fs();
    return path.join(this.root, ...modalityPath(this.split, modality, clip).split("/"));
  }

  /** Distinct listener identities, in order of first appearance. */
  listenerIds(): string[] {
    return [...this.byListener.keys()];
  }

  /** Items whose listener is `listenerId`. */
  itemsOfListener(listenerId: string): number[] {
    return [...(this.byListener.get(listenerId) ?? [])];
  }

  /**
   * The listener's history for personalisation: the other items with the same listener (PerFRDiff picks one of
   * these at random per appropriate reaction during training; at test time it uses the listener's clip `1`).
   */
  history(index: number): number[] {
    const it = this.item(index);
    return this.itemsOfListener(it.listenerId).filter((j) => j !== index);
  }

  item(index: number): ReactItem {
    const it = this.items[index];
    if (!it) throw new Error(`item ${index} out of range 0..${this.items.length - 1}`);
    return it;
  }

  /**
   * Items whose listener reaction is appropriate for item `index`'s speaker, in the official order: the nonzero
   * columns of the neighbour row; when there are several, `index` itself first, then the others.
   */
  appropriate(index: number): number[] {
    this.item(index);
    if (!this.neighbours) throw new Error(`no neighbour matrix: ${this.neighbourPath}`);
    const n = this.items.length;
    const cols: number[] = [];
    for (let j = 0; j < n; j++) if (this.neighbours[index * n + j]) cols.push(j);
    if (cols.length <= 1) return cols;
    return [index, ...cols.filter((j) => j !== index)];
  }

  private async readTrack(clip: string, modality: "emotion" | "3dmm"): Promise<FrameTrack> {
    const { fsp } = await fs();
    const p = await this.filePath(clip, modality);
    let bytes: Uint8Array;
    try {
      bytes = await fsp.readFile(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`missing ${modality} file: ${p}`);
      throw err;
    }
    return modality === "emotion" ? parseEmotionCsv(new TextDecoder().decode(bytes), p) : parse3dmmNpy(bytes, p);
  }

  /** Loads one item's tracks (one clip at a time: nothing else stays in memory). */
  async sample(index: number, options: SampleOptions = {}): Promise<ReactSample> {
    const it = this.item(index);
    const clipFrames = options.clipFrames ?? 751;
    const start = options.start ?? 0;
    const length = options.length ?? clipFrames - start;
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 1 || start + length > clipFrames) {
      throw new Error(`bad window start ${start}, length ${length} for clips of ${clipFrames} frames`);
    }
    const out: ReactSample = { item: it, start, length, appropriate: this.neighbours ? this.appropriate(index) : [] };
    const face = async (clip: string): Promise<FrameTrack> => {
      const p = await this.filePath(clip, "3dmm");
      let t = sliceTrack(await this.readTrack(clip, "3dmm"), start, length, p);
      if (options.faceStats) t = normalise3dmm(t, options.faceStats, options.normalisation ?? "official");
      return t;
    };
    const emo = async (clip: string): Promise<FrameTrack> =>
      sliceTrack(await this.readTrack(clip, "emotion"), start, length, await this.filePath(clip, "emotion"));
    if (options.audio ?? true) {
      const { fsp } = await fs();
      const p = await this.filePath(it.speaker, "audio");
      let bytes: Uint8Array;
      try {
        bytes = await fsp.readFile(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`missing audio file: ${p}`);
        throw err;
      }
      const wav = decodeWav(bytes, p);
      const f = extractReactAudioFeatures(toMono(wav), wav.sampleRate, options.fps ?? 25, clipFrames);
      out.speakerAudio = { frames: length, dim: f.dim, data: f.data.slice(start * f.dim, (start + length) * f.dim) };
    }
    if (options.emotion ?? true) {
      out.speakerEmotion = await emo(it.speaker);
      out.listenerEmotion = await emo(it.listener);
    }
    if (options.threeDmm ?? true) {
      out.speaker3dmm = await face(it.speaker);
      out.listener3dmm = await face(it.listener);
    }
    if (options.appropriate) {
      const lst = out.appropriate.map((j) => this.items[j].listener);
      if (options.emotion ?? true) out.appropriateEmotion = await Promise.all(lst.map(emo));
      if (options.threeDmm ?? true) out.appropriate3dmm = await Promise.all(lst.map(face));
    }
    return out;
  }

  /** Streams samples one item at a time (all items, or `indices`), prefetching the next while one is consumed. */
  async *samples(options: SampleOptions & { indices?: number[] } = {}): AsyncGenerator<ReactSample> {
    const indices = options.indices ?? this.items.map((it) => it.index);
    let next: Promise<ReactSample> | undefined = indices.length > 0 ? this.sample(indices[0], options) : undefined;
    for (let k = 0; k < indices.length; k++) {
      const current = await next!;
      next = k + 1 < indices.length ? this.sample(indices[k + 1], options) : undefined;
      // Avoid an unhandled rejection if the consumer stops early.
      next?.catch(() => undefined);
      yield current;
    }
  }

  /**
   * Checks every file the split refers to and returns every problem found (empty when the split is sound): missing
   * files, unreadable or malformed WAV/CSV/npy, clips shorter than `frames`, emotion and 3DMM tracks of different
   * lengths, and a missing, misshapen or non-0/1 neighbour matrix.
   */
  async validate(options: ValidateOptions = {}): Promise<DatasetProblem[]> {
    const { fsp } = await fs();
    const modalities = options.modalities ?? ["audio", "emotion", "3dmm"];
    const minFrames = options.frames ?? 751;
    const deep = options.deep ?? true;
    const problems: DatasetProblem[] = [];
    if ((options.neighbours ?? true) && !this.neighbours) {
      problems.push({ path: this.neighbourPath, problem: "missing neighbour matrix" });
    }
    const clips = [...new Set(this.rows.flatMap((r) => [r.speaker, r.listener]))];
    let done = 0;
    const checkClip = async (clip: string): Promise<void> => {
      const lengths: Partial<Record<ReactModality, number>> = {};
      for (const m of modalities) {
        const p = await this.filePath(clip, m);
        let stat;
        try {
          stat = await fsp.stat(p);
        } catch {
          if (m === "video") {
            // The 2024 baseline stores frames as a folder <clip>/1.png ...
            const dir = p.replace(/\.mp4$/, "");
            try {
              if ((await fsp.stat(dir)).isDirectory()) continue;
            } catch {
              /* reported below */
            }
            problems.push({ path: p, problem: `missing video (neither ${p} nor a frame folder ${dir})` });
          } else {
            problems.push({ path: p, problem: `missing ${m} file` });
          }
          continue;
        }
        if (!stat.isFile()) {
          problems.push({ path: p, problem: "not a regular file" });
          continue;
        }
        if (!deep || m === "video") continue;
        try {
          const bytes = await fsp.readFile(p);
          if (m === "audio") {
            const w = decodeWav(bytes, p);
            if (w.channels[0].length === 0) problems.push({ path: p, problem: "WAV has no samples" });
          } else {
            const t = m === "emotion" ? parseEmotionCsv(new TextDecoder().decode(bytes), p) : parse3dmmNpy(bytes, p);
            lengths[m] = t.frames;
            if (t.frames < minFrames) problems.push({ path: p, problem: `${t.frames} frames; expected at least ${minFrames}` });
          }
        } catch (err) {
          problems.push({ path: p, problem: withoutPath((err as Error).message, p) });
        }
      }
      if (lengths.emotion !== undefined && lengths["3dmm"] !== undefined && lengths.emotion !== lengths["3dmm"]) {
        problems.push({
          path: await this.filePath(clip, "3dmm"),
          problem: `${lengths["3dmm"]} frames but its emotion file ${await this.filePath(clip, "emotion")} has ${lengths.emotion}`,
        });
      }
      done++;
      options.onProgress?.(done, clips.length);
    };
    // A few files in flight at a time: enough to hide latency without holding many clips in memory.
    let next = 0;
    const worker = async () => {
      while (next < clips.length) await checkClip(clips[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(8, clips.length) }, worker));
    // Files are checked concurrently; sort so that reports are stable.
    return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

/** A parser's message without the leading path (the problem list carries it): "p:3: x" -> "line 3: x". */
function withoutPath(message: string, path: string): string {
  if (!message.startsWith(`${path}:`)) return message;
  const rest = message.slice(path.length + 1).trim();
  return /^\d/.test(rest) ? `line ${rest}` : rest;
}

/** Parses a neighbour matrix `.npy` (bool, integer or float 0/1) of shape `[n, n]` into a 0/1 byte array. */
export function parseNeighbours(bytes: Uint8Array, n: number, where: string): Uint8Array {
  const a = parseNpy(bytes);
  if (a.shape.length !== 2 || a.shape[0] !== n || a.shape[1] !== n) {
    throw new Error(`${where}: shape [${a.shape.join(", ")}]; expected [${n}, ${n}] (2 x the ${n / 2} pairs of the split list)`);
  }
  const out = new Uint8Array(n * n);
  for (let i = 0; i < n * n; i++) {
    const v = Number(a.data[i]);
    if (v !== 0 && v !== 1) {
      throw new Error(`${where}: entry [${Math.floor(i / n)}, ${i % n}] is ${v}; expected 0 or 1`);
    }
    out[i] = v;
  }
  return out;
}

