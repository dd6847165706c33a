import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { PWSG, layerWeightSource, withEditedLayers } from "./index";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("editing tfjs-layers models", () => {
  it("runs a Dense model with PWSG-shifted weights and restores it bit for bit", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], name: "head" })] });
    const src = layerWeightSource(model);
    expect(src.names()).toEqual(["head/kernel", "head/bias"]);
    const before = Array.from(src.get("head/kernel").dataSync());
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const y0 = Array.from((model.predict(x) as tf.Tensor).dataSync());

    const pwsg = PWSG.init({ inputDim: 5, latentDim: 8, numSharedLayers: 2, predict: "shift", targets: [{ name: "head/kernel", shape: [4, 3] }] }, 2);
    const deltas = pwsg.forward(tf.ones([5]));
    const d = deltas.get("head/kernel")!;
    const y1 = await withEditedLayers(model, deltas, "shift", () => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    // reference: x (W + d) + b computed by hand
    const expected = tf.add(tf.matMul(x, tf.add(tf.tensor2d(before, [4, 3]), d)), src.get("head/bias")).dataSync();
    y1.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    expect(y1).not.toEqual(y0);
    expect(Array.from(src.get("head/kernel").dataSync())).toEqual(before);
    expect(Array.from((model.predict(x) as tf.Tensor).dataSync())).toEqual(y0);

    await expect(withEditedLayers(model, deltas, "shift", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(Array.from(src.get("head/kernel").dataSync())).toEqual(before);
    await expect(withEditedLayers(model, new Map([["nope", d]]), "shift", () => 0)).rejects.toThrow(/no such weight.*head\/kernel/);
  });
});
