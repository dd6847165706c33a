import { readFileSync } from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { TransformerDenoiser } from "../modules/index";
import { WeightMismatchError, checkStateDict, loadWeightFile, moduleParameterShapes, toTensorMap } from "../weights/index";
import { convertTorchCheckpoint, readTorchStateDict } from "./index";
import { officialConfig, parseConfig } from "../index";

const dir = new URL("../../test/fixtures/parity/", import.meta.url);
const bytes = (rel: string) => new Uint8Array(readFileSync(new URL(rel, dir)));
const cfg = parseConfig(new TextDecoder().decode(bytes("parity.yaml")));
const denPath = "checkpoints/rewrite_weight/TransformerDenoiser/checkpoint.pth";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("official checkpoint conversion", () => {
  it("converts to our format and back without changing a bit of the model's output", () => {
    const conv = convertTorchCheckpoint(cfg, bytes(denPath));
    expect(conv.module).toBe("denoiser");
    expect(conv.parameters).toBe(123945);
    const fromOurs = new TransformerDenoiser(cfg.diffusion_decoder.args, loadWeightFile(cfg, "denoiser", conv.bytes));
    const state = readTorchStateDict(bytes(denPath));
    const fromTorch = new TransformerDenoiser(cfg.diffusion_decoder.args, toTensorMap(state, moduleParameterShapes(cfg, "denoiser"), denPath));
    const x = tf.randomNormal([1, 10, 25], 0, 1, "float32", 1);
    const cond = { speakerAudio: tf.randomNormal([1, 10, 78], 0, 1, "float32", 2) };
    expect(Array.from(fromOurs.forwardWithCondScale(x, [5], cond).dataSync())).toEqual(
      Array.from(fromTorch.forwardWithCondScale(x, [5], cond).dataSync()),
    );
    expect(() => loadWeightFile(cfg, "prior", conv.bytes)).toThrow(/holds the denoiser module, not prior/);
  });

  it("refuses a checkpoint that does not fit the configuration, naming the tensors", () => {
    // the reduced checkpoint against the full-size official configuration
    expect(() => convertTorchCheckpoint(officialConfig(), bytes(denPath), { what: "den.pth" })).toThrow(WeightMismatchError);
    expect(() => convertTorchCheckpoint(officialConfig(), bytes(denPath), { what: "den.pth" })).toThrow(
      /den\.pth \(as denoiser\) does not match the configuration: wrong shape: to_emotion_embed\.weight is \[32,25\], expected \[512,25\]/,
    );
    const state = readTorchStateDict(bytes(denPath));
    state.delete("decoder.norm.bias");
    state.set("decoder.extra", state.get("decoder.norm.weight")!);
    expect(() => checkStateDict(state, moduleParameterShapes(cfg, "denoiser"), "x")).toThrow(
      /missing 1: decoder\.norm\.bias; unexpected 1: decoder\.extra/,
    );
  });
});
