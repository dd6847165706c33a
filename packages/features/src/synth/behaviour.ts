import { ARKIT_BLENDSHAPES, EMOTION_DIM, FACE_DIM, type FrameTrack } from "@perfrdiff/layout";
import type { Rng } from "./random";
import { VOWELS, type SoundEvent, type Voice } from "./voice";

/**
 * Per-listener style: the parameters that make one listener's reactions recognisably theirs (what PSSL/PWSG are
 * meant to learn). Ranges are those {@link randomStyle} draws from.
 */
export interface ListenerStyle {
  /** Gain on every facial reaction, 0.3..1.2. */
  expressiveness: number;
  /** closed: lips stay together when smiling; broad: lips part and cheeks raise (Duchenne); asymmetric: one-sided. */
  smileStyle: "closed" | "broad" | "asymmetric";
  /** Side of an asymmetric smile: +1 left, -1 right. */
  smileSide: 1 | -1;
  /** Reaction delay, seconds, 0.2..1.0. */
  latency: number;
  /** Gain on head motion (idle sway and nods), 0.2..1.5. */
  headMotion: number;
  /** Probability of nodding at a speaker pause, 0.3..0.95. */
  nodProbability: number;
  /** Probability of mirroring a speaker's brow raise (and half of it of raising brows at a pause), 0.1..0.7. */
  browRaiseProbability: number;
  /** How strongly valence follows the speaker's, 0.3..1.0. */
  empathy: number;
  /** Resting valence, -0.2..0.3. */
  baselineValence: number;
  /** Blinks per second, 0.15..0.5. */
  blinkRate: number;
  /** Probability of an audible "mm" backchannel with a nod, 0..0.5. */
  backchannelProbability: number;
}

export function randomStyle(rng: Rng): ListenerStyle {
  return {
    expressiveness: rng.uniform(0.3, 1.2),
    smileStyle: rng.pick(["closed", "broad", "asymmetric"] as const),
    smileSide: rng.bernoulli(0.5) ? 1 : -1,
    latency: rng.uniform(0.2, 1.0),
    headMotion: rng.uniform(0.2, 1.5),
    nodProbability: rng.uniform(0.3, 0.95),
    browRaiseProbability: rng.uniform(0.1, 0.7),
    empathy: rng.uniform(0.3, 1.0),
    baselineValence: rng.uniform(-0.2, 0.3),
    blinkRate: rng.uniform(0.15, 0.5),
    backchannelProbability: rng.uniform(0, 0.5),
  };
}

/**
 * What a person's face looks like at rest, whatever they do: a habitual head posture and a neutral expression that
 * is not quite zero. Every synthetic person (speaker or listener) has one, drawn by {@link randomRestingFace}; it is
 * added to their 3DMM coefficients (not to the emotion track), so the face tells people apart as real faces do.
 */
export interface RestingFace {
  /** Head posture: pitch, yaw, roll offsets, radians, each -0.12..0.12. */
  pose: [number, number, number];
  /** Head position: tx, ty offsets, -0.03..0.03. */
  position: [number, number];
  /** Neutral-expression blendshape weights, 0..0.2 each (brows raised or lowered, lips pressed, eyes narrowed). */
  expression: Partial<Record<"browInnerUp" | "browDownLeft" | "browDownRight" | "mouthPressLeft" | "mouthPressRight" | "eyeSquintLeft" | "eyeSquintRight", number>>;
}

export function randomRestingFace(rng: Rng): RestingFace {
  const a = () => rng.uniform(-0.12, 0.12);
  const browDown = rng.uniform(0, 0.2);
  const press = rng.uniform(0, 0.2);
  const squint = rng.uniform(0, 0.2);
  return {
    pose: [a(), a(), a()],
    position: [rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03)],
    expression: {
      browInnerUp: rng.uniform(0, 0.2),
      browDownLeft: browDown,
      browDownRight: browDown,
      mouthPressLeft: press,
      mouthPressRight: press,
      eyeSquintLeft: squint,
      eyeSquintRight: squint,
    },
  };
}

/** Frame-level drivers of a face, each `[frames]`, from which the emotion and 3DMM tracks are rendered. */
export interface FaceDrivers {
  smile: Float64Array;
  /** -1..1, positive = left side stronger */
  smileAsym: Float64Array;
  mouthOpen: Float64Array;
  jaw: Float64Array;
  brow: Float64Array;
  browDown: Float64Array;
  blink: Float64Array;
  pitch: Float64Array;
  yaw: Float64Array;
  roll: Float64Array;
  tx: Float64Array;
  ty: Float64Array;
  tz: Float64Array;
  valence: Float64Array;
  arousal: Float64Array;
  /** vowel articulation while talking: rounding (funnel/pucker) */
  rounding: Float64Array;
}

function drivers(frames: number): FaceDrivers {
  const z = () => new Float64Array(frames);
  return {
    smile: z(), smileAsym: z(), mouthOpen: z(), jaw: z(), brow: z(), browDown: z(), blink: z(), pitch: z(), yaw: z(),
    roll: z(), tx: z(), ty: z(), tz: z(), valence: z(), arousal: z(), rounding: z(),
  };
}

/** Ornstein-Uhlenbeck noise with time constant `tau` frames and stationary std `sigma`. */
function ou(rng: Rng, frames: number, tau: number, sigma: number): Float64Array {
  const out = new Float64Array(frames);
  const a = Math.exp(-1 / tau);
  const b = sigma * Math.sqrt(1 - a * a);
  let x = sigma * rng.normal();
  for (let t = 0; t < frames; t++) {
    x = a * x + b * rng.normal();
    out[t] = x;
  }
  return out;
}

/** x delayed by d frames (the first d frames hold x[0]) and low-passed with time constant tau frames. */
function delayLowpass(x: Float64Array, d: number, tau: number): Float64Array {
  const out = new Float64Array(x.length);
  const a = tau > 0 ? Math.exp(-1 / tau) : 0;
  let y = x[0] ?? 0;
  for (let t = 0; t < x.length; t++) {
    const v = x[Math.max(0, t - d)];
    y = a * y + (1 - a) * v;
    out[t] = y;
  }
  return out;
}

/** Adds a raised-cosine bump of `height` from frame `start` lasting `len` frames (attack, hold, release). */
function bump(x: Float64Array, start: number, len: number, height: number): void {
  const ramp = Math.max(1, Math.round(len / 4));
  for (let i = 0; i < len; i++) {
    const t = start + i;
    if (t < 0 || t >= x.length) continue;
    const a = Math.min(1, i / ramp, (len - 1 - i) / ramp);
    x[t] = Math.max(x[t], height * (0.5 - 0.5 * Math.cos(Math.PI * Math.max(0, a))));
  }
}

function blinks(rng: Rng, d: FaceDrivers, rate: number, fps: number): void {
  const frames = d.blink.length;
  for (let t = 0; t < frames; t++) {
    if (rng.bernoulli(rate / fps)) {
      const shape = [0.5, 1, 1, 0.6, 0.2];
      for (let k = 0; k < shape.length && t + k < frames; k++) d.blink[t + k] = Math.max(d.blink[t + k], shape[k]);
      t += shape.length;
    }
  }
}

/** What a speaker does in one clip: speech, pauses and expressions over time. */
export interface SpeakerClip {
  frames: number;
  fps: number;
  /** syllables, fricatives (seconds) for the audio */
  events: SoundEvent[];
  /** frames where a phrase of at least 1 s has just ended: the listener's cue for nods */
  pauseOnsets: number[];
  /** frames where the speaker raises the brows (emphasis at phrase starts) */
  browEvents: number[];
  face: FaceDrivers;
}

/**
 * A speaker's clip: phrases of 1-3.5 s separated by 0.3-1.2 s pauses, syllables at the voice's rate (20% are
 * fricatives), loudness driving mouth and jaw; a slowly wandering valence (around the speaker's own mean) and arousal
 * following loudness; smiles as Poisson events whose rate grows with valence; brow raises at 35% of phrase starts;
 * small head motion with a nod at phrase ends; blinks at 0.3/s.
 */
export function speakerClip(rng: Rng, voice: Voice, meanValence: number, frames: number, fps: number): SpeakerClip {
  const seconds = frames / fps;
  const d = drivers(frames);
  const events: SoundEvent[] = [];
  const pauseOnsets: number[] = [];
  const browEvents: number[] = [];
  const loud = new Float64Array(frames);
  const rounding = new Float64Array(frames);
  let t = rng.uniform(0.1, 0.6);
  while (t < seconds) {
    const phraseEnd = Math.min(seconds, t + rng.uniform(1, 3.5));
    const phraseStart = t;
    if (rng.bernoulli(0.35)) browEvents.push(Math.round(t * fps));
    while (t < phraseEnd) {
      const dur = Math.min(phraseEnd - t, (1 / voice.rate) * rng.uniform(0.7, 1.3));
      const fric = rng.bernoulli(0.2);
      const vowel = rng.int(0, VOWELS.length - 1);
      const amp = rng.uniform(0.6, 1);
      events.push({ kind: fric ? "fricative" : "vowel", start: t, end: t + dur, vowel, amp });
      const f0 = Math.floor(t * fps);
      const f1 = Math.min(frames, Math.ceil((t + dur) * fps));
      for (let f = f0; f < f1; f++) {
        const u = (f / fps - t) / dur;
        loud[f] = Math.max(loud[f], (fric ? 0.3 : amp) * Math.sin(Math.PI * Math.min(1, Math.max(0, u))));
        if (!fric && (vowel === 2 || vowel === 4)) rounding[f] = Math.max(rounding[f], 0.5 * amp);
      }
      t += dur;
    }
    if (phraseEnd - phraseStart >= 1 && phraseEnd < seconds) pauseOnsets.push(Math.round(phraseEnd * fps));
    t = phraseEnd + rng.uniform(0.3, 1.2);
  }
  const val = ou(rng, frames, 5 * fps, 0.25);
  const aro = ou(rng, frames, 3 * fps, 0.15);
  const loudSmooth = delayLowpass(loud, 0, fps);
  for (let f = 0; f < frames; f++) {
    d.valence[f] = Math.max(-1, Math.min(1, meanValence + val[f]));
    d.arousal[f] = Math.max(-1, Math.min(1, -0.1 + 0.8 * loudSmooth[f] + aro[f]));
    d.mouthOpen[f] = 0.8 * loud[f];
    d.jaw[f] = 0.6 * loud[f];
    d.rounding[f] = rounding[f];
    d.browDown[f] = d.valence[f] < -0.35 ? Math.min(1, 2 * (-0.35 - d.valence[f]) + 0.4) : 0;
  }
  // Smiles: Poisson events, more frequent when valence is high.
  for (let f = 0; f < frames; f++) {
    const rate = 0.05 + 0.25 * Math.max(0, d.valence[f]);
    if (rng.bernoulli(rate / fps)) {
      const len = Math.round(rng.uniform(1, 3) * fps);
      bump(d.smile, f, len, rng.uniform(0.5, 1));
      f += len;
    }
  }
  for (const b of browEvents) bump(d.brow, b, Math.round(rng.uniform(0.5, 1) * fps), rng.uniform(0.6, 1));
  const sway = ou(rng, frames, fps, 0.03);
  const yaw = ou(rng, frames, 2 * fps, 0.05);
  const roll = ou(rng, frames, 2 * fps, 0.02);
  for (let f = 0; f < frames; f++) {
    d.pitch[f] = sway[f] + 0.04 * loud[f];
    d.yaw[f] = yaw[f];
    d.roll[f] = roll[f];
    d.tz[f] = 10;
  }
  for (const p of pauseOnsets) nod(d.pitch, p - Math.round(0.2 * fps), fps, 0.04, 1);
  blinks(rng, d, 0.3, fps);
  return { frames, fps, events, pauseOnsets, browEvents, face: d };
}

/** Adds a nod (pitch down-up at 2 Hz, `cycles` cycles) of amplitude `amp` radians at frame `start`. */
function nod(pitch: Float64Array, start: number, fps: number, amp: number, cycles: number): void {
  const len = Math.round((cycles / 2) * fps);
  for (let i = 0; i < len; i++) {
    const t = start + i;
    if (t < 0 || t >= pitch.length) continue;
    const w = Math.sin((Math.PI * i) / len);
    pitch[t] += amp * w * Math.sin((2 * Math.PI * 2 * i) / fps);
  }
}

/** A listener's reaction to one speaker clip. */
export interface ListenerReaction {
  face: FaceDrivers;
  /** "mm" backchannels (seconds) for the listener's own audio */
  events: SoundEvent[];
  nods: number[];
}

/**
 * The listening rules. Given the speaker's clip and the listener's style, the listener:
 * 1. mimics smiles: smile = expressiveness x the speaker's smile delayed by `latency` and low-passed (0.3 s), plus
 *    small spontaneous variation; the smile's shape follows `smileStyle`;
 * 2. nods at pauses: at each speaker pause after a phrase of >= 1 s, with probability `nodProbability`, a 1-2 cycle
 *    nod of 0.05 x headMotion rad, `latency` after the pause onset (+-0.1 s jitter); with probability
 *    `backchannelProbability` the nod comes with an audible "mm";
 * 3. raises the brows: mirrors each speaker brow raise with probability `browRaiseProbability` (after `latency`), and
 *    raises them at a pause with half that probability;
 * 4. follows the speaker's valence: baselineValence + empathy x the speaker's valence delayed by 2 x latency and
 *    low-passed (1 s); arousal follows the speaker's with gain 0.5 x expressiveness;
 * 5. moves the head idly (sway of std 0.02 x headMotion) and blinks at `blinkRate`.
 * Everything random (nod choices, jitter, spontaneous variation, blinks) comes from `rng`, so two reactions of one
 * listener to one clip differ while keeping the listener's style.
 */
export function listenerReaction(rng: Rng, sp: SpeakerClip, style: ListenerStyle): ListenerReaction {
  const { frames, fps } = sp;
  const d = drivers(frames);
  const lat = Math.round(style.latency * fps);
  const e = style.expressiveness;
  const smile = delayLowpass(sp.face.smile, lat, 0.3 * fps);
  const spont = ou(rng, frames, 2 * fps, 0.08);
  const valence = delayLowpass(sp.face.valence, 2 * lat, fps);
  const arousal = delayLowpass(sp.face.arousal, lat, fps);
  const vNoise = ou(rng, frames, 3 * fps, 0.05);
  const sway = ou(rng, frames, fps, 0.02 * style.headMotion);
  const yaw = ou(rng, frames, 2 * fps, 0.03 * style.headMotion);
  const roll = ou(rng, frames, 2 * fps, 0.015 * style.headMotion);
  const tx = ou(rng, frames, 3 * fps, 0.01 * style.headMotion);
  const ty = ou(rng, frames, 3 * fps, 0.01 * style.headMotion);
  for (let f = 0; f < frames; f++) {
    const s = Math.max(0, Math.min(1, e * smile[f] + e * spont[f]));
    d.smile[f] = s;
    d.smileAsym[f] = style.smileStyle === "asymmetric" ? 0.6 * style.smileSide : 0;
    d.mouthOpen[f] = style.smileStyle === "broad" ? 0.5 * s : 0;
    d.jaw[f] = style.smileStyle === "broad" ? 0.2 * s : 0;
    d.valence[f] = Math.max(-1, Math.min(1, style.baselineValence + style.empathy * valence[f] + vNoise[f]));
    d.arousal[f] = Math.max(-1, Math.min(1, -0.2 + 0.5 * e * arousal[f] + 0.5 * vNoise[f]));
    d.browDown[f] = d.valence[f] < -0.35 ? e * 0.6 : 0;
    d.pitch[f] = sway[f];
    d.yaw[f] = yaw[f];
    d.roll[f] = roll[f];
    d.tx[f] = tx[f];
    d.ty[f] = ty[f];
    d.tz[f] = 10;
  }
  const nods: number[] = [];
  const events: SoundEvent[] = [];
  for (const p of sp.pauseOnsets) {
    if (rng.bernoulli(style.nodProbability)) {
      const start = p + lat + Math.round(rng.uniform(-0.1, 0.1) * fps);
      nod(d.pitch, start, fps, 0.05 * style.headMotion, rng.bernoulli(0.5) ? 1 : 2);
      nods.push(start);
      if (rng.bernoulli(style.backchannelProbability)) {
        events.push({ kind: "murmur", start: start / fps, end: start / fps + rng.uniform(0.25, 0.45), vowel: 0, amp: 0.6 });
      }
    }
    if (rng.bernoulli(style.browRaiseProbability / 2)) bump(d.brow, p + lat, Math.round(0.6 * fps), 0.8 * e + 0.2);
  }
  for (const b of sp.browEvents) {
    if (rng.bernoulli(style.browRaiseProbability)) bump(d.brow, b + lat, Math.round(0.7 * fps), 0.8 * e + 0.2);
  }
  blinks(rng, d, style.blinkRate, fps);
  return { face: d, events, nods };
}

const clamp01 = (x: number) => Math.max(0, Math.min(1, x));
const BS = Object.fromEntries(ARKIT_BLENDSHAPES.map((n, i) => [n, i])) as Record<(typeof ARKIT_BLENDSHAPES)[number], number>;

/**
 * Renders face drivers into the REACT per-frame files: emotion `[frames, 25]` (AU occurrences by thresholds on the
 * drivers, e.g. AU12 = smile > 0.35; valence/arousal; a softmax over expression scores) and FaceVerse-like
 * coefficients `[frames, 58]` (ARKit-named blendshape weights in 0..1, Euler angles in radians, translation), with
 * the person's resting face added to the coefficients when given.
 */
export function renderFace(d: FaceDrivers, rng: Rng, rest?: RestingFace): { emotion: FrameTrack; threeDmm: FrameTrack } {
  const frames = d.smile.length;
  const emo = new Float32Array(frames * EMOTION_DIM);
  const fv = new Float32Array(frames * FACE_DIM);
  for (let f = 0; f < frames; f++) {
    const s = d.smile[f];
    const asym = d.smileAsym[f];
    const v = d.valence[f];
    const duchenne = s * (1 + 0.5 * d.mouthOpen[f]);
    const au = [
      d.brow[f] > 0.4, // AU1
      d.brow[f] > 0.5, // AU2
      d.browDown[f] > 0.4, // AU4
      duchenne > 0.55, // AU6
      s > 0.8 || d.browDown[f] > 0.6, // AU7
      d.browDown[f] > 0.8, // AU9
      s > 0.7 && d.mouthOpen[f] > 0.2, // AU10
      s > 0.35, // AU12
      Math.abs(asym) * s > 0.25, // AU14
      v < -0.4, // AU15
      v < -0.3 && d.mouthOpen[f] < 0.1, // AU17
      d.browDown[f] > 0.5, // AU23
      d.mouthOpen[f] < 0.05 && d.browDown[f] > 0.3, // AU24
      d.mouthOpen[f] > 0.15, // AU25
      d.jaw[f] > 0.35, // AU26
    ];
    const o = f * EMOTION_DIM;
    for (let k = 0; k < 15; k++) emo[o + k] = au[k] ? 1 : 0;
    emo[o + 15] = v;
    emo[o + 16] = d.arousal[f];
    const pos = Math.max(0, v);
    const neg = Math.max(0, -v);
    const scores = [
      1.2 - 2 * s - 1.5 * d.brow[f], // Neutral
      3 * s + 1.5 * pos - 0.5, // Happy
      2.5 * neg - s - 0.8, // Sad
      2.5 * d.brow[f] - 1, // Surprise
      1.5 * d.brow[f] * neg - 1.5, // Fear
      2 * d.browDown[f] * neg - 1.5, // Disgust
      2 * d.browDown[f] - 1.8, // Anger
      2.5 * Math.abs(asym) * s - 1.5, // Contempt
    ];
    const mx = Math.max(...scores);
    const ex = scores.map((x) => Math.exp(2 * (x - mx)));
    const z = ex.reduce((a, b) => a + b, 0);
    for (let k = 0; k < 8; k++) emo[o + 17 + k] = ex[k] / z;

    const b = f * FACE_DIM;
    const set = (name: keyof typeof BS, x: number) => {
      fv[b + BS[name]] = clamp01(x + (rest?.expression[name as keyof RestingFace["expression"]] ?? 0) + 0.01 * rng.normal());
    };
    for (const n of ARKIT_BLENDSHAPES) set(n, 0);
    set("eyeBlinkLeft", d.blink[f]);
    set("eyeBlinkRight", d.blink[f]);
    set("eyeSquintLeft", 0.5 * duchenne);
    set("eyeSquintRight", 0.5 * duchenne);
    set("eyeWideLeft", 0.4 * d.brow[f]);
    set("eyeWideRight", 0.4 * d.brow[f]);
    set("jawOpen", d.jaw[f]);
    set("mouthFunnel", 0.6 * d.rounding[f]);
    set("mouthPucker", 0.4 * d.rounding[f]);
    set("mouthSmileLeft", s * (1 + asym) / (1 + Math.abs(asym)));
    set("mouthSmileRight", s * (1 - asym) / (1 + Math.abs(asym)));
    set("mouthFrownLeft", 0.5 * neg);
    set("mouthFrownRight", 0.5 * neg);
    set("mouthDimpleLeft", 0.4 * s * Math.max(0, asym));
    set("mouthDimpleRight", 0.4 * s * Math.max(0, -asym));
    set("mouthPressLeft", d.mouthOpen[f] < 0.05 ? 0.4 * d.browDown[f] : 0);
    set("mouthPressRight", d.mouthOpen[f] < 0.05 ? 0.4 * d.browDown[f] : 0);
    set("mouthLowerDownLeft", 0.5 * d.mouthOpen[f]);
    set("mouthLowerDownRight", 0.5 * d.mouthOpen[f]);
    set("mouthUpperUpLeft", 0.3 * s * d.mouthOpen[f]);
    set("mouthUpperUpRight", 0.3 * s * d.mouthOpen[f]);
    set("browDownLeft", d.browDown[f]);
    set("browDownRight", d.browDown[f]);
    set("browInnerUp", d.brow[f]);
    set("browOuterUpLeft", 0.8 * d.brow[f]);
    set("browOuterUpRight", 0.8 * d.brow[f]);
    set("cheekSquintLeft", 0.5 * duchenne);
    set("cheekSquintRight", 0.5 * duchenne);
    set("noseSneerLeft", 0.3 * d.browDown[f]);
    set("noseSneerRight", 0.3 * d.browDown[f]);
    fv[b + 52] = d.pitch[f] + (rest?.pose[0] ?? 0);
    fv[b + 53] = d.yaw[f] + (rest?.pose[1] ?? 0);
    fv[b + 54] = d.roll[f] + (rest?.pose[2] ?? 0);
    fv[b + 55] = d.tx[f] + (rest?.position[0] ?? 0);
    fv[b + 56] = d.ty[f] + (rest?.position[1] ?? 0);
    fv[b + 57] = d.tz[f];
  }
  return { emotion: { frames, dim: EMOTION_DIM, data: emo }, threeDmm: { frames, dim: FACE_DIM, data: fv } };
}
