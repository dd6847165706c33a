/**
 * What personalisation is measured by: whether PSSL's embedding tells listeners apart on clips it has not seen
 * (nearest-neighbour identity retrieval), and whether personalised reactions carry a listener's style (statistics of
 * the reactions that a listener's habits move: how often and how they smile, their valence).
 */
import { tf } from "@perfrdiff/core";
import type { PersonSpecificEncoder } from "@perfrdiff/core/modules";
import { EMOTION_COLUMNS, EMOTION_DIM } from "@perfrdiff/layout";
import type { FrameTrack } from "@perfrdiff/layout";

/** A listener clip: its 3DMM track (normalised as the encoder was trained on) and the listener's identity. */
export interface ListenerClip {
  threeDmm: FrameTrack;
  listenerId: string;
}

export interface RetrievalResult {
  /** Fraction of queries whose nearest gallery clip (cosine of PSSL projections) is of the same listener. */
  accuracy: number;
  /** The accuracy of picking a gallery clip at random (mean over queries of their listener's share of the gallery). */
  chance: number;
  queries: number;
  /** Per listener: queries and correct retrievals. */
  perListener: Record<string, { queries: number; correct: number }>;
  /**
   * Mean over queries (whose listener has gallery clips, as do others) of (the best cosine to a gallery clip of the
   * same listener) minus (the best to another listener's): how far apart the encoder puts listeners (an untrained
   * encoder maps every clip close to every other).
   */
  margin: number;
}

/** PSSL projections [proj_dim] (unit norm) of clips (their first seq_len frames), in batches of 16. */
async function embed(encoder: PersonSpecificEncoder, clips: ListenerClip[]): Promise<Float32Array[]> {
  const len = encoder.config.seq_len;
  const out: Float32Array[] = [];
  for (let i = 0; i < clips.length; i += 16) {
    const part = clips.slice(i, i + 16);
    const rows = tf.tidy(() => {
      const x = tf.stack(
        part.map((c) => {
          if (c.threeDmm.frames < len) throw new Error(`listener clip of ${c.listenerId} has ${c.threeDmm.frames} frames; PSSL reads ${len}`);
          return tf.tensor2d(c.threeDmm.data.subarray(0, len * c.threeDmm.dim), [len, c.threeDmm.dim]);
        }),
      );
      return encoder.forward(x).proj; // unit norm: dot products are cosines
    });
    const data = (await rows.data()) as Float32Array;
    const d = rows.shape[1]!;
    rows.dispose();
    for (let j = 0; j < part.length; j++) out.push(data.slice(j * d, (j + 1) * d));
  }
  return out;
}

/**
 * Listener-identity retrieval with PSSL: each query clip's nearest gallery clip by the cosine of their projections.
 * Queries and gallery should be different clips (e.g. a validation split against the training split).
 */
export async function listenerRetrieval(encoder: PersonSpecificEncoder, gallery: ListenerClip[], queries: ListenerClip[]): Promise<RetrievalResult> {
  if (!gallery.length || !queries.length) throw new Error("listenerRetrieval needs gallery and query clips");
  const g = await embed(encoder, gallery);
  const q = await embed(encoder, queries);
  const share = new Map<string, number>();
  for (const c of gallery) share.set(c.listenerId, (share.get(c.listenerId) ?? 0) + 1 / gallery.length);
  const perListener: RetrievalResult["perListener"] = {};
  let correct = 0;
  let chance = 0;
  let margin = 0;
  let margins = 0;
  q.forEach((qv, i) => {
    const id = queries[i]!.listenerId;
    let best = -Infinity;
    let at = 0;
    let [same, other] = [-Infinity, -Infinity];
    g.forEach((gv, j) => {
      let dot = 0;
      for (let d = 0; d < qv.length; d++) dot += qv[d]! * gv[d]!;
      if (dot > best) [best, at] = [dot, j];
      if (gallery[j]!.listenerId === id) same = Math.max(same, dot);
      else other = Math.max(other, dot);
    });
    if (Number.isFinite(same) && Number.isFinite(other)) [margin, margins] = [margin + same - other, margins + 1];
    const hit = gallery[at]!.listenerId === id;
    const row = (perListener[id] ??= { queries: 0, correct: 0 });
    row.queries++;
    if (hit) {
      row.correct++;
      correct++;
    }
    chance += share.get(id) ?? 0;
  });
  return { accuracy: correct / queries.length, chance: chance / queries.length, queries: queries.length, perListener, margin: margins ? margin / margins : 0 };
}

/** Style statistics of reactions: means over frames (and reactions) of emotion values a listener's habits move. */
export interface ReactionStyle {
  /** AU12 (lip corner puller): how much of the time they smile */
  smile: number;
  /** AU6 (cheek raiser): Duchenne smiles */
  cheekRaise: number;
  /** AU14 (dimpler): one-sided smiles */
  dimpler: number;
  /** AU25 (lips part) */
  lipsPart: number;
  valence: number;
}

export const STYLE_COLUMNS: Record<keyof ReactionStyle, number> = {
  smile: EMOTION_COLUMNS.indexOf("AU12"),
  cheekRaise: EMOTION_COLUMNS.indexOf("AU6"),
  dimpler: EMOTION_COLUMNS.indexOf("AU14"),
  lipsPart: EMOTION_COLUMNS.indexOf("AU25"),
  valence: EMOTION_COLUMNS.indexOf("valence"),
};

/** The style statistics of emotion frames (any number of [T, 25] reactions back to back). */
export function reactionStyle(emotion: ArrayLike<number>): ReactionStyle {
  const frames = emotion.length / EMOTION_DIM;
  if (!Number.isInteger(frames) || frames < 1) throw new Error(`emotion frames must be a multiple of ${EMOTION_DIM} values, got ${emotion.length}`);
  const out = {} as ReactionStyle;
  for (const [name, col] of Object.entries(STYLE_COLUMNS) as [keyof ReactionStyle, number][]) {
    let s = 0;
    for (let f = 0; f < frames; f++) s += emotion[f * EMOTION_DIM + col]!;
    out[name] = s / frames;
  }
  return out;
}

/** Mean absolute difference of two styles over their statistics. */
export function styleDistance(a: ReactionStyle, b: ReactionStyle): number {
  const keys = Object.keys(STYLE_COLUMNS) as (keyof ReactionStyle)[];
  return keys.reduce((s, k) => s + Math.abs(a[k] - b[k]), 0) / keys.length;
}
