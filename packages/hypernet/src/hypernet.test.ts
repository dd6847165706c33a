import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { EditedWeights, PWSG, TensorMap, editWeight, pwsgParameterCount } from "./index";
import type { PWSGConfig } from "./index";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const arr = (t: tf.Tensor) => Array.from(t.dataSync());

describe("editWeight / EditedWeights", () => {
  it("computes shift, offset and direct weights and never writes the base", () => {
    const W = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const d = tf.tensor2d([
      [0.5, -1],
      [2, 0],
    ]);
    expect(arr(editWeight(W, d, "shift"))).toEqual([1.5, 1, 5, 4]);
    expect(arr(editWeight(W, d, "offset"))).toEqual([1.5, 0, 9, 4]);
    expect(arr(editWeight(W, d, "weight"))).toEqual([0.5, -1, 2, 0]);
    const base = new TensorMap([
      ["w", W],
      ["other", tf.scalar(7)],
    ]);
    const edited = new EditedWeights(base, new Map([["w", d]]), "shift");
    expect(arr(edited.get("w"))).toEqual([1.5, 1, 5, 4]);
    expect(edited.get("other")).toBe(base.get("other"));
    edited.dispose();
    expect(arr(base.get("w"))).toEqual([1, 2, 3, 4]);
    expect(base.get("w").isDisposed).toBe(false);
  });

  it("names the problem on a bad edit", () => {
    const base = new TensorMap([["w", tf.zeros([2, 3])]]);
    expect(() => new EditedWeights(base, new Map([["v", tf.zeros([2, 3])]]), "shift")).toThrow(/no such weight.*|'v'/);
    expect(() => new EditedWeights(base, new Map([["w", tf.zeros([3, 2])]]), "shift")).toThrow(/\[3,2\].*\[2,3\]/);
  });
});

/** Independent plain-JS forward of a full-rank PWSG, to check the tfjs one. */
function referenceForward(w: Map<string, Float32Array>, cfg: PWSGConfig, p: number[]): number[][] {
  const lin = (name: string, x: number[], outDim: number) => {
    const W = w.get(`${name}.weight`)!;
    const b = w.get(`${name}.bias`)!;
    const y = new Array<number>(outDim).fill(0);
    for (let o = 0; o < outDim; o++) {
      let s = b[o];
      for (let i = 0; i < x.length; i++) s += W[o * x.length + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  let h = p;
  for (let j = 0; j < cfg.numSharedLayers; j++) h = lin(`shared_layers.${j}`, h, cfg.latentDim).map((v) => Math.max(0, v));
  return cfg.targets.map((t, i) => lin(`branches.${i}`, h, t.shape[0] * t.shape[1]));
}

describe("PWSG", () => {
  const cfg: PWSGConfig = {
    inputDim: 6,
    latentDim: 8,
    numSharedLayers: 2,
    targets: [
      { name: "a.in_proj_weight", shape: [9, 3] },
      { name: "head.weight", shape: [2, 3] },
    ],
    predict: "shift",
  };

  it("full rank matches a plain-JS forward and shifts the base weights", () => {
    const net = PWSG.init(cfg, 3);
    const p = [0.3, -0.2, 0.9, 0.1, -0.7, 0.5];
    const raw = new Map([...net.params.tensors].map(([k, v]) => [k, v.dataSync() as Float32Array]));
    const ref = referenceForward(raw, cfg, p);
    const out = net.forward(tf.tensor1d(p));
    expect(out.get("a.in_proj_weight")!.shape).toEqual([9, 3]);
    const got = arr(out.get("a.in_proj_weight")!);
    got.forEach((v, i) => expect(v).toBeCloseTo(ref[0][i], 5));
    arr(out.get("head.weight")!).forEach((v, i) => expect(v).toBeCloseTo(ref[1][i], 5));

    const base = new TensorMap([
      ["a.in_proj_weight", tf.ones([9, 3])],
      ["head.weight", tf.zeros([2, 3])],
      ["untouched", tf.ones([4])],
    ]);
    const edited = net.personalise(base, tf.tensor2d([p]));
    arr(edited.get("a.in_proj_weight")).forEach((v, i) => expect(v).toBeCloseTo(1 + ref[0][i], 5));
    expect(edited.editedNames().sort()).toEqual(["a.in_proj_weight", "head.weight"]);
    edited.dispose();
    expect(arr(base.get("a.in_proj_weight")).every((v) => v === 1)).toBe(true);
  });

  it("low rank starts at a zero edit, produces rank-r edits once trained, and rejects batches", () => {
    const lr = PWSG.init({ ...cfg, rank: 2 }, 1);
    const d0 = lr.forward(tf.ones([6]));
    expect(arr(d0.get("a.in_proj_weight")!).every((v) => v === 0)).toBe(true);
    // Give the A head non-zero weights: the edit becomes non-zero and has rank <= 2.
    lr.params.set("branches.0.a.weight", tf.randomNormal([9 * 2, 8], 0, 1, "float32", 5));
    const d = lr.forward(tf.ones([6])).get("a.in_proj_weight")!;
    const s = tf.linalg.qr(tf.transpose(d) as tf.Tensor2D)[1]; // R of [3, 9]^T... rank via R diagonal
    const diag = [0, 1, 2].map((i) => Math.abs((s.arraySync() as number[][])[i][i]));
    expect(diag[0]).toBeGreaterThan(1e-3);
    expect(diag[2]).toBeLessThan(1e-4 * diag[0]);
    expect(() => lr.forward(tf.ones([2, 6]))).toThrow(/one person at a time/);
  });

  it("official size: 1.63 B parameters full rank, two orders of magnitude fewer at rank 3", () => {
    const official: PWSGConfig = {
      inputDim: 512,
      latentDim: 1024,
      numSharedLayers: 2,
      targets: [
        { name: "decoder.layers.4.multihead_attn.in_proj_weight", shape: [1536, 512] },
        { name: "decoder.layers.6.multihead_attn.in_proj_weight", shape: [1536, 512] },
        { name: "to_emotion_feat.weight", shape: [25, 512] },
      ],
      predict: "shift",
    };
    const full = pwsgParameterCount(official);
    expect(full / 1e9).toBeCloseTo(1.63, 2); // the paper's Table 11
    // rank r costs latent*(out+in)*r per branch plus the shared 1.57 M: 15.8 M at r = 3, 20.6 M at r = 4.
    expect(full / pwsgParameterCount({ ...official, rank: 3 })).toBeGreaterThan(100);
    expect(Math.round(full / pwsgParameterCount({ ...official, rank: 4 }))).toBe(79);
  });

  it("padTop generates only the lower rows (official modify: kv) and zero-pads the rest", () => {
    const kv = PWSG.init({ ...cfg, targets: [{ name: "a.in_proj_weight", shape: [6, 3], padTop: 3 }] }, 4);
    const d = kv.forward(tf.ones([6])).get("a.in_proj_weight")!;
    expect(d.shape).toEqual([9, 3]);
    const v = arr(d);
    expect(v.slice(0, 9).every((x) => x === 0)).toBe(true);
    expect(v.slice(9).some((x) => x !== 0)).toBe(true);
  });

  it("fromWeights refuses missing, unexpected and mis-shaped tensors", () => {
    const net = PWSG.init(cfg, 0);
    const w = new Map(net.params.tensors);
    w.delete("branches.1.bias");
    w.set("extra", tf.zeros([1]));
    expect(() => PWSG.fromWeights(cfg, w)).toThrow(/missing \[branches\.1\.bias\], unexpected \[extra\]/);
    const w2 = new Map(net.params.tensors);
    w2.set("shared_layers.0.weight", tf.zeros([8, 5]));
    expect(() => PWSG.fromWeights(cfg, w2)).toThrow(/shared_layers\.0\.weight.*\[8,5\].*\[8,6\]/);
  });
});
