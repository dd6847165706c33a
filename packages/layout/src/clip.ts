/** Video frame rate of every REACT track (emotion, 3DMM, and the audio features aligned to it). */
export const REACT_FPS = 25;
/**
 * Frames of a clip as the official loaders use it (`clip_length`): the dataset's files hold 751 frames (30 s at
 * 25 fps, both ends included) and the loaders cut them to 750, a whole number of the model's 50-frame windows.
 */
export const REACT_CLIP_FRAMES = 750;
/**
 * Audio feature values per video frame: at 25 fps each frame's samples give 2 Kaldi MFCC frames of 13 coefficients
 * (c0 = log energy), with deltas and delta-deltas: 2 x 13 x 3 = 78 (the official `extract_audio_features`).
 */
export const AUDIO_DIM = 78;

/** Per-frame values of one clip, row-major `[frames, dim]`. */
export interface FrameTrack {
  frames: number;
  dim: number;
  data: Float32Array;
}

/**
 * One item of a split in memory, as training and evaluation read it: a speaker clip's tracks and the listener clip
 * recorded with it, all `[frames, dim]` of one clip length (3DMM normalised), and the listener's identity.
 */
export interface CorpusItem {
  speakerAudio: FrameTrack; // [T, 78]
  speakerEmotion: FrameTrack; // [T, 25]
  speaker3dmm: FrameTrack; // [T, 58]
  listenerEmotion: FrameTrack; // [T, 25]
  listener3dmm: FrameTrack; // [T, 58]
  /** `site/session/person` of the listener */
  listenerId: string;
}
