import { EMOTION_DIM } from "@perfrdiff/layout";

/** A dense, C-ordered numeric array with its shape (what `@perfrdiff/npy` returns). */
export interface ArrayND {
  data: ArrayLike<number>;
  shape: readonly number[];
}

/** Inputs of a REACT evaluation. */
export interface ReactEvalInputs {
  /** Generated reactions, `[N, K, T, 25]`: K reactions for each of N speaker clips. */
  predictions: ArrayND;
  /** Speaker emotion, `[N, T, 25]` (used by FRSyn). */
  speaker: ArrayND;
  /** Real listener reactions, `[M, T, 25]`: the pool the neighbour matrix points into. */
  listener: ArrayND;
  /** Appropriateness, `[N, M]` of 0/1: `neighbours[n, m] = 1` when listener reaction m suits clip n. */
  neighbours: ArrayND;
}

/** Validated inputs, converted to float32 as the official code holds them. */
export interface PreparedInputs {
  n: number;
  k: number;
  t: number;
  m: number;
  /** `[N, K, T, 25]` */
  predictions: Float32Array;
  /** `[N, T, 25]` */
  speaker: Float32Array;
  /** `[M, T, 25]` */
  listener: Float32Array;
  /** For each clip, the indices of its appropriate real reactions (never empty). */
  neighbourLists: Int32Array[];
}

/** Raised for inputs the metrics cannot be computed on. The message names the array and the problem. */
export class ReactInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ReactInputError";
  }
}

const fmt = (shape: readonly number[]) => `[${shape.join(", ")}]`;

function checkRank(name: string, a: ArrayND, rank: number, meaning: string): void {
  if (a.shape.length !== rank) {
    throw new ReactInputError(`${name} must have shape ${meaning}, got ${fmt(a.shape)}`);
  }
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (count !== a.data.length) {
    throw new ReactInputError(`${name}: shape ${fmt(a.shape)} holds ${count} values but the data has ${a.data.length}`);
  }
}

function toFiniteFloat32(name: string, a: ArrayND, shared: boolean): Float32Array {
  const n = a.data.length;
  const out = shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
  const src = a.data;
  for (let i = 0; i < n; i++) {
    const v = Number(src[i]);
    if (!Number.isFinite(v)) {
      const idx: number[] = [];
      let rest = i;
      for (let d = a.shape.length - 1; d >= 0; d--) {
        idx.unshift(rest % a.shape[d]);
        rest = Math.floor(rest / a.shape[d]);
      }
      throw new ReactInputError(`${name} contains ${v} at index [${idx.join(", ")}]`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Checks shapes, values and the neighbour matrix, and converts to float32 (optionally in shared memory for workers).
 * @throws ReactInputError on mismatched shapes (naming both), NaN/Inf, a non-0/1 neighbour entry, or a clip with no
 *   appropriate reaction.
 */
export function prepareInputs(inputs: ReactEvalInputs, options: { shared?: boolean } = {}): PreparedInputs {
  const { predictions, speaker, listener, neighbours } = inputs;
  checkRank("predictions", predictions, 4, "[N, K, T, 25]");
  checkRank("speaker", speaker, 3, "[N, T, 25]");
  checkRank("listener", listener, 3, "[M, T, 25]");
  checkRank("neighbours", neighbours, 2, "[N, M]");
  const [n, k, t, d] = predictions.shape;
  if (d !== EMOTION_DIM) {
    throw new ReactInputError(`predictions must have ${EMOTION_DIM} values per frame, got shape ${fmt(predictions.shape)}`);
  }
  if (n < 1 || k < 1 || t < 2) {
    throw new ReactInputError(`predictions need N >= 1, K >= 1 and T >= 2, got shape ${fmt(predictions.shape)}`);
  }
  if (speaker.shape[0] !== n || speaker.shape[1] !== t || speaker.shape[2] !== d) {
    throw new ReactInputError(
      `speaker shape ${fmt(speaker.shape)} does not match predictions shape ${fmt(predictions.shape)} (expected [${n}, ${t}, ${d}])`,
    );
  }
  const m = listener.shape[0];
  if (listener.shape[1] !== t || listener.shape[2] !== d) {
    throw new ReactInputError(
      `listener shape ${fmt(listener.shape)} does not match predictions shape ${fmt(predictions.shape)} (expected [M, ${t}, ${d}])`,
    );
  }
  if (neighbours.shape[0] !== n || neighbours.shape[1] !== m) {
    throw new ReactInputError(
      `neighbours shape ${fmt(neighbours.shape)} does not match predictions ${fmt(predictions.shape)} and listener ${fmt(listener.shape)} (expected [${n}, ${m}])`,
    );
  }
  const neighbourLists: Int32Array[] = [];
  for (let i = 0; i < n; i++) {
    const list: number[] = [];
    for (let j = 0; j < m; j++) {
      const v = Number(neighbours.data[i * m + j]);
      if (v === 1) list.push(j);
      else if (v !== 0) throw new ReactInputError(`neighbours must be 0/1, found ${v} at [${i}, ${j}]`);
    }
    if (list.length === 0) {
      throw new ReactInputError(`clip ${i} has no appropriate real reaction (row ${i} of neighbours is all zero)`);
    }
    neighbourLists.push(Int32Array.from(list));
  }
  const shared = options.shared ?? false;
  return {
    n,
    k,
    t,
    m,
    predictions: toFiniteFloat32("predictions", predictions, shared),
    speaker: toFiniteFloat32("speaker", speaker, shared),
    listener: toFiniteFloat32("listener", listener, shared),
    neighbourLists,
  };
}
