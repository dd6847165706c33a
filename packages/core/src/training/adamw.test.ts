/**
 * AdamW against torch.optim.AdamW: test/fixtures/adamw/torch_adamw.json was made by test/adamw_reference.py with
 * PyTorch (four steps, two parameters, one step without a gradient for the second).
 */
import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { groupedAdamW } from "../ops/adamw";
import { AdamW, AdamWError } from "./index";
import { useBackend } from "../index";

interface Reference {
  options: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  p1: number[][];
  p2: number[];
  grads: [number[][], number[] | null][];
  after_step: { p1: number[][]; p2: number[] }[];
}
const ref = JSON.parse(readFileSync(new URL("../../test/fixtures/adamw/torch_adamw.json", import.meta.url), "utf8")) as Reference;

beforeAll(async () => {
  await useBackend("cpu");
});

const maxDiff = (a: ArrayLike<number>, b: number[]) => Math.max(...b.map((v, i) => Math.abs(a[i]! - v)));

describe("AdamW", () => {
  // cpu: the composed update; wasm: core's grouped kernels (JS loops over the heap), as on WebGPU
  it.each(["cpu", "wasm"] as const)("matches torch.optim.AdamW step by step on %s, a variable without a gradient keeping its value and step count", async (backend) => {
    await useBackend(backend);
    expect(groupedAdamW()).toBe(backend === "wasm");
    const init1 = tf.tensor2d(ref.p1);
    const p1 = tf.variable(init1);
    const p2 = tf.variable(tf.tensor1d(ref.p2));
    const o = ref.options;
    const opt = new AdamW([p1, p2], { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
    const before = tf.memory().numTensors;
    ref.grads.forEach(([g1, g2], i) => {
      const grads: tf.NamedTensorMap = { [p1.name]: tf.tensor2d(g1) };
      if (g2) grads[p2.name] = tf.tensor1d(g2);
      const p2Before = p2.dataSync().slice();
      opt.step(grads);
      tf.dispose(grads);
      const want = ref.after_step[i]!;
      expect(maxDiff(p1.dataSync(), want.p1.flat())).toBeLessThan(1e-6);
      expect(maxDiff(p2.dataSync(), want.p2)).toBeLessThan(1e-6);
      if (!g2) expect(Array.from(p2.dataSync())).toEqual(Array.from(p2Before));
    });
    expect(opt.stepCount).toBe(4);
    // m and v of both variables (in one tensor when grouped), made on the first step; nothing else stays
    expect(tf.memory().numTensors).toBe(before + (backend === "wasm" ? 1 : 4));
    // the state round-trips: a second optimiser loaded from it takes the same next step
    const copy = tf.variable(p1);
    const other = new AdamW([copy], { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
    const state = opt.state();
    other.load({ steps: state.steps, counts: { [copy.name]: state.counts[p1.name]! }, moments: new Map([[copy.name, state.moments.get(p1.name)!]]) });
    for (const pair of state.moments.values()) tf.dispose(pair);
    const g = tf.tensor2d(ref.grads[0]![0]);
    opt.step({ [p1.name]: g });
    other.step({ [copy.name]: g });
    expect(Array.from(copy.dataSync())).toEqual(Array.from(p1.dataSync()));
    tf.dispose([g, copy]);
    other.dispose();
    // the variable's initial tensor is not written in place
    expect(Array.from(init1.dataSync())).toEqual(ref.p1.flat().map(Math.fround));
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => opt.step({})).toThrow(/disposed/);
    tf.dispose([init1, p1, p2]);
    await useBackend("cpu");
  });

  it("minimize steps downhill and returns the loss", () => {
    const x = tf.variable(tf.tensor1d([3, -2]));
    const opt = new AdamW([x], { lr: 0.1, weightDecay: 0 });
    const loss = () => tf.sum(tf.square(x)) as tf.Scalar;
    const first = opt.minimize(loss);
    expect(first.dataSync()[0]).toBeCloseTo(13, 5);
    // the first Adam step moves every coordinate by lr against the gradient's sign
    expect(Array.from(x.dataSync()).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([2.9, -1.9]);
    tf.dispose([first, x]);
    opt.dispose();
  });

  it("refuses bad hyper-parameters, variables and gradients by name", () => {
    const v = tf.variable(tf.zeros([2, 3]));
    expect(() => new AdamW([v], { lr: Number.NaN })).toThrow(AdamWError);
    expect(() => new AdamW([v], { betas: [0.9, 1] })).toThrow(/betas\[1\] must be in \[0, 1\)/);
    expect(() => new AdamW([])).toThrow(/no variables/);
    expect(() => new AdamW([v, v])).toThrow(/given twice/);
    expect(() => new AdamW([tf.zeros([2]) as unknown as tf.Variable])).toThrow(/tf.Variables/);
    const i = tf.variable(tf.zeros([2], "int32"));
    expect(() => new AdamW([i])).toThrow(/int32; AdamW needs float32/);
    const opt = new AdamW([v]);
    const g = tf.zeros([3, 2]);
    expect(() => opt.step({ [v.name]: g })).toThrow(`gradient of ${v.name} is [3,2], the variable [2,3]`);
    expect(() => opt.step({ other: g })).toThrow(/not one of this optimiser's variables/);
    expect(opt.stepCount).toBe(0); // a refused step changes nothing
    tf.dispose([v, i, g]);
    opt.dispose();
  });
});
