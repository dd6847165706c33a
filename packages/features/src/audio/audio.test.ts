import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseNpy } from "@perfrdiff/npy";
import { PowerSpectrum } from "./fft";
import { computeDeltas, kaldiMfcc } from "./kaldi";
import { mfcc } from "./mfcc";
import { extractReactAudioFeatures, reactAudioDim, StreamingReactAudio } from "./react-audio";
import { resample } from "./resample";
import { decodeWav, encodeWav, toMono } from "./wav";

const FIX = join(__dirname, "..", "..", "test", "fixtures", "audio");
const FILES: [string, number, number][] = [
  ["speech44k_16", 44100, 35],
  ["speech16k_24", 16000, 25],
  ["speech22k_8", 22050, 18],
  ["speech48k_f32st", 48000, 15],
  ["speech8k_32", 8000, 23],
];

function loadWav(name: string) {
  return decodeWav(readFileSync(join(FIX, `${name}.wav`)), name);
}
function ref(file: string): { shape: number[]; data: Float32Array } {
  const a = parseNpy(readFileSync(join(FIX, file)));
  return { shape: a.shape, data: a.data as Float32Array };
}

/**
 * Parity measure against torchaudio (which computes in float32): |ours - ref| / max(|ref|, unit). The features are
 * DCTs of log energies, so a coefficient can be near zero by cancellation (and the delta-deltas are exactly 0 when a
 * slice has two MFCC frames); the floor is one unit of the log scale: 1 for natural-log features (Kaldi), 10/ln 10 =
 * 4.34 for decibel features (torchaudio.transforms.MFCC). Measured (2026-11): at most 2.6e-4 for the Kaldi and 78-d
 * features, 2.8e-4 for the standard MFCC; absolute errors at most 4.5e-4 on values of order 10.
 */
function maxRelErr(ours: ArrayLike<number>, reference: ArrayLike<number>, unit = 1): number {
  expect(ours.length).toBe(reference.length);
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    const e = Math.abs(ours[i] - reference[i]) / Math.max(Math.abs(reference[i]), unit);
    if (!(e <= worst)) worst = e; // NaN propagates as a failure
  }
  return worst;
}

describe("FFT power spectrum", () => {
  for (const n of [8, 400, 512, 1102]) {
    it(`matches a direct DFT for n = ${n}`, () => {
      const x = Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * i * 0.01));
      const p = new PowerSpectrum(n).compute(x);
      for (const k of [0, 1, Math.floor(n / 3), Math.floor(n / 2)]) {
        let re = 0;
        let im = 0;
        for (let t = 0; t < n; t++) {
          re += x[t] * Math.cos((2 * Math.PI * k * t) / n);
          im -= x[t] * Math.sin((2 * Math.PI * k * t) / n);
        }
        expect(p[k]).toBeCloseTo(re * re + im * im, 6);
      }
    });
  }
});

describe("WAV decoding", () => {
  it("scales every format as libsndfile does and round-trips through encodeWav", () => {
    const x = [0, 0.5, -0.5, 0.25, -1, 0.9];
    for (const [bits, step] of [["8", 2 ** -7], ["16", 2 ** -15], ["24", 2 ** -23], ["32", 2 ** -31], ["32f", 1e-7]] as const) {
      const d = decodeWav(encodeWav([x, x.map((v) => v / 2)], 22050, bits));
      expect(d.sampleRate).toBe(22050);
      expect(d.bitDepth).toBe(bits);
      expect(d.channels.length).toBe(2);
      for (let i = 0; i < x.length; i++) {
        expect(Math.abs(d.channels[0][i] - x[i])).toBeLessThanOrEqual(step / 2);
        expect(Math.abs(d.channels[1][i] - x[i] / 2)).toBeLessThanOrEqual(step / 2);
      }
      const mono = toMono(d);
      for (let i = 0; i < x.length; i++) expect(Math.abs(mono[i] - 0.75 * x[i])).toBeLessThanOrEqual(step);
    }
  });

  it("decodes exact 8-bit unsigned and 24-bit values", () => {
    const d8 = decodeWav(encodeWav([[0, -1, 127 / 128]], 8000, "8"));
    expect(Array.from(d8.channels[0])).toEqual([0, -1, 127 / 128]);
    const d24 = decodeWav(encodeWav([[0.5, -(2 ** -23)]], 8000, "24"));
    expect(Array.from(d24.channels[0])).toEqual([0.5, -(2 ** -23)]);
  });

  it("names the source of bad files", () => {
    expect(() => decodeWav(new TextEncoder().encode("not a wav at all, sorry"), "x.wav")).toThrow(/x\.wav: not a readable WAV/);
  });

  it("refuses a header that declares 96,616 channels before making them", () => {
    const bytes = encodeWav([new Float64Array(64)], 16000, "16").slice();
    new DataView(bytes.buffer).setUint16(22, 96_616 & 0xffff, true); // numChannels sits at byte 22 of the canonical header
    const t = performance.now();
    expect(() => decodeWav(bytes, "many.wav")).toThrow(`many.wav: the WAV header declares ${96_616 & 0xffff} channels (expected 1 to 64; a corrupt header?)`);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it("says when a file is cut off, and refuses it when asked for a complete file", () => {
    const whole = encodeWav([Float64Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) / 2)], 8000, "16");
    expect(decodeWav(whole).truncated).toBeNull();
    const cut = whole.subarray(0, 44 + 600); // the 44-byte header and 300 of the 1000 samples
    const d = decodeWav(cut, "cut.wav");
    expect(d.truncated).toEqual({ declaredBytes: 2000, presentBytes: 600 });
    expect(d.channels[0].length).toBe(300);
    expect(() => decodeWav(cut, "cut.wav", { complete: true })).toThrow("cut.wav: the WAV file is cut off: its data chunk declares 2000 bytes, the file holds 600");
  });
});

const haveRefs = existsSync(join(FIX, "speech44k_16.react78.npy"));

describe.runIf(haveRefs)("parity with torchaudio (fixtures from test/make_audio_fixtures.py)", () => {
  for (const [name, sr, nFrames] of FILES) {
    it(`${name}: official 78-d per-video-frame features`, () => {
      const wav = loadWav(name);
      expect(wav.sampleRate).toBe(sr);
      const feats = extractReactAudioFeatures(toMono(wav), sr, 25, nFrames);
      const r = ref(`${name}.react78.npy`);
      expect(r.shape).toEqual([nFrames, 78]);
      expect(feats.dim).toBe(78);
      expect(feats.frames).toBe(nFrames);
      expect(maxRelErr(feats.data, r.data)).toBeLessThan(1e-3);
    });

    it(`${name}: Kaldi MFCC and deltas of the whole signal`, () => {
      const mono = toMono(loadWav(name));
      const k = kaldiMfcc(mono, { sampleFrequency: sr });
      const r = ref(`${name}.kaldi.npy`);
      expect([k.rows, k.cols]).toEqual(r.shape);
      expect(maxRelErr(k.data, r.data)).toBeLessThan(1e-3);
      const d = computeDeltas(k);
      expect(maxRelErr(d.data, ref(`${name}.deltas.npy`).data)).toBeLessThan(1e-3);
    });
  }

  it("standard MFCC (torchaudio.transforms.MFCC defaults and a log-mel variant)", () => {
    const mono = toMono(loadWav("speech16k_24"));
    const m = mfcc(mono, { sampleRate: 16000 });
    const r = ref("speech16k_24.mfcc.npy");
    expect([m.rows, m.cols]).toEqual(r.shape);
    expect(maxRelErr(m.data, r.data, 10 / Math.LN10)).toBeLessThan(1e-3);
    const m2 = mfcc(mono, { sampleRate: 16000, nMfcc: 13, logMels: true, nFft: 512, hopLength: 160, nMels: 40 });
    const r2 = ref("speech16k_24.mfcc_log.npy");
    expect([m2.rows, m2.cols]).toEqual(r2.shape);
    expect(maxRelErr(m2.data, r2.data)).toBeLessThan(1e-3);
  });

  it("resampling as torchaudio.functional.resample", () => {
    // Waveform samples are O(0.1): compare absolutely against the signal's full scale.
    for (const [name, from, to, file] of [
      ["speech44k_16", 44100, 16000, "speech44k_16.resample16k.npy"],
      ["speech16k_24", 16000, 22050, "speech16k_24.resample22k.npy"],
    ] as const) {
      const y = resample(toMono(loadWav(name)), from, to);
      const r = ref(file);
      expect(y.length).toBe(r.shape[0]);
      let worst = 0;
      for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(y[i] - r.data[i]));
      expect(worst).toBeLessThan(1e-5);
    }
  });
});

describe("REACT audio features: invariants", () => {
  it("has 78 dims at 25 fps for the usual rates", () => {
    for (const sr of [8000, 16000, 22050, 44100, 48000]) expect(reactAudioDim(sr, 25)).toBe(78);
  });

  it("pads silence: a zero slice has log energy floored at 0 and zero deltas", () => {
    const f = extractReactAudioFeatures(new Float64Array(1764), 44100, 25, 3);
    expect(f.frames).toBe(3);
    const last = f.data.subarray(2 * 78, 3 * 78);
    expect(last[0]).toBe(0); // c0 = log energy, floored at log(1)
    for (let i = 26; i < 78; i++) expect(Math.abs(last[i])).toBeLessThan(1e-9);
  });

  it("streams chunk by chunk exactly as offline", () => {
    const sr = 16000;
    const x = Float64Array.from({ length: 640 * 7 + 123 }, (_, i) => Math.sin(i * 0.05) * Math.exp(-((i % 900) / 300)));
    const offline = extractReactAudioFeatures(x, sr, 25);
    expect(offline.frames).toBe(8);
    const s = new StreamingReactAudio(sr, 25);
    const parts: Float32Array[] = [];
    let pos = 0;
    for (const n of [1, 700, 3, 1500, 640, 999]) {
      parts.push(s.push(x.subarray(pos, pos + n)).data);
      pos += n;
    }
    parts.push(s.push(x.subarray(pos)).data);
    parts.push(s.flush().data);
    const online = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      online.set(p, o);
      o += p.length;
    }
    expect(Array.from(online)).toEqual(Array.from(offline.data));
    expect(s.framesEmitted).toBe(8);
  });

  it("flush(totalFrames) pads with silence exactly like the offline padding", () => {
    const sr = 8000;
    const x = Float64Array.from({ length: 320 * 3 + 50 }, (_, i) => 0.2 * Math.sin(i * 0.3));
    const offline = extractReactAudioFeatures(x, sr, 25, 6);
    const s = new StreamingReactAudio(sr, 25);
    const a = s.push(x);
    const b = s.flush(6);
    expect(a.frames + b.frames).toBe(6);
    expect([...a.data, ...b.data]).toEqual(Array.from(offline.data));
    expect(new StreamingReactAudio(sr, 25).flush(0).frames).toBe(0);
  });

  it("rejects NaN samples", () => {
    const x = new Float64Array(640);
    x[10] = Number.NaN;
    expect(() => extractReactAudioFeatures(x, 16000, 25, 1)).toThrow(/sample 10 is NaN/);
  });
});
