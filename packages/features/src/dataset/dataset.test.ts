import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseNpy } from "@perfrdiff/npy";
import { decodeWav, encodeWav } from "../audio/wav";
import { extractReactAudioFeatures } from "../audio/react-audio";
import { emotionClipPath, formatSplitCsv, parseSplitCsv, personId } from "./layout";
import { ReactDataset } from "./reader";
import { ReactLayoutWriter } from "./writer";

const FRAMES = 20;
const SR = 16000;
// Pairs in the official naming: NoXI expert/novice, RECOLA group persons.
const ROWS = [
  { speaker: "NoXI/010_2016-03-25_Paris/Expert_video/1", listener: "NoXI/010_2016-03-25_Paris/Novice_video/1" },
  { speaker: "NoXI/010_2016-03-25_Paris/Expert_video/2", listener: "NoXI/010_2016-03-25_Paris/Novice_video/2" },
  { speaker: "RECOLA/group-1/P25/1", listener: "RECOLA/group-1/P26/1" },
];

/** A deterministic track whose values encode (clip number, frame, column) so that reads can be checked exactly. */
function track(seed: number, frames: number, dim: number) {
  const data = new Float32Array(frames * dim);
  for (let f = 0; f < frames; f++) for (let c = 0; c < dim; c++) data[f * dim + c] = seed * 1000 + f + c / 100;
  return { frames, dim, data };
}
const clips = [...new Set(ROWS.flatMap((r) => [r.speaker, r.listener]))];
const seedOf = (clip: string) => clips.indexOf(clip) + 1;
const tone = (clip: string) =>
  Float64Array.from({ length: (SR / 25) * FRAMES }, (_, i) => 0.3 * Math.sin((i * (200 + 50 * seedOf(clip)) * 2 * Math.PI) / SR));

let root: string;

async function makeTree(dir: string): Promise<void> {
  const w = new ReactLayoutWriter(dir);
  await w.writeSplitList("val", ROWS);
  // Item i's speaker is appropriately answered by item j's listener: {0,1} alike, plus the diagonal.
  const n = 2 * ROWS.length;
  const nb = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) nb[i * n + i] = 1;
  nb[0 * n + 1] = 1;
  nb[1 * n + 0] = 1;
  await w.writeNeighbours("val", nb, n);
  for (const c of clips) {
    await w.writeClip("val", c, { wav: encodeWav([tone(c)], SR, "16"), emotion: track(seedOf(c), FRAMES, 25), threeDmm: track(seedOf(c), FRAMES, 58) });
  }
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "react-"));
  await makeTree(root);
});

describe("layout", () => {
  it("renames emotion persons as the official loaders", () => {
    expect(emotionClipPath("NoXI/010_2016-03-25_Paris/Expert_video/3")).toBe("NoXI/010_2016-03-25_Paris/P1/3");
    expect(emotionClipPath("NoXI/010_2016-03-25_Paris/Novice_video/3")).toBe("NoXI/010_2016-03-25_Paris/P2/3");
    expect(emotionClipPath("RECOLA/group-2/P42/7")).toBe("RECOLA/group-2/P2/7");
    expect(emotionClipPath("RECOLA/group-2/P45/7")).toBe("RECOLA/group-2/P1/7");
    expect(emotionClipPath("SYNTH/L01/listener/7")).toBe("SYNTH/L01/listener/7");
    expect(personId("RECOLA/group-2/P45/7")).toBe("RECOLA/group-2/P45");
  });

  it("writes the official tree", () => {
    expect(readFileSync(join(root, "val", "Emotion", "NoXI", "010_2016-03-25_Paris", "P2", "1.csv"), "utf8")).toMatch(/^AU1,AU2,/);
    expect(readFileSync(join(root, "val", "Emotion", "RECOLA", "group-1", "P1", "1.csv"), "utf8")).toMatch(/^AU1,/);
    const a = parseNpy(readFileSync(join(root, "val", "3D_FV_files", "RECOLA", "group-1", "P26", "1.npy")));
    expect(a.shape).toEqual([FRAMES, 58]);
    expect(parseSplitCsv(formatSplitCsv(ROWS))).toEqual(ROWS);
  });
});

describe("ReactDataset", () => {
  it("mirrors pairs, groups listeners and orders appropriate reactions as the official loader", async () => {
    const ds = await ReactDataset.open(root, "val");
    expect(ds.length).toBe(6);
    expect(ds.item(4)).toMatchObject({ speaker: ROWS[1].listener, listener: ROWS[1].speaker });
    expect(ds.listenerIds()).toEqual([
      "NoXI/010_2016-03-25_Paris/Novice_video",
      "RECOLA/group-1/P26",
      "NoXI/010_2016-03-25_Paris/Expert_video",
      "RECOLA/group-1/P25",
    ]);
    expect(ds.history(0)).toEqual([1]);
    expect(ds.history(2)).toEqual([]);
    expect(ds.appropriate(1)).toEqual([1, 0]);
    expect(ds.appropriate(0)).toEqual([0, 1]);
    expect(ds.appropriate(5)).toEqual([5]);
    expect(await ds.validate({ frames: FRAMES })).toEqual([]);
  });

  it("loads windows of every modality, with the speaker/listener sides right", async () => {
    const ds = await ReactDataset.open(root, "val");
    const s = await ds.sample(3, { clipFrames: FRAMES, start: 5, length: 10, appropriate: true });
    const spk = ROWS[0].listener; // item 3 = mirrored row 0
    expect(s.speakerEmotion!.frames).toBe(10);
    expect(s.speakerEmotion!.data[0]).toBe(seedOf(spk) * 1000 + 5);
    expect(s.listener3dmm!.data[57]).toBeCloseTo(seedOf(ROWS[0].speaker) * 1000 + 5 + 0.57, 3);
    const full = extractReactAudioFeatures(decodeWav(encodeWav([tone(spk)], SR, "16")).channels[0], SR, 25, FRAMES);
    expect(Array.from(s.speakerAudio!.data)).toEqual(Array.from(full.data.slice(5 * 78, 15 * 78)));
    expect(s.appropriate).toEqual([3]);
    expect(s.appropriate3dmm!.length).toBe(1);
    const stats = { mean: new Float32Array(58).fill(1000), std: new Float32Array(58).fill(1) };
    const n = await ds.sample(0, { clipFrames: FRAMES, audio: false, emotion: false, faceStats: stats });
    expect(n.speaker3dmm!.data[0]).toBe(seedOf(ROWS[0].speaker) * 1000 - 1000);
  });

  it("streams every item", async () => {
    const ds = await ReactDataset.open(root, "val");
    const seen: number[] = [];
    for await (const s of ds.samples({ clipFrames: FRAMES, audio: false })) seen.push(s.item.index);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("reports every missing or malformed file with its path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "react-bad-"));
    await makeTree(dir);
    const v = (rel: string) => join(dir, "val", ...rel.split("/"));
    rmSync(v("Audio_files/NoXI/010_2016-03-25_Paris/Expert_video/2.wav"));
    rmSync(v("Emotion/RECOLA/group-1/P2/1.csv"));
    writeFileSync(v("3D_FV_files/RECOLA/group-1/P25/1.npy"), "garbage");
    writeFileSync(v("Emotion/NoXI/010_2016-03-25_Paris/P1/1.csv"), "AU1\n1\n");
    writeFileSync(v("Audio_files/RECOLA/group-1/P26/1.wav"), "RIFF....");
    const w = new ReactLayoutWriter(dir);
    await w.writeClip("val", "NoXI/010_2016-03-25_Paris/Novice_video/2", { threeDmm: track(9, FRAMES - 3, 58) });
    rmSync(join(dir, "neighbour_emotion_val.npy"));
    const ds = await ReactDataset.open(dir, "val");
    const problems = await ds.validate({ frames: FRAMES });
    const byPath = new Map(problems.map((p) => [p.path, p.problem]));
    expect(byPath.get(join(dir, "neighbour_emotion_val.npy"))).toMatch(/missing neighbour/);
    expect(byPath.get(v("Audio_files/NoXI/010_2016-03-25_Paris/Expert_video/2.wav"))).toMatch(/missing audio/);
    expect(byPath.get(v("Emotion/RECOLA/group-1/P2/1.csv"))).toMatch(/missing emotion/);
    expect(byPath.get(v("3D_FV_files/RECOLA/group-1/P25/1.npy"))).toMatch(/npy/i);
    expect(byPath.get(v("Emotion/NoXI/010_2016-03-25_Paris/P1/1.csv"))).toBe("header has 1 columns; expected 25");
    expect(byPath.get(v("Audio_files/RECOLA/group-1/P26/1.wav"))).toMatch(/not a readable WAV/);
    expect(problems.some((p) => p.path === v("3D_FV_files/NoXI/010_2016-03-25_Paris/Novice_video/2.npy") && /17 frames; expected at least 20/.test(p.problem))).toBe(true);
    expect(problems.some((p) => /17 frames but its emotion file/.test(p.problem))).toBe(true);
    expect(problems).toHaveLength(8);
    await expect(ds.sample(1, { clipFrames: FRAMES })).rejects.toThrow(/missing audio file: .*Expert_video\/2\.wav/);
  });

  it("opens PerFRDiff's person-specific lists and masked matrices", async () => {
    const dir = mkdtempSync(join(tmpdir(), "react-ps-"));
    await makeTree(dir);
    const w = new ReactLayoutWriter(dir);
    await w.writeSplitList("val", ROWS.slice(0, 2), true);
    const nb = new Uint8Array(16);
    nb[0 * 4 + 2] = 1;
    await w.writeNeighbours("val", nb, 4, true);
    const ds = await ReactDataset.open(dir, "val", { list: "person_specific" });
    expect(ds.length).toBe(4);
    expect(ds.appropriate(0)).toEqual([2]);
    expect(ds.neighbourPath).toMatch(/person_specific_masked_neighbour_emotion_val\.npy$/);
    expect(await ds.validate({ frames: FRAMES })).toEqual([]);
  });

  it("rejects malformed lists and matrices with their paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "react-bad2-"));
    await expect(ReactDataset.open(dir, "val")).rejects.toThrow(/missing split list: .*val\.csv/);
    writeFileSync(join(dir, "val.csv"), ",speaker_path,listener_path\n0,NoXI/a/b/1\n");
    await expect(ReactDataset.open(dir, "val")).rejects.toThrow(/val\.csv:2: expected/);
    const w = new ReactLayoutWriter(dir);
    await w.writeSplitList("val", ROWS);
    await w.writeNeighbours("val", new Uint8Array(16), 4);
    await expect(ReactDataset.open(dir, "val")).rejects.toThrow(/neighbour_emotion_val\.npy: shape \[4, 4\]; expected \[6, 6\]/);
  });
});
