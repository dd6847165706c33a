import type { ReactEvalInputs } from "./inputs";

/** A small, fast, deterministic PRNG (mulberry32): uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fillReactions(out: Float32Array, count: number, t: number, r: () => number): void {
  const smooth = new Float64Array(25);
  const logits = new Float64Array(8);
  for (let s = 0; s < count; s++) {
    for (let d = 0; d < 25; d++) smooth[d] = r() * 2 - 1;
    for (let i = 0; i < t; i++) {
      const o = (s * t + i) * 25;
      for (let d = 0; d < 25; d++) smooth[d] = 0.95 * smooth[d] + 0.1 * (r() * 2 - 1);
      for (let d = 0; d < 15; d++) out[o + d] = smooth[d] > 0.25 ? 1 : 0;
      out[o + 15] = Math.tanh(2 * smooth[15]);
      out[o + 16] = Math.tanh(2 * smooth[16]);
      let z = 0;
      for (let e = 0; e < 8; e++) {
        logits[e] = Math.exp(4 * smooth[17 + e]);
        z += logits[e];
      }
      for (let e = 0; e < 8; e++) out[o + 17 + e] = logits[e] / z;
    }
  }
}

/**
 * Deterministic, emotion-like REACT evaluation inputs for demos and benchmarks (not real data): binary AUs (smoothed
 * noise over a threshold), valence and arousal as bounded random walks, expression probabilities as a softmax of
 * smooth logits. Predictions are unrelated to the real reactions, the worst case for FRdist's early abandoning.
 * @returns predictions `[n, k, t, 25]`, speaker `[n, t, 25]`, listener `[n, t, 25]`, neighbours `[n, n]` with `nb`
 *   ones per row (always including the diagonal)
 */
export function syntheticReactInputs(options: { n: number; k: number; t: number; nb: number; seed?: number }): ReactEvalInputs & {
  predictions: { data: Float32Array; shape: number[] };
  speaker: { data: Float32Array; shape: number[] };
  listener: { data: Float32Array; shape: number[] };
  neighbours: { data: Float32Array; shape: number[] };
} {
  const { n, k, t, nb } = options;
  const r = mulberry32(options.seed ?? 1);
  const predictions = new Float32Array(n * k * t * 25);
  const speaker = new Float32Array(n * t * 25);
  const listener = new Float32Array(n * t * 25);
  fillReactions(predictions, n * k, t, r);
  fillReactions(speaker, n, t, r);
  fillReactions(listener, n, t, r);
  const neighbours = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const picked = new Set([i]);
    while (picked.size < Math.min(nb, n)) picked.add(Math.floor(r() * n));
    for (const j of picked) neighbours[i * n + j] = 1;
  }
  return {
    predictions: { data: predictions, shape: [n, k, t, 25] },
    speaker: { data: speaker, shape: [n, t, 25] },
    listener: { data: listener, shape: [n, t, 25] },
    neighbours: { data: neighbours, shape: [n, n] },
  };
}
