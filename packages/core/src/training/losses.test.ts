/** The training losses against reference values: SupCon from NumPy (test/supcon_reference.py), the others by hand. */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../index";
import { gaussianKl, l2Norm, mse, supConLoss, temporalLoss } from "./losses";

interface SupConCase {
  features: number[][];
  labels: number[];
  temperature: number;
  base_temperature: number;
  loss: number;
}
const supcon = JSON.parse(readFileSync(new URL("../../test/fixtures/supcon/supcon.json", import.meta.url), "utf8")) as { cases: SupConCase[] };

beforeAll(async () => {
  await useBackend("cpu");
});

describe("training losses", () => {
  it.each(supcon.cases.map((c, i) => [i, c] as const))("SupCon case %i equals the official formula (NumPy, float64)", (_i, c) => {
    const loss = supConLoss(tf.tensor2d(c.features), c.labels, c.temperature, c.base_temperature);
    expect(Math.abs(loss.dataSync()[0]! - c.loss) / Math.abs(c.loss)).toBeLessThan(1e-5);
    loss.dispose();
  });

  it("SupCon refuses labels that do not match the features", () => {
    expect(() => supConLoss(tf.zeros([3, 2]) as tf.Tensor2D, [0, 1])).toThrow("supConLoss: 2 labels for 3 features");
  });

  it("l2Norm is the norm, with torch's zero gradient at 0 (tfjs's own gives NaN)", () => {
    expect(l2Norm(tf.tensor1d([3, -4])).dataSync()[0]).toBeCloseTo(5, 6);
    const at = (x: tf.Tensor) => Array.from(tf.grad((t: tf.Tensor) => l2Norm(t))(x).dataSync());
    expect(at(tf.tensor1d([3, -4]))).toEqual([0.6, -0.8].map(Math.fround));
    expect(at(tf.zeros([2, 2]))).toEqual([0, 0, 0, 0]);
    expect(tf.grad((t: tf.Tensor) => tf.norm(t))(tf.zeros([2])).dataSync().every(Number.isNaN)).toBe(true);
  });

  it("MSE, the temporal loss and the Gaussian KL give their defined values", () => {
    expect(mse(tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 0, 0])).dataSync()[0]).toBeCloseTo(13 / 3, 6);
    // one window, frames [0, 0], [1, 2], [1, 0]: squared steps 5 and 4, mean 4.5
    expect(temporalLoss(tf.tensor3d([0, 0, 1, 2, 1, 0], [1, 3, 2])).dataSync()[0]).toBeCloseTo(4.5, 6);
    // KL(N(mu, e^lv) || N(0, 1)) = -0.5 (1 + lv - mu^2 - e^lv), summed over dims, averaged over the batch of 2
    const mu = tf.tensor2d([[1, 0], [0, 0]]);
    const lv = tf.tensor2d([[0, Math.log(2)], [0, 0]]);
    const want = (-0.5 * (1 + 0 - 1 - 1) + -0.5 * (1 + Math.log(2) - 0 - 2)) / 2;
    expect(gaussianKl(mu, lv).dataSync()[0]).toBeCloseTo(want, 6);
    expect(gaussianKl(tf.zeros([3, 4]) as tf.Tensor2D, tf.zeros([3, 4]) as tf.Tensor2D).dataSync()[0]).toBeCloseTo(0, 12);
  });
});
