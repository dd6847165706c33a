import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { TorchCheckpointError, openTorchCheckpoint, openTorchStateDict, readTorchFile } from "./index";

// Hand-made torch.save archives: a protocol-2 data.pkl holding { name: _rebuild_tensor_v2(storage, offset, size,
// stride, False, OrderedDict()) } and its storages, each hostile in one way.
const enc = new TextEncoder();
type Value = number | string | Value[] | { raw: number[] };
function encode(v: Value): number[] {
  if (typeof v === "number") return [0x4a, ...new Uint8Array(new Int32Array([v]).buffer)]; // BININT
  if (typeof v === "string") {
    const b = enc.encode(v);
    return [0x58, ...new Uint8Array(new Uint32Array([b.length]).buffer), ...b]; // BINUNICODE
  }
  if (Array.isArray(v)) return [0x28, ...v.flatMap(encode), 0x74]; // MARK ... TUPLE
  return v.raw;
}
const global = (module: string, name: string) => ({ raw: [0x63, ...enc.encode(`${module}\n${name}\n`)] });
interface TensorSpec {
  key?: Value;
  numel?: Value;
  offset?: Value;
  size: Value;
  stride: Value;
  pid?: Value;
}
function dataPkl(tensors: Record<string, TensorSpec>): Uint8Array {
  const out = [0x80, 2, 0x7d];
  for (const [name, t] of Object.entries(tensors)) {
    const pid = t.pid ?? ["storage", global("torch", "FloatStorage"), t.key ?? "0", "cpu", t.numel ?? 4];
    out.push(...encode(name), ...global("torch._utils", "_rebuild_tensor_v2").raw);
    out.push(0x28, ...encode(pid), 0x51, ...encode(t.offset ?? 0), ...encode(t.size), ...encode(t.stride), 0x89);
    out.push(...global("collections", "OrderedDict").raw, 0x29, 0x52, 0x74, 0x52, 0x73);
  }
  out.push(0x2e);
  return new Uint8Array(out);
}
function archive(tensors: Record<string, TensorSpec>, storages: Record<string, Uint8Array> = { "0": new Uint8Array(16) }, level: 0 | 9 = 0): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 | 9 }]> = { "archive/data.pkl": [dataPkl(tensors), { level: 0 }] };
  for (const [k, b] of Object.entries(storages)) files[`archive/data/${k}`] = [b, { level }];
  return zipSync(files);
}
/** Both readers: in memory (whole tree, and checked state dict) and file-backed. */
async function readAll(bytes: Uint8Array): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const read of [() => readTorchFile(bytes, "t.pth"), () => openTorchStateDict(bytes, "t.pth")]) {
    try {
      read();
      errors.push(undefined);
    } catch (err) {
      errors.push(err);
    }
  }
  const path = join(mkdtempSync(join(tmpdir(), "perfrdiff-hostile-")), "t.pth");
  writeFileSync(path, bytes);
  errors.push(await openTorchCheckpoint(path).then((f) => f.close(), (err: unknown) => err));
  return errors;
}

describe("torch checkpoints that must be refused before anything large is read", () => {
  it("reads a well-formed hand-made archive (the builder is right)", async () => {
    const bytes = archive({ w: { size: [2, 2], stride: [2, 1] } }, { "0": new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) });
    expect(await readAll(bytes)).toEqual([undefined, undefined, undefined]);
    expect(Array.from(openTorchStateDict(bytes).load("w").data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  // 40 levels, each a pair of the level below (DUP, TUPLE2): 82 bytes that expand to 2^40 leaves
  const laughs: Value = { raw: [...encode("storage"), ...Array.from({ length: 40 }, () => [0x32, 0x86]).flat()] };
  const cases: [string, Uint8Array, RegExp][] = [
    ["a storage offset that is a string", archive({ w: { offset: "abc", size: [4], stride: [1] } }), /storage offset is a string 'abc', not a non-negative integer/],
    ["a fractional size", archive({ w: { size: [{ raw: [0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0] }], stride: [1] } }), /size holds the number 1\.5, not a non-negative integer/],
    ["a negative stride", archive({ w: { size: [4], stride: [-1] } }), /stride holds the number -1/],
    ["a tensor beyond its storage", archive({ w: { offset: 2, size: [4], stride: [1] } }), /reach element 5, but the storage holds 4/],
    ["[2^30] with stride 0 over 4 elements", archive({ w: { size: [2 ** 30], stride: [0] } }), /1073741824 elements from a storage of 4 \(a broadcast tensor/],
    ["a storage smaller than declared", archive({ w: { size: [4], stride: [1], numel: 4 } }, { "0": new Uint8Array(8) }), /storage data\/0 holds 8 bytes, but the checkpoint declares 4 float32 elements \(16 bytes\)/],
    ["a zip bomb: 64 MB of zeros, deflated", archive({ w: { size: [16], stride: [1], numel: 16 << 20 } }, { "0": new Uint8Array(64 << 20) }, 9), /inflate from \d+ to 67108864 bytes, more than 32x \(a zip bomb\?\)/],
    ["a persistent id nested 40 deep, each level the one below twice", archive({ w: { pid: laughs, size: [4], stride: [1] } }), /unsupported persistent id \(a list or tuple of 2 items/],
    ["a storage key that is not a name", archive({ w: { key: [laughs], size: [4], stride: [1] } }), /storage key is a list or tuple of 1 items, not a short name/],
    ["a size that is not a tuple", archive({ w: { size: "abc", stride: [1] } }), /size is a string 'abc', not a tuple/],
  ];
  it.each(cases)("refuses %s, naming the problem, in every reader", async (_, bytes, message) => {
    const t = performance.now();
    const errors = await readAll(bytes);
    for (const err of errors) {
      expect(err).toBeInstanceOf(TorchCheckpointError);
      expect((err as Error).message).toMatch(message);
    }
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  it("refuses many tensors over one storage (memory must not multiply)", () => {
    const tensors: Record<string, TensorSpec> = {};
    for (let i = 0; i < 40; i++) tensors[`w${i}`] = { numel: 1 << 16, size: [1 << 16], stride: [1], offset: 0 };
    // float16: a copy (widened to float32) per tensor, unlike zero-copy float32 views
    const pkl = dataPkl(tensors);
    const half = new Uint8Array(pkl.length + 200);
    const s = new TextDecoder("latin1").decode(pkl).replaceAll("FloatStorage", "HalfStorage");
    half.set(Uint8Array.from(s, (c) => c.charCodeAt(0)));
    const bytes = zipSync({ "archive/data.pkl": [half.subarray(0, s.length), { level: 0 }], "archive/data/0": [new Uint8Array(2 << 16), { level: 0 }] });
    expect(() => readTorchFile(bytes, "t.pth")).toThrow(/its tensors read \d+ elements from storages holding 65536/);
  });
});
