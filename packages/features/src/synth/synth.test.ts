import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ReactDataset } from "../dataset/reader";
import { readEmotionCsv } from "../face/io";
import { columnIndex, EMOTION_COLUMNS, FACE_COLUMNS } from "@perfrdiff/layout";
import { listenerReaction, randomStyle, speakerClip, type ListenerStyle, type SpeakerClip } from "./behaviour";
import { generateSynthCorpus } from "./corpus";
import { Rng } from "./random";
import { randomVoice } from "./voice";

function treeHash(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}

const SMALL = { speakers: 3, listeners: 3, clipsPerSpeaker: 2, reactionsPerClip: 2, frames: 200, sampleRate: 8000 };

describe("synthetic corpus", () => {
  it("is deterministic for a seed and differs across seeds", async () => {
    const a = mkdtempSync(join(tmpdir(), "synth-a-"));
    const b = mkdtempSync(join(tmpdir(), "synth-b-"));
    const c = mkdtempSync(join(tmpdir(), "synth-c-"));
    await generateSynthCorpus(a, { ...SMALL, seed: 7 });
    await generateSynthCorpus(b, { ...SMALL, seed: 7 });
    await generateSynthCorpus(c, { ...SMALL, seed: 8 });
    const ha = treeHash(a);
    expect(ha.size).toBeGreaterThan(20);
    expect(treeHash(b)).toEqual(ha);
    const hc = treeHash(c);
    // Only the structure (pair lists, neighbour matrices) may coincide; every recording must differ.
    const same = [...ha].filter(([k, v]) => hc.get(k) === v).map(([k]) => k);
    expect(same.sort()).toEqual(["neighbour_emotion_train.npy", "neighbour_emotion_val.npy", "train.csv", "val.csv"]);
  }, 60_000);

  it("is read by ReactDataset like the real data: valid files, appropriate reactions, listener histories", async () => {
    const dir = mkdtempSync(join(tmpdir(), "synth-r-"));
    const progress: number[] = [];
    const m = await generateSynthCorpus(dir, { ...SMALL, seed: 3, onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const train = await ReactDataset.open(dir, "train");
    const val = await ReactDataset.open(dir, "val");
    expect(train.rows.length).toBe(8); // 2 train speakers x 2 clips x 2 reactions
    expect(val.rows.length).toBe(4);
    expect(await train.validate({ frames: 200 })).toEqual([]);
    expect(await val.validate({ frames: 200 })).toEqual([]);
    // Pair 0 and 1 are the two reactions to the same speaker clip.
    expect(train.appropriate(0)).toEqual([0, 1]);
    expect(train.appropriate(8)).toEqual([8, 9]);
    const s0 = await train.sample(0, { clipFrames: 200, appropriate: true });
    const s1 = await train.sample(1, { clipFrames: 200 });
    expect(Array.from(s0.speaker3dmm!.data)).toEqual(Array.from(s1.speaker3dmm!.data)); // same speaker clip
    expect(s0.appropriateEmotion!.length).toBe(2);
    expect(s0.speakerAudio!.dim).toBe(78);
    // Each listener keeps one identity and has a history.
    const l0 = m.listeners[0].id;
    expect(train.listenerIds()).toContain(l0);
    for (const i of train.itemsOfListener(l0)) expect(train.history(i).length).toBeGreaterThan(0);
    // So does each speaker: one clip file shown to several listeners, one identity in the mirrored items.
    expect(train.rows[0].speaker).toBe("SYNTH/S01/speaker/1");
    expect(train.rows[1].speaker).toBe("SYNTH/S01/speaker/1");
    expect(train.items[8].listenerId).toBe("SYNTH/S01/speaker");
    expect(readdirSync(join(dir, "train", "Audio_files", "SYNTH", "S01", "speaker")).sort()).toEqual(["1.wav", "2.wav"]);
    // Everyone's resting face is in their coefficients: a clip's mean head posture is the person's rest posture.
    for (const [clip, rest] of [[train.rows[0].listener, m.listeners[0].rest], [train.rows[0].speaker, m.speakers[0].rest]] as const) {
      const t = (await train.sample(train.items.findIndex((it) => it.listener === clip), { audio: false, emotion: false, clipFrames: 200 })).listener3dmm!;
      for (const [axis, col] of [[0, 52], [1, 53], [2, 54]] as const) {
        let mean = 0;
        for (let f = 0; f < t.frames; f++) mean += t.data[f * 58 + col] / t.frames;
        expect(Math.abs(mean - rest.pose[axis]), `${clip} axis ${axis}`).toBeLessThan(0.06); // rest postures span +-0.12
      }
    }
    // The speaker audio is speech with pauses: c0 is the log energy, floored at 0 (energy 1 on the [-1, 1] scale,
    // as in the official features), so pauses give 0 and loud syllables clearly positive values.
    const c0 = Array.from({ length: 200 }, (_, f) => s0.speakerAudio!.data[f * 78]);
    expect(c0.filter((v) => v === 0).length).toBeGreaterThan(10);
    expect(c0.filter((v) => v > 0.5).length).toBeGreaterThan(10);
    const emo = await readEmotionCsv(await train.filePath(train.item(0).listener, "emotion"));
    for (let f = 0; f < emo.frames; f++) {
      const p = Array.from(emo.data.subarray(f * 25 + 17, f * 25 + 25));
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  }, 60_000);
});

describe("listening rules", () => {
  const fps = 25;
  /** A silent speaker clip with a smile from 2 s to 4 s, a brow raise at 5 s and a pause onset at 6 s. */
  function scriptedSpeaker(): SpeakerClip {
    const sp = speakerClip(new Rng(1, "x"), randomVoice(new Rng(1, "v")), 0, 250, fps);
    sp.face.smile.fill(0);
    sp.face.brow.fill(0);
    sp.face.valence.fill(0.5);
    for (let f = 50; f < 100; f++) sp.face.smile[f] = 1;
    sp.browEvents = [125];
    sp.pauseOnsets = [150];
    return sp;
  }
  const base: ListenerStyle = { ...randomStyle(new Rng(0, "s")), smileStyle: "closed", latency: 0.6, expressiveness: 1 };
  const smileOnset = (x: Float64Array) => x.findIndex((v) => v > 0.3);

  it("mimics smiles after the listener's latency, scaled by expressiveness", () => {
    const sp = scriptedSpeaker();
    const fast = listenerReaction(new Rng(2, "r"), sp, { ...base, latency: 0.2 });
    const slow = listenerReaction(new Rng(2, "r"), sp, { ...base, latency: 1.0 });
    expect(smileOnset(slow.face.smile) - smileOnset(fast.face.smile)).toBe(20); // 0.8 s at 25 fps
    const weak = listenerReaction(new Rng(2, "r"), sp, { ...base, expressiveness: 0.4 });
    const strong = listenerReaction(new Rng(2, "r"), sp, { ...base, expressiveness: 1.2 });
    expect(Math.max(...strong.face.smile)).toBeGreaterThan(2 * Math.max(...weak.face.smile));
  });

  it("nods and raises brows after pauses and brow raises, by probability", () => {
    const sp = scriptedSpeaker();
    const always = listenerReaction(new Rng(2, "r"), sp, { ...base, nodProbability: 1, browRaiseProbability: 1, headMotion: 1 });
    expect(always.nods.length).toBe(1);
    expect(Math.abs(always.nods[0] - (150 + 15))).toBeLessThanOrEqual(3); // latency 0.6 s = 15 frames, +-0.1 s
    const pitchSwing = (r: typeof always) => Math.max(...r.face.pitch.slice(160, 200)) - Math.min(...r.face.pitch.slice(160, 200));
    const never = listenerReaction(new Rng(2, "r"), sp, { ...base, nodProbability: 0, browRaiseProbability: 0, headMotion: 1 });
    expect(never.nods).toEqual([]);
    expect(pitchSwing(always)).toBeGreaterThan(2 * pitchSwing(never));
    expect(Math.max(...always.face.brow.slice(125, 165))).toBeGreaterThan(0.5);
    expect(Math.max(...never.face.brow)).toBe(0);
  });

  it("renders smile styles into distinguishable blendshapes and AUs", async () => {
    const { renderFace } = await import("./behaviour");
    const sp = scriptedSpeaker();
    const render = (style: ListenerStyle) => renderFace(listenerReaction(new Rng(2, "r"), sp, style).face, new Rng(0, "f"));
    const f = 95; // inside the delayed smile
    const at = (t: { threeDmm: { data: Float32Array } }, name: string) => t.threeDmm.data[f * 58 + columnIndex(FACE_COLUMNS, name)];
    const asym = render({ ...base, smileStyle: "asymmetric", smileSide: 1 });
    expect(at(asym, "mouthSmileLeft")).toBeGreaterThan(at(asym, "mouthSmileRight") + 0.3);
    const broad = render({ ...base, smileStyle: "broad" });
    const closed = render({ ...base, smileStyle: "closed" });
    expect(at(broad, "jawOpen")).toBeGreaterThan(at(closed, "jawOpen") + 0.1);
    const au = (t: { emotion: { data: Float32Array } }, name: string) => t.emotion.data[f * 25 + columnIndex(EMOTION_COLUMNS, name)];
    expect(au(broad, "AU12")).toBe(1);
    expect(au(broad, "AU25")).toBe(1);
    expect(au(closed, "AU25")).toBe(0);
    expect(au(asym, "AU14")).toBe(1);
  });
});

describe("personalisation is measurable from the files", () => {
  it("recovers each listener's latency (plus the 0.3 s smoothing delay) and ranks head motion", async () => {
    const { measureListenerStyle } = await import("./measure");
    type Measured = ReturnType<typeof measureListenerStyle>;
    const dir = mkdtempSync(join(tmpdir(), "synth-m-"));
    const m = await generateSynthCorpus(dir, {
      speakers: 6, listeners: 4, seed: 11, clipsPerSpeaker: 2, reactionsPerClip: 2, frames: 751, sampleRate: 8000, trainFraction: 1,
    });
    const ds = await ReactDataset.open(dir, "train");
    const measured: Measured[] = [];
    for (const l of m.listeners) {
      const pairs = [];
      for (const i of ds.itemsOfListener(l.id)) {
        const s = await ds.sample(i, { audio: false, emotion: false });
        pairs.push({ speaker3dmm: s.speaker3dmm!, listener3dmm: s.listener3dmm! });
      }
      measured.push(measureListenerStyle(pairs));
    }
    const order = (xs: number[]) => xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
    m.listeners.forEach((l, i) => {
      const extra = measured[i].latency - l.style.latency;
      expect(extra).toBeGreaterThanOrEqual(0.1);
      expect(extra).toBeLessThanOrEqual(0.35);
    });
    expect(order(measured.map((x) => x.latency))).toEqual(order(m.listeners.map((l) => l.style.latency)));
    expect(order(measured.map((x) => x.headPitchStd))).toEqual(order(m.listeners.map((l) => l.style.headMotion)));
  }, 120_000);
});
