import { readFileSync } from "node:fs";
import { parseNpy, toFloat32 } from "@perfrdiff/npy";
import { describe, expect, it } from "vitest";
import { TorchCheckpointError, readTorchFile } from "./index";
import { parseSafetensors, serializeSafetensors } from "../weights/index";
import type { TorchTensor } from "./index";

const fx = (rel: string) => new Uint8Array(readFileSync(new URL(`../../test/fixtures/parity/${rel}`, import.meta.url)));

describe("torch.save reader", () => {
  // edge.pth was written by torch 2.11 (make_parity_fixtures.py); each tensor's values are beside it as .npy.
  const obj = readTorchFile(fx("reader/edge.pth"), "edge.pth") as Map<string, unknown>;

  it("reads float16, bfloat16, float64, int64, transposed, offset and scalar tensors exactly", () => {
    for (const name of ["f16", "bf16", "f64", "transposed", "offset", "scalar", "shared_a"]) {
      const t = obj.get(name) as TorchTensor;
      const ref = parseNpy(fx(`reader/${name}.npy`));
      expect(t.shape, name).toEqual(ref.shape);
      expect(Array.from(t.data as Float32Array), name).toEqual(Array.from(toFloat32(ref.data)));
    }
    expect((obj.get("f16") as TorchTensor).dtype).toBe("float16");
    expect((obj.get("bf16") as TorchTensor).dtype).toBe("bfloat16");
    const i64 = obj.get("i64") as TorchTensor;
    expect(i64.dtype).toBe("int64");
    expect(Array.from(i64.data as BigInt64Array, Number)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it("keeps plain Python values", () => {
    const meta = obj.get("meta") as Map<string, unknown>;
    expect(meta.get("epoch")).toBe(3);
    expect(meta.get("name")).toBe("x");
    expect(meta.get("lr")).toBe(1e-4);
    expect(meta.get("flags")).toEqual([true, null]);
  });

  it("refuses non-checkpoints and truncated archives clearly", () => {
    expect(() => readTorchFile(new TextEncoder().encode("hello"), "x.pth")).toThrow(/x\.pth is not a torch\.save zip archive/);
    expect(() => readTorchFile(new Uint8Array([0x80, 2, 0x8a]), "old.pth")).toThrow(/legacy/);
    const bytes = fx("reader/edge.pth");
    expect(() => readTorchFile(bytes.slice(0, bytes.length - 200), "cut.pth")).toThrow(TorchCheckpointError);
  });
});

describe("safetensors format", () => {
  it("round-trips tensors and metadata with an 8-byte aligned data section", () => {
    const tensors = new Map([
      ["a.weight", { dtype: "F32" as const, shape: [2, 3], data: new Float32Array([1, -2, 3.5, 0, 1e-8, -7]) }],
      ["step", { dtype: "I64" as const, shape: [1], data: new BigInt64Array([42n]) }],
    ]);
    const bytes = serializeSafetensors(tensors, { module: "denoiser" });
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + hlen) % 8).toBe(0);
    const back = parseSafetensors(bytes);
    expect(back.metadata).toEqual({ module: "denoiser" });
    expect(back.tensors.get("a.weight")).toEqual(tensors.get("a.weight"));
    expect(Array.from(back.tensors.get("step")!.data as BigInt64Array)).toEqual([42n]);
  });

  it("rejects inconsistent headers", () => {
    const bytes = serializeSafetensors(new Map([["w", { dtype: "F32" as const, shape: [4], data: new Float32Array(4) }]]));
    expect(() => parseSafetensors(bytes.slice(0, bytes.length - 4))).toThrow(/w: data_offsets/);
    expect(() => serializeSafetensors(new Map([["w", { dtype: "F32" as const, shape: [3], data: new Float32Array(4) }]]))).toThrow(/\[3\] holds 3 elements but data has 4/);
  });
});
