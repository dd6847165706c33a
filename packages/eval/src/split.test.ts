import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ReactDataset } from "@perfrdiff/features/dataset";
import { generateSynthCorpus } from "@perfrdiff/features/synth";
import { serializeNpy } from "@perfrdiff/npy";
import { openEvalSplit, personSpecificRows } from "./split";

const FRAMES = 100;
let root = "";
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "perfrdiff-split-"));
  // six listeners, two reactions per clip: some validation listeners appear once (no other clip to personalise from)
  await generateSynthCorpus(root, { speakers: 10, listeners: 6, seed: 1, frames: FRAMES + 1, clipsPerSpeaker: 2, reactionsPerClip: 2 });
});
afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

describe("personSpecificRows", () => {
  it("keeps the reactions of the item's own listener, the item first", () => {
    expect(personSpecificRows([[0, 1, 2], [1, 0], [2, 0]], ["a", "b", "a"])).toEqual([[0, 2], [1], [2, 0]]);
  });
});

describe("openEvalSplit", () => {
  it("MAFRG: the REACT neighbour matrix in the official row order, no histories", async () => {
    const ds = await ReactDataset.open(root, "val");
    const s = await openEvalSplit(root, "val", { frames: FRAMES });
    expect(s.corpus.items.length).toBe(ds.items.length);
    expect(s.corpus.appropriate).toEqual(ds.items.map((it) => ds.appropriate(it.index)));
    expect(s.corpus.appropriate.some((r) => r.length > 1)).toBe(true);
    expect(s.neighbours).toEqual({ path: join(root, "neighbour_emotion_val.npy"), derived: false });
    expect(s.history).toBeNull();
    expect(s.clips).toEqual(ds.items.map((it) => it.speaker));
    expect(s.corpus.items[0]!.speakerAudio.frames).toBe(FRAMES);
  });

  it("PMAFRG without a masked matrix: rows derived per listener, each item personalised from another clip of its listener", async () => {
    await expect(openEvalSplit(root, "val", { frames: FRAMES, task: "pmafrg", emotionOnly: true })).rejects.toThrow(/item\(s\) of val have none .*missingHistory/);
    const mafrg = await openEvalSplit(root, "val", { frames: FRAMES, emotionOnly: true });
    const s = await openEvalSplit(root, "val", { frames: FRAMES, task: "pmafrg", missingHistory: "generic", emotionOnly: true });
    expect(s.neighbours.derived).toBe(true);
    const ids = s.corpus.items.map((it) => it.listenerId);
    s.corpus.appropriate.forEach((row, i) => {
      expect(row[0]).toBe(i);
      for (const j of row) expect(ids[j]).toBe(ids[i]);
      for (const j of row.slice(1)) expect(mafrg.corpus.appropriate[i]).toContain(j);
    });
    expect(s.unpersonalised).toBeGreaterThan(0);
    expect(s.unpersonalised).toBeLessThan(s.corpus.items.length);
    s.history!.forEach((h, i) => {
      if (h < 0) return;
      expect(h).not.toBe(i);
      expect(ids[h]).toBe(ids[i]);
    });
  });

  it("PMAFRG reads person_specific_masked_neighbour_emotion_<split>.npy when present; --neighbours replaces either", async () => {
    const n = (await ReactDataset.open(root, "val")).items.length;
    const eye = new Uint8Array(n * n);
    for (let i = 0; i < n; i++) eye[i * n + i] = 1;
    const masked = join(root, "person_specific_masked_neighbour_emotion_val.npy");
    await writeFile(masked, serializeNpy({ data: eye, shape: [n, n] }));
    try {
      const s = await openEvalSplit(root, "val", { frames: FRAMES, task: "pmafrg", missingHistory: "generic", emotionOnly: true });
      expect(s.neighbours).toEqual({ path: masked, derived: false });
      expect(s.corpus.appropriate).toEqual(Array.from({ length: n }, (_, i) => [i]));
      const m = await openEvalSplit(root, "val", { frames: FRAMES, neighbours: masked, emotionOnly: true });
      expect(m.corpus.appropriate).toEqual(s.corpus.appropriate);
    } finally {
      await unlink(masked);
    }
  });

  it("refuses a neighbour matrix of the wrong shape, an empty row and missing files, naming them, before loading tracks", async () => {
    const n = (await ReactDataset.open(root, "val")).items.length;
    const bad = join(root, "bad.npy");
    await writeFile(bad, serializeNpy({ data: new Uint8Array(9).fill(1), shape: [3, 3] }));
    await expect(openEvalSplit(root, "val", { neighbours: bad })).rejects.toThrow(new RegExp(`bad\\.npy: shape \\[3, 3\\]; expected \\[${n}, ${n}\\]`));
    await writeFile(bad, serializeNpy({ data: new Uint8Array(n * n), shape: [n, n] }));
    await expect(openEvalSplit(root, "val", { neighbours: bad })).rejects.toThrow(/bad\.npy: row 0 .* no appropriate reaction/);
    await expect(openEvalSplit(root, "val", { neighbours: join(root, "nope.npy") })).rejects.toThrow(/no such neighbour matrix: .*nope\.npy/);
    await expect(openEvalSplit(root, "nosplit")).rejects.toThrow(/missing split list: .*nosplit\.csv/);
    const ds = await ReactDataset.open(root, "val");
    const gone = await ds.filePath(ds.items[1]!.speaker, "3dmm");
    const { rename } = await import("node:fs/promises");
    await rename(gone, `${gone}.away`);
    try {
      await expect(openEvalSplit(root, "val", { frames: FRAMES })).rejects.toThrow(new RegExp(`1 problem\\(s\\)\\n  ${gone.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: missing 3dmm file`));
      // the baselines read emotion only: the 3DMM file is not needed
      await expect(openEvalSplit(root, "val", { frames: FRAMES, emotionOnly: true })).resolves.toBeDefined();
    } finally {
      await rename(`${gone}.away`, gone);
    }
  });

  it("emotion only: the same emotion tracks as the full load", async () => {
    const [full, emo] = [await openEvalSplit(root, "val", { frames: FRAMES }), await openEvalSplit(root, "val", { frames: FRAMES, emotionOnly: true })];
    expect(emo.corpus.items.map((i) => i.listenerEmotion.data)).toEqual(full.corpus.items.map((i) => i.listenerEmotion.data));
    expect(emo.corpus.items.map((i) => i.speakerEmotion.data)).toEqual(full.corpus.items.map((i) => i.speakerEmotion.data));
    expect("speakerAudio" in emo.corpus.items[0]!).toBe(false);
  });
});
