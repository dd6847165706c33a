import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { fixture, maxAbsDiff, t32, useBackend } from "../test/helpers";
import {
  SeededRandom, alphaBarAt, convertPrediction, cosineSchedule, diffusionLoss, epsFromV, epsFromX0, qSample,
  sampleTimesteps, trainingTarget, vFromX0, vFromX0Eps, x0FromEps, x0FromV,
} from "./index";

const fx = fixture("steps.json").forward;
const sched = cosineSchedule(1000);

describe("forward process and training targets (reference: test/make_fixtures.py)", () => {
  beforeAll(() => useBackend("wasm"));
  it("qSample and the v target with per-example timesteps", () => {
    const x0 = t32(fx.x0, fx.shape);
    const eps = t32(fx.noise, fx.shape);
    const xt = qSample(sched, x0, fx.t, eps);
    expect(maxAbsDiff(xt.dataSync(), fx.xt)).toBeLessThan(1e-6);
    const v = trainingTarget("v", sched, x0, eps, tf.tensor1d(fx.t, "int32"));
    expect(maxAbsDiff(v.dataSync(), fx.v)).toBeLessThan(1e-6);
    expect(Array.from(trainingTarget("eps", sched, x0, eps, fx.t).dataSync())).toEqual(Array.from(eps.dataSync()));
    expect(Array.from(trainingTarget("x0", sched, x0, eps, fx.t).dataSync())).toEqual(Array.from(x0.dataSync()));
    tf.dispose([x0, eps, xt, v]);
  });
  it("conversions between x0, eps and v round-trip", () => {
    const rng = new SeededRandom(11);
    const x0 = rng.normal([5, 3]);
    const eps = rng.normal([5, 3]);
    for (const t of [0, 10, 500, 990]) {
      const ab = sched.alphasCumprod[t];
      const xt = tf.add(tf.mul(x0, Math.sqrt(ab)), tf.mul(eps, Math.sqrt(1 - ab)));
      // float32 rounding is amplified by 1/√ᾱ (x0 from ε at high t) or 1/√(1−ᾱ) (ε from x0 at low t)
      const tol = 3e-6 * Math.max(1 / Math.sqrt(ab), 1 / Math.sqrt(1 - ab));
      expect(maxAbsDiff(x0FromEps(xt, eps, ab).dataSync(), x0.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(epsFromX0(xt, x0, ab).dataSync(), eps.dataSync())).toBeLessThan(tol);
      const v = vFromX0Eps(x0, eps, ab);
      expect(maxAbsDiff(x0FromV(xt, v, ab).dataSync(), x0.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(epsFromV(xt, v, ab).dataSync(), eps.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(vFromX0(xt, x0, ab).dataSync(), v.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(convertPrediction("eps", "v", eps, xt, ab).dataSync(), v.dataSync())).toBeLessThan(tol);
      expect(maxAbsDiff(convertPrediction("v", "x0", v, xt, ab).dataSync(), x0.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(convertPrediction("x0", "eps", x0, xt, ab).dataSync(), eps.dataSync())).toBeLessThan(tol);
      tf.dispose([xt, v]);
    }
    // per-example alpha-bar
    const ab = alphaBarAt(sched, [0, 100, 200, 300, 900]);
    const xt = qSample(sched, x0, [0, 100, 200, 300, 900], eps);
    expect(maxAbsDiff(x0FromEps(xt, eps, ab).dataSync(), x0.dataSync())).toBeLessThan(1e-4);
    expect(() => x0FromEps(xt, eps, [0.5, 0.5])).toThrow(/per-example alpha-bar has 2 entries but x has batch 5/);
    expect(() => x0FromEps(xt, tf.zeros([5, 4]), 0.5)).toThrow(/x_t has shape \[5,3\] but eps has shape \[5,4\]/);
    expect(() => convertPrediction("x0", "score" as never, x0, xt, 0.5)).toThrow(/unknown prediction type 'score'/);
    expect(() => alphaBarAt(sched, [1000])).toThrow(/timestep 1000 is outside \[0, 1000\)/);
    tf.dispose([x0, eps, xt]);
  });
  it("diffusionLoss is the MSE to the target and has gradients", () => {
    const rng = new SeededRandom(2);
    const x0 = rng.normal([8, 2]);
    const noise = rng.normal([8, 2]);
    const t = sampleTimesteps(8, 1000, rng);
    expect(t.every((v) => v >= 0 && v < 1000)).toBe(true);
    const w = tf.variable(tf.scalar(0.5));
    // a "model" that outputs w·x_t: loss(w) is a quadratic; check value and gradient by hand
    const model = (xt: tf.Tensor) => tf.mul(xt, w);
    const xt = qSample(sched, x0, t, noise);
    const want = tf.mean(tf.square(tf.sub(tf.mul(xt, 0.5), noise))).dataSync()[0];
    const loss = diffusionLoss(model, { schedule: sched, prediction: "eps", x0, t, noise });
    expect(loss.dataSync()[0]).toBeCloseTo(want, 6);
    const { grads } = tf.variableGrads(() => diffusionLoss(model, { schedule: sched, prediction: "eps", x0, t, noise }), [w]);
    const g = tf.mean(tf.mul(tf.mul(tf.sub(tf.mul(xt, 0.5), noise), xt), 2)).dataSync()[0];
    expect(grads[w.name].dataSync()[0]).toBeCloseTo(g, 5);
    expect(() => diffusionLoss(() => tf.zeros([8, 3]), { schedule: sched, prediction: "x0", x0, t, noise })).toThrow(
      /denoiser returned shape \[8,3\] for x_t of shape \[8,2\]/);
    expect(() => qSample(sched, x0, [1, 2], noise)).toThrow(/got 2 timesteps for x of shape \[8,2\]/);
    tf.dispose([x0, noise, w, xt, loss, grads[w.name]]);
  });
});
