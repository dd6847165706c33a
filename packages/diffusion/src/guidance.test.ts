import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { fixture, maxAbsDiff, t32, useBackend } from "../test/helpers";
import {
  applyConditionDropout, classifierFreeGuidance, concatConditions, conditionDropoutMask, nullCondition,
} from "./index";

const fx = fixture("steps.json").guidance;

describe("classifier-free guidance", () => {
  beforeAll(() => useBackend("wasm"));
  it("one batched call with [null; cond], null = zeros, out = u + s(c − u) (official forward_with_cond_scale)", () => {
    const u = t32(fx.uncond, fx.shape);
    const c = t32(fx.cond, fx.shape);
    const calls: { batch: number; condFirstHalfZero: boolean; t: number[] }[] = [];
    // A model whose output is `uncond` where its condition is null and `cond` otherwise, to check batching order.
    const denoiser = (x: tf.Tensor, t: tf.Tensor1D, cond?: unknown) => {
      const k = (cond as { key: tf.Tensor }).key;
      const b = x.shape[0] / 2;
      const [k0] = tf.split(k, 2, 0);
      calls.push({ batch: x.shape[0], condFirstHalfZero: tf.max(tf.abs(k0)).dataSync()[0] === 0, t: Array.from(t.dataSync()) });
      expect(b).toBe(4);
      return tf.concat([u, c], 0);
    };
    const x = tf.zeros(fx.shape);
    const out = classifierFreeGuidance(denoiser, x, tf.tensor1d([3, 3, 3, 3], "int32"), {
      scale: fx.scale, cond: { key: tf.ones([4, 2]) },
    });
    expect(calls).toEqual([{ batch: 8, condFirstHalfZero: true, t: [3, 3, 3, 3, 3, 3, 3, 3] }]);
    expect(maxAbsDiff(out.dataSync(), fx.guided)).toBeLessThan(1e-5);
  });
  it("scale 1 is one plain call; missing conditions and mismatched uncond are clear errors", () => {
    let batch = 0;
    const d = (x: tf.Tensor) => {
      batch = x.shape[0];
      return tf.clone(x);
    };
    classifierFreeGuidance(d, tf.zeros([3, 2]), tf.tensor1d([1, 1, 1], "int32"), { scale: 1 });
    expect(batch).toBe(3);
    expect(() => classifierFreeGuidance(d, tf.zeros([3, 2]), tf.tensor1d([1, 1, 1], "int32"), { scale: 7.5 })).toThrow(
      "guidance scale 7.5 needs a condition: pass cond (and optionally uncond), or use scale 1");
    expect(() =>
      classifierFreeGuidance(d, tf.zeros([3, 2]), tf.tensor1d([1, 1, 1], "int32"), {
        scale: 2, cond: tf.ones([3, 4]), uncond: tf.zeros([3, 5]),
      }),
    ).toThrow("cond: uncond has shape [3,5] (float32) but cond has shape [3,4] (float32)");
    expect(() => nullCondition({ a: new Map() })).toThrow(/cond\.a: cannot batch a condition of type \[object Map\]/);
    expect(() => concatConditions({ a: tf.ones([1]) }, { b: tf.ones([1]) })).toThrow(/uncond has keys \{a\} but cond has keys \{b\}/);
  });
  it("a custom uncond and custom batching are used as given", () => {
    let seen: unknown;
    const d = (x: tf.Tensor, _t: tf.Tensor1D, c?: unknown) => {
      seen = c;
      return tf.concat([tf.zeros([1, 1]), tf.ones([1, 1])], 0);
    };
    const out = classifierFreeGuidance(d, tf.zeros([1, 1]), tf.tensor1d([0], "int32"), {
      scale: 3, cond: "speaker A", uncond: "nobody", batchConditions: (u, c) => [u, c],
    });
    expect(seen).toEqual(["nobody", "speaker A"]);
    expect(out.dataSync()[0]).toBe(3);
  });
  it("condition-dropout masks: seeded, rate p, applied as zeros per example", () => {
    const m = conditionDropoutMask(20_000, 0.2, 1234);
    const kept = tf.mean(m).dataSync()[0];
    expect(Math.abs(kept - 0.8)).toBeLessThan(0.01);
    expect(Array.from(conditionDropoutMask(16, 0.2, 1234).dataSync())).toEqual(Array.from(m.dataSync().slice(0, 16)));
    expect(Array.from(conditionDropoutMask(16, 0.2, 1234, 1).dataSync())).not.toEqual(Array.from(m.dataSync().slice(0, 16)));
    expect(Array.from(conditionDropoutMask(5, 0, 1).dataSync())).toEqual([1, 1, 1, 1, 1]);
    expect(Array.from(conditionDropoutMask(5, 1, 1).dataSync())).toEqual([0, 0, 0, 0, 0]);
    const keep = tf.tensor1d([1, 0, 1], "float32");
    const c = applyConditionDropout({ audio: tf.ones([3, 2, 2]), emo: [tf.fill([3, 1], 5)] }, keep);
    expect(Array.from(c.audio.dataSync())).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Array.from(c.emo[0].dataSync())).toEqual([5, 0, 5]);
    expect(() => applyConditionDropout({ audio: tf.ones([4, 2]) }, keep)).toThrow(
      "cond.audio has shape [4,2] but the dropout mask has batch 3");
    expect(() => conditionDropoutMask(4, 1.5, 1)).toThrow(/drop probability must be in \[0, 1\], got 1.5/);
  });
});
