import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { TorchCheckpointError, convertTorchCheckpoint, convertTorchCheckpointFile, openTorchCheckpoint, readTorchStateDict, readTorchStateDictFile } from "./index";
import { loadWeightFileFromPath } from "../weights/index";
import { parseConfig } from "../index";

const path = (rel: string) => fileURLToPath(new URL(`../../test/fixtures/parity/${rel}`, import.meta.url));
const cfg = parseConfig(readFileSync(path("parity.yaml"), "utf8"));
const psslPath = "checkpoints/person_specific/checkpoint.pth";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("file-backed torch checkpoint reader", () => {
  it("reads tensors on demand, identical to the in-memory reader", async () => {
    const mem = readTorchStateDict(readFileSync(path(psslPath)));
    const f = await openTorchCheckpoint(path(psslPath));
    expect([...f.tensors.keys()]).toEqual([...mem.keys()]);
    expect(f.tensors.get("embed_layer.weight")!.shape).toEqual([32, 58]);
    const t = await f.load("embed_layer.weight");
    expect(Array.from(t.data as Float32Array)).toEqual(Array.from(mem.get("embed_layer.weight")!.data as Float32Array));
    await f.close();
  });

  it("reads zip64 archives with deflated entries (Python zipfile re-pack, test/make_zip64_fixture.py)", async () => {
    const mem = readTorchStateDict(readFileSync(path(psslPath)));
    const z = await readTorchStateDictFile(path("reader/zip64_deflated.pth"));
    expect(z.size).toBe(mem.size);
    for (const [k, v] of mem) expect(Array.from(z.get(k)!.data as Float32Array), k).toEqual(Array.from(v.data as Float32Array));
  });

  it("refuses truncated and non-torch files clearly", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perfrdiff-"));
    const bytes = readFileSync(path(psslPath));
    writeFileSync(join(dir, "cut.pth"), bytes.subarray(0, bytes.length - 100));
    await expect(openTorchCheckpoint(join(dir, "cut.pth"))).rejects.toThrow(TorchCheckpointError);
    writeFileSync(join(dir, "text.pth"), "hello");
    await expect(openTorchCheckpoint(join(dir, "text.pth"))).rejects.toThrow(/not a torch\.save zip archive/);
    await expect(openTorchCheckpoint(join(dir, "missing.pth"))).rejects.toThrow(/no such file: .*missing\.pth/);
  });

  it("streams a conversion to the same bytes as the in-memory converter, and refuses to overwrite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perfrdiff-"));
    const out = join(dir, "denoiser.safetensors");
    const src = path("checkpoints/rewrite_weight/TransformerDenoiser/checkpoint.pth");
    const r = await convertTorchCheckpointFile(cfg, src, out);
    expect(r).toEqual({ module: "denoiser", parameters: 123945, path: out });
    const mem = convertTorchCheckpoint(cfg, readFileSync(src), { what: src });
    expect(Buffer.compare(readFileSync(out), Buffer.from(mem.bytes))).toBe(0);
    await expect(convertTorchCheckpointFile(cfg, src, out)).rejects.toThrow(/exists; pass --force/);
    // and loads back from disk tensor by tensor
    const w = await loadWeightFileFromPath(cfg, "denoiser", out);
    expect(Array.from(w.get("decoder.norm.weight").dataSync())).toEqual(Array.from(readTorchStateDict(readFileSync(src)).get("decoder.norm.weight")!.data as Float32Array));
    await expect(loadWeightFileFromPath(cfg, "pssl", out)).rejects.toThrow(/holds the denoiser module, not pssl/);
  });

  it("keeps the earlier good file when a forced conversion fails half-way (a NaN in the last tensor)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "perfrdiff-"));
    const out = join(dir, "pssl.safetensors");
    await convertTorchCheckpointFile(cfg, path(psslPath), out);
    const good = readFileSync(out);
    // the checkpoint with one NaN in its last parameter (storages are stored uncompressed: find its bytes)
    const bytes = new Uint8Array(readFileSync(path(psslPath)));
    const state = readTorchStateDict(bytes);
    const last = [...state.keys()].at(-1)!;
    const data = state.get(last)!.data as Float32Array;
    const at = Buffer.from(bytes).indexOf(Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, 64)));
    expect(at).toBeGreaterThan(0);
    new DataView(bytes.buffer).setFloat32(at + 4, Number.NaN, true);
    writeFileSync(join(dir, "nan.pth"), bytes);
    await expect(convertTorchCheckpointFile(cfg, join(dir, "nan.pth"), out, { overwrite: true })).rejects.toThrow(new RegExp(`'${last.replaceAll(".", "\\.")}' holds 1 NaN or infinite values \\(the first at element 1\\)`));
    expect(Buffer.compare(readFileSync(out), good)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(["nan.pth", "pssl.safetensors"]); // no temporary file left
  });
});
