import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { getThreadsCount } from "@tensorflow/tfjs-backend-wasm";
import { describe, expect, it } from "vitest";
import { TransformerDenoiser } from "./modules/index";
import { releaseDerivedWeights } from "./ops/index";
import { moduleParameterShapes, toTensorMap } from "./weights/index";
import { parseConfig, useBackend } from "./index";
import { readTorchStateDict } from "./torch/index";

const dir = new URL("../test/fixtures/parity/", import.meta.url);
const bytes = (rel: string) => new Uint8Array(readFileSync(new URL(rel, dir)));
const cfg = parseConfig(new TextDecoder().decode(bytes("parity.yaml")));
const ckpt = "checkpoints/rewrite_weight/TransformerDenoiser/checkpoint.pth";

/** A guided denoiser step (reduced-size official weights, cached and uncached) and a large product, as arrays. */
function outputs(): Float32Array[] {
  const weights = toTensorMap(readTorchStateDict(bytes(ckpt), ckpt), moduleParameterShapes(cfg, "denoiser"), ckpt);
  const den = new TransformerDenoiser(cfg.diffusion_decoder.args, weights);
  const B = 6;
  const W = cfg.diffusion_decoder.args.window_size;
  const res = tf.tidy(() => {
    const cond = {
      speakerAudio: tf.randomNormal([B, W, 78], 0, 1, "float32", 1),
      speaker3dmm: tf.randomNormal([B, W, 58], 0, 1, "float32", 2),
      speakerLatent: tf.randomNormal([B, 1, cfg.diffusion_decoder.args.s_embed_dim], 0, 1, "float32", 3),
    };
    const x = tf.randomNormal([B, W, 25], 0, 1, "float32", 4);
    const t = [1, 100, 300, 500, 700, 999];
    const cache = den.conditionCache(cond, B);
    const out = [den.forwardWithCondScale(x, t, cond), den.forwardCached(x, t, cache)];
    cache.dispose();
    out.push(tf.matMul(tf.randomNormal([300, 257], 0, 1, "float32", 5), tf.randomNormal([257, 301], 0, 1, "float32", 6)));
    return out.map((o) => o.dataSync() as Float32Array);
  });
  weights.dispose();
  return res;
}

describe("useBackend('wasm') in Node", () => {
  it("runs the package's threaded build on worker threads, with outputs equal to the single-threaded build", async () => {
    expect(await useBackend("wasm", { threads: 2 })).toBe("wasm");
    expect(getThreadsCount()).toBe(2);
    const threaded = outputs();
    // a running backend keeps its threads
    expect(await useBackend("wasm", { threads: 1 })).toBe("wasm");
    expect(getThreadsCount()).toBe(2);
    releaseDerivedWeights(); // cached weight transposes live in the backend about to go
    tf.removeBackend("wasm"); // stops it (and its workers)
    expect(await useBackend("wasm", { threads: 1 })).toBe("wasm");
    expect(getThreadsCount()).toBe(1);
    const single = outputs();
    expect(threaded.length).toBe(single.length);
    threaded.forEach((a, i) => {
      expect(a.length).toBe(single[i].length);
      let diff = 0;
      for (let j = 0; j < a.length; j++) diff = Math.max(diff, Math.abs(a[j] - single[i][j]));
      expect(diff, `output ${i}`).toBe(0); // same kernels, each output element computed by one thread
    });
  });
});
