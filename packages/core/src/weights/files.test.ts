import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../config";
import { loadWeightFile, loadWeightFileFromPath, saveWeightFile } from "./files";
import { randomWeights } from "./random";
import { SafetensorsError, parseSafetensors, serializeSafetensors } from "./safetensors";

const cfg = parseConfig(readFileSync(new URL("../../test/fixtures/parity/parity.yaml", import.meta.url), "utf8"));
const dir = mkdtempSync(join(tmpdir(), "perfrdiff-weights-"));

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A safetensors file whose header is `header` (JSON, unpadded) followed by `data` bytes. */
function rawFile(header: object, data = 8): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe("weight files", () => {
  it("round-trip live weights, from bytes and from a file read piece by piece", async () => {
    const w = randomWeights(cfg, "pssl", 3);
    const bytes = await saveWeightFile("pssl", w);
    expect(parseSafetensors(bytes).metadata).toEqual({ format: "perfrdiff", module: "pssl" });
    const path = join(dir, "pssl.safetensors");
    writeFileSync(path, bytes);
    for (const back of [loadWeightFile(cfg, "pssl", bytes), await loadWeightFileFromPath(cfg, "pssl", path)]) {
      for (const [k, t] of w.tensors) expect(Array.from(back.get(k).dataSync()), k).toEqual(Array.from(t.dataSync()));
      back.dispose();
    }
    await expect(loadWeightFileFromPath(cfg, "denoiser", path)).rejects.toThrow(/holds the pssl module, not denoiser/);
    await expect(loadWeightFileFromPath(cfg, "pssl", join(dir, "none.safetensors"))).rejects.toThrow(/no such file: .*none\.safetensors/);
    w.dispose();
  });

  it("refuse headers with bad offsets, overlaps or dtypes, naming the tensor, in memory and on disk", async () => {
    const cases: [object, RegExp][] = [
      [{ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, /b overlaps a/],
      [{ a: { dtype: "F32", shape: [2], data_offsets: [0.5, 8.5] } }, /a: data_offsets \[0\.5,8\.5\] are not two whole numbers/],
      [{ a: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } }, /a: shape \[-2\] is not a list of whole numbers/],
      [{ a: { dtype: "BOOLX", shape: [2], data_offsets: [0, 2] } }, /a: unsupported dtype BOOLX/],
      [{ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, /a: data_offsets \[0, 16\] do not match shape \[4\] F32 or the file size/],
    ];
    for (const [header, message] of cases) {
      const bytes = rawFile(header);
      expect(() => parseSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(bytes)).toThrow(message);
      const path = join(dir, "bad.safetensors");
      writeFileSync(path, bytes);
      await expect(loadWeightFileFromPath(cfg, "pssl", path)).rejects.toThrow(message);
    }
    const short = serializeSafetensors(new Map()).subarray(0, 4);
    expect(() => parseSafetensors(short)).toThrow(/too short/);
  });
});
