import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../backend";
import { dropout } from "./dropout";

beforeAll(async () => {
  await useBackend("cpu");
});

describe("dropout (composed path)", () => {
  it("keeps 1 - rate of the elements, scaled by 1 / (1 - rate); the seed fixes the mask; the gradient uses it", () => {
    tf.tidy(() => {
      const x = tf.add(tf.abs(tf.randomNormal([4, 2500], 0, 1, "float32", 1)), 0.1);
      const y = dropout(x, 0.25, 77).dataSync();
      const xs = x.dataSync();
      let kept = 0;
      for (let i = 0; i < y.length; i++) {
        if (y[i] !== 0) {
          kept++;
          expect(y[i]).toBeCloseTo(xs[i]! / 0.75, 5);
        }
      }
      expect(Math.abs(kept / y.length - 0.75)).toBeLessThan(0.02);
      expect(Array.from(dropout(x, 0.25, 77).dataSync())).toEqual(Array.from(y));
      expect(Array.from(dropout(x, 0.25, 78).dataSync())).not.toEqual(Array.from(y));
      const g = tf.grad((v: tf.Tensor) => tf.sum(dropout(v, 0.25, 77)))(x).dataSync();
      for (let i = 0; i < y.length; i++) expect(g[i]).toBeCloseTo(y[i] === 0 ? 0 : 1 / 0.75, 5);
      expect(dropout(x, 0, 1)).toBe(x);
      expect(() => dropout(x, 1, 1)).toThrow(/rate must be in \[0, 1\), got 1/);
    });
  });

  it("swapLastTwo hashes by the transposed index: dropout(x^T, swap) is dropout(x) transposed", () => {
    tf.tidy(() => {
      const x = tf.add(tf.abs(tf.randomNormal([3, 17, 29], 0, 1, "float32", 2)), 0.1);
      const xt = tf.transpose(x, [0, 2, 1]);
      const want = tf.transpose(dropout(x, 0.4, 5), [0, 2, 1]).dataSync();
      expect(Array.from(dropout(xt, 0.4, 5, { swapLastTwo: true }).dataSync())).toEqual(Array.from(want));
      expect(Array.from(dropout(xt, 0.4, 5).dataSync())).not.toEqual(Array.from(want));
      expect(() => dropout(tf.zeros([4]), 0.4, 5, { swapLastTwo: true })).toThrow(/rank >= 2/);
    });
  });
});
