/**
 * What training reads: the items of a split in memory (a speaker clip, the listener clip recorded with it, the
 * listener's identity) and which listener reactions are appropriate for each speaker clip. `loadCorpus` of
 * @perfrdiff/features builds one from a REACT-layout folder (real or synthetic); any object of this shape works.
 * Tracks are row-major `[frames, dim]`, all of one clip length; 3DMM tracks already normalised.
 */
import type { CorpusItem, FrameTrack } from "@perfrdiff/layout";

export type { CorpusItem };

export interface TrainingCorpus {
  items: CorpusItem[];
  /** Per item, the items whose listener reaction is appropriate for its speaker clip (the neighbour matrix's row, the item itself first). */
  appropriate: number[][];
}

/** Checks a corpus before long work: track sizes, clip lengths, and appropriateness rows; throws naming the item. */
export function checkCorpus(corpus: TrainingCorpus, dims: { audio: number; emotion: number; threeDmm: number }, minFrames: number, what = "corpus"): number {
  const { items, appropriate } = corpus;
  if (!items.length) throw new Error(`${what} has no items`);
  if (appropriate.length !== items.length) throw new Error(`${what}: ${appropriate.length} appropriateness rows for ${items.length} items`);
  const frames = items[0]!.speakerEmotion.frames;
  if (frames < minFrames) throw new Error(`${what}: clips of ${frames} frames; training needs at least ${minFrames}`);
  items.forEach((it, i) => {
    const tracks: [string, FrameTrack, number][] = [
      ["speaker audio", it.speakerAudio, dims.audio],
      ["speaker emotion", it.speakerEmotion, dims.emotion],
      ["speaker 3DMM", it.speaker3dmm, dims.threeDmm],
      ["listener emotion", it.listenerEmotion, dims.emotion],
      ["listener 3DMM", it.listener3dmm, dims.threeDmm],
    ];
    for (const [name, t, dim] of tracks) {
      if (t.dim !== dim || t.frames !== frames || t.data.length !== frames * dim) {
        throw new Error(`${what} item ${i}: ${name} is [${t.frames}, ${t.dim}] (${t.data.length} values); expected [${frames}, ${dim}]`);
      }
    }
    const row = appropriate[i]!;
    if (!row.length) throw new Error(`${what} item ${i} has no appropriate reaction (not even its own listener's)`);
    for (const j of row) if (!Number.isInteger(j) || j < 0 || j >= items.length) throw new Error(`${what} item ${i}: appropriate item ${j} out of range`);
  });
  return frames;
}

/** Rows [start, start + length) of a track, as a new array. */
export function framesOf(t: FrameTrack, start: number, length: number): Float32Array {
  return t.data.slice(start * t.dim, (start + length) * t.dim);
}

/** Items with the same listener as item `index`, other than it (the listener's history clips). */
export function historyItems(corpus: TrainingCorpus, index: number): number[] {
  const id = corpus.items[index]!.listenerId;
  const out: number[] = [];
  corpus.items.forEach((it, j) => {
    if (j !== index && it.listenerId === id) out.push(j);
  });
  return out;
}
