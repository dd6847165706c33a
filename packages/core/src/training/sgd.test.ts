/**
 * SGD against torch.optim.SGD: test/fixtures/sgd/torch_sgd.json was made by test/sgd_reference.py with PyTorch 2.11
 * on the device (momentum 0.9, weight decay 0.05, four steps, one without a gradient for the second parameter).
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../index";
import { SGD } from "./index";

interface Reference {
  torch: string;
  options: { lr: number; momentum: number; weight_decay: number };
  p1: number[][];
  p2: number[];
  grads: [number[][], number[] | null][];
  after_step: { p1: number[][]; p2: number[] }[];
}
const ref = JSON.parse(readFileSync(new URL("../../test/fixtures/sgd/torch_sgd.json", import.meta.url), "utf8")) as Reference;
const maxDiff = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((v, i) => Math.abs(a[i]! - v)));

beforeAll(async () => {
  await useBackend("cpu");
});

describe("SGD", () => {
  it(`matches torch.optim.SGD (${ref.torch}) step by step; a variable without a gradient keeps its value and momentum`, () => {
    const p1 = tf.variable(tf.tensor2d(ref.p1));
    const p2 = tf.variable(tf.tensor1d(ref.p2));
    const o = ref.options;
    const opt = new SGD([p1, p2], { lr: o.lr, momentum: o.momentum, weightDecay: o.weight_decay });
    ref.grads.forEach(([g1, g2], i) => {
      const grads: tf.NamedTensorMap = { [p1.name]: tf.tensor2d(g1) };
      if (g2) grads[p2.name] = tf.tensor1d(g2);
      opt.step(grads);
      tf.dispose(grads);
      expect(maxDiff(p1.dataSync(), ref.after_step[i]!.p1.flat())).toBeLessThan(1e-6);
      expect(maxDiff(p2.dataSync(), ref.after_step[i]!.p2)).toBeLessThan(1e-6);
    });
    // the state round-trips: a copy loaded from it takes the same next step
    const copy = tf.variable(p1);
    const other = new SGD([copy], { lr: o.lr, momentum: o.momentum, weightDecay: o.weight_decay });
    other.load(new Map([[copy.name, opt.state().get(p1.name)!]]));
    const g = tf.tensor2d(ref.grads[0]![0]);
    opt.step({ [p1.name]: g });
    other.step({ [copy.name]: g });
    expect(Array.from(copy.dataSync())).toEqual(Array.from(p1.dataSync()));
    tf.dispose([g, copy, p1, p2]);
    opt.dispose();
    other.dispose();
  });

  it("refuses negative or non-finite hyper-parameters and an empty variable list", () => {
    const v = tf.variable(tf.zeros([2]));
    expect(() => new SGD([v], { lr: -1 })).toThrow("SGD lr must be a number >= 0, got -1");
    expect(() => new SGD([v], { lr: 0.1, momentum: Number.NaN })).toThrow(/momentum must be a number >= 0/);
    expect(() => new SGD([], { lr: 0.1 })).toThrow("no variables to optimise");
    v.dispose();
  });
});
