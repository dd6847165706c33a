/**
 * The REACT 25-d per-frame emotion layout and the FRdist groups, as the official metric code defines them.
 */

/** Values per frame: 15 AU occurrences, valence, arousal, 8 expression probabilities. */
export const EMOTION_DIMS = 25;

/** Column names of the 25 emotion dimensions, in the official order. */
export const EMOTION_NAMES: readonly string[] = [
  "AU1", "AU2", "AU4", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU17", "AU23", "AU24", "AU25", "AU26",
  "valence", "arousal",
  "Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt",
];

/** FRdist groups `[start, end, weight]`: AUs weighted 1/15, valence-arousal 1, expressions 1/8. */
export const FRDIST_GROUPS: readonly (readonly [number, number, number])[] = [
  [0, 15, 1 / 15],
  [15, 17, 1],
  [17, 25, 1 / 8],
];

/** FRSyn looks for the lag of peak correlation within +-2 s at 25 fps: lags -49..49 frames. */
export const TLCC_MAX_LAG = 49;
