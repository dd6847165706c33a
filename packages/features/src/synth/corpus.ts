import { encodeWav } from "../audio/wav";
import { FACE_DIM, computeFaceStats, type FrameTrack } from "@perfrdiff/layout";
import { serializeNpy } from "@perfrdiff/npy";
import type { ReactPairRow } from "../dataset/layout";
import { ReactLayoutWriter } from "../dataset/writer";
import { listenerReaction, randomRestingFace, randomStyle, renderFace, speakerClip, type ListenerStyle, type RestingFace } from "./behaviour";
import { Rng } from "./random";
import { randomVoice, synthesise, type Voice } from "./voice";

export interface SynthOptions {
  /** Number of synthetic speakers (voices with their own mean valence). */
  speakers: number;
  /** Number of synthetic listeners (each with its own ListenerStyle). */
  listeners: number;
  seed: number;
  /** Different speaker clips per speaker (default 2). */
  clipsPerSpeaker?: number;
  /** Listeners who react to each speaker clip: its appropriate reactions (default min(3, listeners)). */
  reactionsPerClip?: number;
  /** Frames per clip (default 751, as REACT). */
  frames?: number;
  fps?: number;
  /** Audio sample rate (default 16000; REACT's real audio is 44100). */
  sampleRate?: number;
  /**
   * Fraction of speakers whose clips go to the train split; the rest go to val (default 0.8). At least one speaker is
   * in train, and, when the fraction is below 1 and there are two speakers or more, at least one in val.
   */
  trainFraction?: number;
  /** Called after each pair is written. */
  onProgress?: (done: number, total: number) => void;
}

/** What the generator wrote, also saved as `synth_meta.json`. */
export interface SynthManifest {
  generator: string;
  seed: number;
  options: Omit<Required<SynthOptions>, "onProgress">;
  rules: string[];
  speakers: { index: number; voice: Voice; meanValence: number; rest: RestingFace; split: string }[];
  listeners: { index: number; style: ListenerStyle; rest: RestingFace; voice: Voice; id: string }[];
  splits: Record<string, { pairs: (ReactPairRow & { speakerIndex: number; clip: number; listenerIndex: number })[] }>;
}

export const LISTENING_RULES = [
  "smile mimicry: listener smile = expressiveness x speaker smile delayed by latency, low-passed 0.3 s; shape by smileStyle (closed / broad with parted lips and cheek raise / asymmetric)",
  "nods at pauses: after a speaker phrase of >= 1 s, a nod (1-2 cycles at 2 Hz, 0.05 x headMotion rad) with probability nodProbability, latency after the pause (+-0.1 s); an audible 'mm' with probability backchannelProbability",
  "brow raises: mirror each speaker brow raise with probability browRaiseProbability after latency; raise at a pause with half that probability",
  "valence follows the speaker: baselineValence + empathy x speaker valence delayed 2 x latency, low-passed 1 s; arousal follows with gain 0.5 x expressiveness",
  "idle behaviour: head sway of std 0.02 x headMotion rad, blinks at blinkRate per second",
  "resting face: every person (speaker or listener) holds a habitual head posture (+-0.12 rad per angle, +-0.03 in position) and a neutral expression (brows, pressed lips, narrowed eyes, 0..0.2), added to their 3DMM coefficients",
];

const pad2 = (n: number) => String(n).padStart(2, "0");

/**
 * Writes a synthetic dyadic corpus in the REACT layout under `out` (read it with ReactDataset):
 * - speaker clip (s, k) is one speaker's behaviour: formant-synthesised speech with pauses, and matching face tracks;
 * - it is shown to `reactionsPerClip` listeners (round robin), each reacting by the listening rules and its style;
 * - speaker s's clip k is written once, as `SYNTH/S<s>/speaker/<k>`, and listener l's reactions as
 *   `SYNTH/L<l>/listener/<n>`: every person keeps one identity (site/session/person) across all their clips, so each
 *   has a history for personalisation and identical recordings never carry two identities (which would contradict
 *   PSSL's contrastive labels on the mirrored items, where speakers are the listeners);
 * - the neighbour matrix marks as appropriate for a speaker clip the reactions of every listener to that same clip
 *   (and, mirrored, the speaker behaviour for every reaction to it);
 * - `synth_meta.json` records the styles, voices, rules and pairs; `FaceVerse/mean_face.npy` and `std_face.npy`
 *   hold the train split's 3DMM statistics.
 * Deterministic for a seed: every clip draws from its own random stream keyed by (seed, role, indices).
 */
export async function generateSynthCorpus(out: string, options: SynthOptions): Promise<SynthManifest> {
  const o = {
    speakers: options.speakers,
    listeners: options.listeners,
    seed: options.seed,
    clipsPerSpeaker: options.clipsPerSpeaker ?? 2,
    reactionsPerClip: options.reactionsPerClip ?? Math.min(3, options.listeners),
    frames: options.frames ?? 751,
    fps: options.fps ?? 25,
    sampleRate: options.sampleRate ?? 16000,
    trainFraction: options.trainFraction ?? 0.8,
  };
  for (const [k, v] of Object.entries(o)) {
    if (k === "trainFraction") continue;
    if (!Number.isInteger(v) || v < (k === "seed" ? 0 : 1)) throw new Error(`synth: ${k} must be a positive whole number, got ${v}`);
  }
  if (o.reactionsPerClip > o.listeners) {
    throw new Error(`synth: reactionsPerClip (${o.reactionsPerClip}) exceeds listeners (${o.listeners})`);
  }
  if (!(o.trainFraction > 0 && o.trainFraction <= 1)) throw new Error(`synth: trainFraction must be in (0, 1], got ${o.trainFraction}`);
  const samples = Math.round((o.frames / o.fps) * o.sampleRate);
  // At least one train speaker, and at least one val speaker whenever a val split is asked for and possible.
  let trainSpeakers = Math.max(1, Math.round(o.speakers * o.trainFraction));
  if (o.trainFraction < 1 && o.speakers >= 2) trainSpeakers = Math.min(trainSpeakers, o.speakers - 1);

  const speakers = Array.from({ length: o.speakers }, (_, s) => {
    const r = new Rng(o.seed, "speaker", s);
    return { index: s, voice: randomVoice(r), meanValence: r.uniform(-0.3, 0.5), rest: randomRestingFace(new Rng(o.seed, "speaker-rest", s)), split: s < trainSpeakers ? "train" : "val" };
  });
  const listeners = Array.from({ length: o.listeners }, (_, l) => ({
    index: l,
    style: randomStyle(new Rng(o.seed, "style", l)),
    rest: randomRestingFace(new Rng(o.seed, "listener-rest", l)),
    voice: randomVoice(new Rng(o.seed, "listener-voice", l)),
    id: `SYNTH/L${pad2(l + 1)}/listener`,
  }));
  const manifest: SynthManifest = {
    generator: "@perfrdiff/features synth",
    seed: o.seed,
    options: o,
    rules: LISTENING_RULES,
    speakers,
    listeners,
    splits: {},
  };
  const w = new ReactLayoutWriter(out);
  const total = o.speakers * o.clipsPerSpeaker * o.reactionsPerClip;
  let done = 0;
  const nextClipNo = new Map<string, number>();
  const trainFaces: FrameTrack[] = [];
  for (const split of ["train", "val"]) {
    const pairs: SynthManifest["splits"][string]["pairs"] = [];
    const contentOf: number[] = [];
    for (const sp of speakers.filter((x) => x.split === split)) {
      for (let k = 0; k < o.clipsPerSpeaker; k++) {
        const content = sp.index * o.clipsPerSpeaker + k;
        const clip = speakerClip(new Rng(o.seed, "clip", sp.index, k), sp.voice, sp.meanValence, o.frames, o.fps);
        const spFace = renderFace(clip.face, new Rng(o.seed, "clip-face", sp.index, k), sp.rest);
        const spWav = encodeWav(
          [synthesise(clip.events, sp.voice, o.sampleRate, samples, new Rng(o.seed, "clip-audio", sp.index, k))],
          o.sampleRate,
          "16",
        );
        const speakerPath = `SYNTH/S${pad2(sp.index + 1)}/speaker/${k + 1}`;
        await w.writeClip(split, speakerPath, { wav: spWav, emotion: spFace.emotion, threeDmm: spFace.threeDmm });
        if (split === "train") trainFaces.push(spFace.threeDmm);
        for (let r = 0; r < o.reactionsPerClip; r++) {
          const l = (content * o.reactionsPerClip + r) % o.listeners;
          const ln = listeners[l];
          const n = (nextClipNo.get(ln.id) ?? 0) + 1;
          nextClipNo.set(ln.id, n);
          const listenerPath = `${ln.id}/${n}`;
          const rr = new Rng(o.seed, "reaction", sp.index, k, l);
          const reaction = listenerReaction(rr, clip, ln.style);
          const lFace = renderFace(reaction.face, new Rng(o.seed, "reaction-face", sp.index, k, l), ln.rest);
          const lWav = encodeWav(
            [synthesise(reaction.events, ln.voice, o.sampleRate, samples, new Rng(o.seed, "reaction-audio", sp.index, k, l))],
            o.sampleRate,
            "16",
          );
          await w.writeClip(split, listenerPath, { wav: lWav, emotion: lFace.emotion, threeDmm: lFace.threeDmm });
          if (split === "train") trainFaces.push(lFace.threeDmm);
          pairs.push({ speaker: speakerPath, listener: listenerPath, speakerIndex: sp.index, clip: k, listenerIndex: l });
          contentOf.push(content);
          done++;
          options.onProgress?.(done, total);
        }
      }
    }
    if (pairs.length === 0) continue;
    await w.writeSplitList(split, pairs);
    const n = 2 * pairs.length;
    const nb = new Uint8Array(n * n);
    const N = pairs.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        // Same speaker clip => every reaction to it is appropriate (both halves of the mirrored list).
        if (i < N === j < N && contentOf[i % N] === contentOf[j % N]) nb[i * n + j] = 1;
      }
    }
    await w.writeNeighbours(split, nb, n);
    manifest.splits[split] = { pairs };
  }
  const stats = computeFaceStats(trainFaces);
  await w.writeFile("FaceVerse/mean_face.npy", serializeNpy({ data: stats.mean, shape: [FACE_DIM] }));
  await w.writeFile("FaceVerse/std_face.npy", serializeNpy({ data: stats.std, shape: [FACE_DIM] }));
  await w.writeFile("synth_meta.json", `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}
