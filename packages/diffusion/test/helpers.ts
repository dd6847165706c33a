import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Fixtures written by test/make_fixtures.py (NumPy re-statement of the official PerFRDiff formulas). */
export function fixture<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, "fixtures", name), "utf8")) as T;
}

export async function useBackend(name: "wasm" | "cpu"): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`could not set tfjs backend ${name}`);
  await tf.ready();
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-300));
  return m;
}

export const t32 = (data: number[], shape: number[]) => tf.tensor(data, shape, "float32");
