// Helpers shared by this package's tests (not exported from the package).
import { join } from "node:path";
import { readNpy } from "@perfrdiff/npy";
import type { ReactEvalInputs } from "./inputs";
import { mulberry32 } from "./synthetic";

export const fixtureDir = join(__dirname, "..", "test", "fixtures", "small");

export async function loadSmallFixture(): Promise<ReactEvalInputs> {
  const [predictions, speaker, listener, neighbours] = await Promise.all(
    ["pred", "speaker", "listener", "neighbours"].map((f) => readNpy(join(fixtureDir, `${f}.npy`))),
  );
  return { predictions, speaker, listener, neighbours } as ReactEvalInputs;
}

/** A deterministic PRNG so tests do not depend on Math.random. */
export const rng = mulberry32;

/** Smooth random sequences `[count, T, 25]` with no constant dimension. */
export function smoothSequences(count: number, t: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(count * t * 25);
  for (let s = 0; s < count; s++) {
    for (let d = 0; d < 25; d++) {
      let v = r();
      for (let i = 0; i < t; i++) {
        v = 0.8 * v + 0.2 * r();
        out[(s * t + i) * 25 + d] = v;
      }
    }
  }
  return out;
}

export const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
