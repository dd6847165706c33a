/**
 * A split in memory, shaped for training (`@perfrdiff/core/training`'s TrainingCorpus): every item's speaker audio
 * features, emotion and 3DMM, its listener's emotion and 3DMM and identity, and the appropriate reactions of each
 * speaker clip from the neighbour matrix. Each clip's files are read once (a clip is the speaker of one item and the
 * listener of its mirror).
 */
import { REACT_CLIP_FRAMES, REACT_FPS, normalise3dmm, type FaceNormalisation, type FaceStats, type CorpusItem, type FrameTrack } from "@perfrdiff/layout";
import { extractReactAudioFeatures } from "../audio/react-audio";
import { decodeWav, toMono } from "../audio/wav";
import { parse3dmmNpy, parseEmotionCsv } from "../face/io";
import type { ReactDataset } from "./reader";

export type { CorpusItem };

export interface LoadedCorpus {
  items: CorpusItem[];
  /** Per item, the items whose listener reaction is appropriate (the neighbour row, the item itself first). */
  appropriate: number[][];
  /** Whether `appropriate` came from the neighbour matrix (else each speaker clip's own listener only). */
  fromNeighbours: boolean;
}

export interface LoadCorpusOptions {
  /** Frames per clip (default 750, the official clip_length; the files' 751st frame is dropped). */
  frames?: number;
  /** 3DMM normalisation statistics (the official loaders subtract mean_face). */
  faceStats?: FaceStats;
  normalisation?: FaceNormalisation;
  onProgress?: (done: number, total: number) => void;
}

/** Loads every item of a split into memory (see the module comment). */
export async function loadCorpus(ds: ReactDataset, options: LoadCorpusOptions = {}): Promise<LoadedCorpus> {
  const frames = options.frames ?? REACT_CLIP_FRAMES;
  const { readFile } = await import("node:fs/promises");
  const read = async (clip: string, modality: "audio" | "emotion" | "3dmm") => {
    const p = await ds.filePath(clip, modality);
    try {
      return { bytes: new Uint8Array(await readFile(p)), p };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`missing ${modality} file: ${p}`);
      throw err;
    }
  };
  const head = (t: FrameTrack, where: string): FrameTrack => {
    if (t.frames < frames) throw new Error(`${where}: ${t.frames} frames; training reads ${frames}`);
    return { frames, dim: t.dim, data: t.data.slice(0, frames * t.dim) };
  };
  const clips = new Map<string, { audio: FrameTrack; emotion: FrameTrack; threeDmm: FrameTrack }>();
  const all = [...new Set(ds.items.flatMap((it) => [it.speaker, it.listener]))];
  let done = 0;
  for (const clip of all) {
    const a = await read(clip, "audio");
    const wav = decodeWav(a.bytes, a.p);
    const f = extractReactAudioFeatures(toMono(wav), wav.sampleRate, REACT_FPS, frames);
    const e = await read(clip, "emotion");
    const m = await read(clip, "3dmm");
    let threeDmm = head(parse3dmmNpy(m.bytes, m.p), m.p);
    if (options.faceStats) threeDmm = normalise3dmm(threeDmm, options.faceStats, options.normalisation ?? "official");
    clips.set(clip, {
      audio: { frames: f.frames, dim: f.dim, data: f.data },
      emotion: head(parseEmotionCsv(new TextDecoder().decode(e.bytes), e.p), e.p),
      threeDmm,
    });
    options.onProgress?.(++done, all.length);
  }
  const items = ds.items.map((it) => {
    const s = clips.get(it.speaker)!;
    const l = clips.get(it.listener)!;
    return { speakerAudio: s.audio, speakerEmotion: s.emotion, speaker3dmm: s.threeDmm, listenerEmotion: l.emotion, listener3dmm: l.threeDmm, listenerId: it.listenerId };
  });
  const fromNeighbours = ds.neighbours !== null;
  // a speaker clip always has its own listener's reaction (an empty neighbour row would leave it without any)
  const appropriate = ds.items.map((it) => {
    const row = fromNeighbours ? ds.appropriate(it.index) : [];
    return row.length ? row : [it.index];
  });
  return { items, appropriate, fromNeighbours };
}
