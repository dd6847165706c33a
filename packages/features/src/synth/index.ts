// @perfrdiff/features/synth: the synthetic dyadic corpus (speakers, listeners with styles, REACT layout on disk).
export { generateSynthCorpus, LISTENING_RULES } from "./corpus";
export type { SynthManifest, SynthOptions } from "./corpus";
export { listenerReaction, randomRestingFace, randomStyle, renderFace, speakerClip } from "./behaviour";
export type { FaceDrivers, ListenerReaction, ListenerStyle, RestingFace, SpeakerClip } from "./behaviour";
export { randomVoice, synthesise, VOWELS } from "./voice";
export type { SoundEvent, Voice } from "./voice";
export { Rng } from "./random";
export { measureListenerStyle } from "./measure";
export type { MeasuredStyle } from "./measure";
