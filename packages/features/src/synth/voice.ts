import type { Rng } from "./random";

/** A synthetic voice: source and vocal-tract parameters of formant synthesis. */
export interface Voice {
  /** Mean pitch, Hz. */
  f0: number;
  /** Formant frequencies are scaled by this (vocal tract length: ~1 adult male, ~1.15 adult female). */
  formantScale: number;
  /** Syllables per second. */
  rate: number;
  /** Aspiration noise relative to voicing. */
  breathiness: number;
}

/** A stretch of sound: a voiced syllable (vowel index into VOWELS), a fricative, or a nasal murmur ("mm"). */
export interface SoundEvent {
  kind: "vowel" | "fricative" | "murmur";
  start: number;
  end: number;
  /** index into VOWELS for vowels */
  vowel: number;
  amp: number;
}

/** F1, F2, F3 (Hz) of five vowels (Peterson & Barney averages, adult male): /a/, /i/, /u/, /e/, /o/. */
export const VOWELS: readonly (readonly [number, number, number])[] = [
  [730, 1090, 2440],
  [270, 2290, 3010],
  [300, 870, 2240],
  [530, 1840, 2480],
  [570, 840, 2410],
];
const BANDWIDTHS = [80, 100, 130];

/**
 * Formant synthesis of a list of events into `[samples]` at `sampleRate`: a glottal pulse train with a slowly moving
 * pitch (declining over each event, as in phrase declination) plus aspiration noise, through three cascaded two-pole
 * resonators at the vowel's formants; fricatives are differentiated white noise; murmurs are a low-passed voiced hum
 * with a single 250 Hz formant. Each event gets raised-cosine onsets/offsets of 15 ms.
 */
export function synthesise(events: readonly SoundEvent[], voice: Voice, sampleRate: number, samples: number, rng: Rng): Float64Array {
  const out = new Float64Array(samples);
  const sr = sampleRate;
  for (const ev of events) {
    const s0 = Math.max(0, Math.round(ev.start * sr));
    const s1 = Math.min(samples, Math.round(ev.end * sr));
    if (s1 <= s0) continue;
    const n = s1 - s0;
    const ramp = Math.max(1, Math.round(0.015 * sr));
    const env = (i: number) => {
      const a = Math.min(1, i / ramp, (n - 1 - i) / ramp);
      return ev.amp * (0.5 - 0.5 * Math.cos(Math.PI * Math.max(0, a)));
    };
    if (ev.kind === "fricative") {
      let prev = 0;
      for (let i = 0; i < n; i++) {
        const w = rng.normal();
        out[s0 + i] += 0.25 * (w - prev) * env(i);
        prev = w;
      }
      continue;
    }
    const formants = ev.kind === "murmur" ? [250] : VOWELS[ev.vowel].map((f) => f * voice.formantScale);
    const res = formants
      .map((f, k) => ({ f, bw: ev.kind === "murmur" ? 60 : BANDWIDTHS[k] }))
      .filter(({ f }) => f < sr / 2 - 200)
      .map(({ f, bw }) => {
        const r = Math.exp((-Math.PI * bw) / sr);
        return { a1: -2 * r * Math.cos((2 * Math.PI * f) / sr), a2: r * r, g: 1 - r, y1: 0, y2: 0 };
      });
    let phase = rng.next();
    let glottal = 0;
    const decay = Math.exp(-1 / (0.0008 * sr));
    for (let i = 0; i < n; i++) {
      const f0 = voice.f0 * (1.1 - 0.2 * (i / n)) * (1 + 0.02 * Math.sin((2 * Math.PI * 5 * (s0 + i)) / sr));
      phase += f0 / sr;
      if (phase >= 1) {
        phase -= 1;
        glottal += 1;
      }
      glottal *= decay;
      let x = glottal + voice.breathiness * 0.3 * rng.normal();
      for (const rz of res) {
        const y = rz.g * x - rz.a1 * rz.y1 - rz.a2 * rz.y2;
        rz.y2 = rz.y1;
        rz.y1 = y;
        x = y;
      }
      out[s0 + i] += x * env(i) * (ev.kind === "murmur" ? 0.5 : 1);
    }
  }
  let peak = 0;
  for (let i = 0; i < samples; i++) peak = Math.max(peak, Math.abs(out[i]));
  const gain = peak > 0 ? 0.5 / peak : 0;
  // A faint noise floor keeps silences from being digital zero, as in real recordings.
  for (let i = 0; i < samples; i++) out[i] = out[i] * gain + 3e-4 * rng.normal();
  return out;
}

export function randomVoice(rng: Rng): Voice {
  const female = rng.bernoulli(0.5);
  return {
    f0: female ? rng.uniform(170, 240) : rng.uniform(95, 150),
    formantScale: female ? rng.uniform(1.1, 1.2) : rng.uniform(0.95, 1.05),
    rate: rng.uniform(3.5, 5.5),
    breathiness: rng.uniform(0.02, 0.15),
  };
}
