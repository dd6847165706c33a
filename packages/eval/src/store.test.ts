import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeNpy } from "@perfrdiff/npy";
import { PredictionStore } from "./store";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "perfrdiff-store-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const settings = { checkpoint: "/runs/a", split: "val", seed: 0, sampler: "ddim" };
const reactions = (v: number) => Float32Array.from({ length: 2 * 4 * 25 }, (_, i) => v + i / 1000);

describe("PredictionStore", () => {
  it("saves items and gives them back when reopened with the same settings", async () => {
    const d = join(dir, "a");
    const s = await PredictionStore.open(d, settings, 2, 4);
    expect(await s.load(3)).toBeNull();
    await s.save(3, reactions(1));
    await s.save(12, reactions(2));
    const again = await PredictionStore.open(d, { ...settings }, 2, 4);
    expect(again.count).toBe(2);
    expect(await again.load(12)).toEqual(reactions(2));
    expect(await again.load(0)).toBeNull();
    expect((await readdir(d)).sort()).toEqual(["item-00003.npy", "item-00012.npy", "settings.json"]); // no temporary files left
  });

  it("refuses a folder made with other settings, naming them, and a folder of reactions without settings", async () => {
    const d = join(dir, "b");
    await PredictionStore.open(d, settings, 2, 4);
    await expect(PredictionStore.open(d, { ...settings, seed: 1 }, 2, 4)).rejects.toThrow(/other settings \(seed: 0 there, 1 now\)/);
    await expect(PredictionStore.open(d, settings, 3, 4)).rejects.toThrow(/k: 2 there, 3 now/);
    const e = join(dir, "c");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(e);
    await writeFile(join(e, "item-00000.npy"), serializeNpy({ data: reactions(0), shape: [2, 4, 25] }));
    await expect(PredictionStore.open(e, settings, 2, 4)).rejects.toThrow(/reaction files but no settings\.json/);
  });

  it("refuses a saved item of another shape", async () => {
    const d = join(dir, "d");
    await PredictionStore.open(d, settings, 2, 4);
    await writeFile(join(d, "item-00001.npy"), serializeNpy({ data: new Float32Array(25), shape: [1, 1, 25] }));
    const s = await PredictionStore.open(d, settings, 2, 4);
    await expect(s.load(1)).rejects.toThrow(/item-00001\.npy: shape \[1, 1, 25\]; this run's reactions are \[2, 4, 25\]/);
  });
});
