/** Seeded random tracks and corpus items for the unit tests (values in [0, 1), a fixed LCG per call of `randomItems`). */
import { AUDIO_DIM, EMOTION_DIM, FACE_DIM } from "@perfrdiff/layout";
import type { CorpusItem, FrameTrack } from "@perfrdiff/layout";

/** Items with random tracks of `frames` frames, one per listener id given, from seed `seed`. */
export function randomItems(listenerIds: string[], frames: number, seed: number): CorpusItem[] {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const track = (dim: number): FrameTrack => ({ frames, dim, data: Float32Array.from({ length: frames * dim }, rand) });
  return listenerIds.map((listenerId) => ({
    speakerAudio: track(AUDIO_DIM),
    speakerEmotion: track(EMOTION_DIM),
    speaker3dmm: track(FACE_DIM),
    listenerEmotion: track(EMOTION_DIM),
    listener3dmm: track(FACE_DIM),
    listenerId,
  }));
}
