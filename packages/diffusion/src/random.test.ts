import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { fixture, useBackend } from "../test/helpers";
import { SeededRandom, philox4x32 } from "./index";

const fx = fixture("steps.json").random;

describe("SeededRandom (Philox4x32-10 + Box–Muller)", () => {
  beforeAll(() => useBackend("wasm"));
  it("matches the Random123 known-answer vectors", () => {
    const o = new Uint32Array(4);
    philox4x32(0, 0, 0, 0, 0, 0, o);
    expect(Array.from(o)).toEqual([0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
    philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, o);
    expect(Array.from(o)).toEqual([0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
    philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, o);
    expect(Array.from(o)).toEqual([0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
  });
  it("matches the NumPy re-implementation in test/make_fixtures.py (blocks and normals)", () => {
    const o = new Uint32Array(4);
    fx.philox_ctr_i_7_3_0_key_42_5eed.forEach((want: number[], i: number) => {
      philox4x32(i, 7, 3, 0, 42, 0x5eed, o);
      expect(Array.from(o)).toEqual(want);
    });
    const z = new SeededRandom(1234).normal64(11);
    z.forEach((v, i) => expect(v).toBeCloseTo(fx.normals_seed1234_stream0[i], 14));
    const w = new SeededRandom(1234, 5).seek(1000).normal64(8);
    w.forEach((v, i) => expect(v).toBeCloseTo(fx.normals_seed1234_stream5_block1000[i], 14));
  });
  it("is reproducible, consumes whole blocks, and streams differ", () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    expect(Array.from(a.normal64(10))).toEqual(Array.from(b.normal64(10)));
    expect(a.position).toBe(3);
    expect(Array.from(a.fork(1).normal64(4))).not.toEqual(Array.from(new SeededRandom(7).normal64(4)));
    expect(Array.from(new SeededRandom(8).uniform(4))).not.toEqual(Array.from(new SeededRandom(7).uniform(4)));
  });
  it("has standard normal moments and uniform integers", () => {
    const z = new SeededRandom(99).normal64(200_000);
    let m = 0, v = 0, k = 0;
    for (const x of z) m += x;
    m /= z.length;
    for (const x of z) {
      v += (x - m) ** 2;
      k += (x - m) ** 4;
    }
    v /= z.length;
    k /= z.length * v * v;
    expect(Math.abs(m)).toBeLessThan(0.01);
    expect(Math.abs(v - 1)).toBeLessThan(0.01);
    expect(Math.abs(k - 3)).toBeLessThan(0.05);
    const ints = new SeededRandom(3).integers(100_000, 10);
    const counts = new Array(10).fill(0);
    for (const i of ints) counts[i]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });
  it("gives the same tensor on the cpu and wasm backends", async () => {
    const onWasm = new SeededRandom(5).normal([3, 7]);
    const a = onWasm.dataSync().slice();
    onWasm.dispose();
    await useBackend("cpu");
    const onCpu = new SeededRandom(5).normal([3, 7]);
    expect(Array.from(onCpu.dataSync())).toEqual(Array.from(a));
    expect(onCpu.dtype).toBe("float32");
    onCpu.dispose();
    await useBackend("wasm");
    expect(tf.getBackend()).toBe("wasm");
  });
  it("refuses bad seeds", () => {
    expect(() => new SeededRandom(-1)).toThrow(/seed must be an integer in \[0, 2\^32\), got -1/);
    expect(() => new SeededRandom(1.5)).toThrow(/got 1.5/);
    expect(() => new SeededRandom(1, 2 ** 32)).toThrow(/stream must be/);
  });
});
