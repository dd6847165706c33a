/**
 * The 25 per-frame emotion values of REACT 2023/2024, in the order of the dataset's emotion CSVs (the official
 * loaders read them by position, header row dropped): 15 facial action unit occurrences (GraphAU), valence and
 * arousal, and 8 facial expression probabilities.
 */
export const EMOTION_AU_COLUMNS = [
  "AU1", "AU2", "AU4", "AU6", "AU7", "AU9", "AU10", "AU12", "AU14", "AU15", "AU17", "AU23", "AU24", "AU25", "AU26",
] as const;
export const EMOTION_VA_COLUMNS = ["valence", "arousal"] as const;
export const EMOTION_EXPRESSION_COLUMNS = [
  "Neutral", "Happy", "Sad", "Surprise", "Fear", "Disgust", "Anger", "Contempt",
] as const;
/** All 25 emotion columns, in file order. */
export const EMOTION_COLUMNS: readonly string[] = [
  ...EMOTION_AU_COLUMNS,
  ...EMOTION_VA_COLUMNS,
  ...EMOTION_EXPRESSION_COLUMNS,
];
/** Values per frame of an emotion track. */
export const EMOTION_DIM = 25;
/** Column ranges `[start, end)` of the three groups. */
export const EMOTION_GROUPS = { au: [0, 15], va: [15, 17], expression: [17, 25] } as const;

/**
 * FRdist's groups `[start, end, weight]`, as the official metric code weights them: the AUs 1/15, valence-arousal 1,
 * the expressions 1/8.
 */
export const FRDIST_GROUPS: readonly (readonly [number, number, number])[] = [
  [EMOTION_GROUPS.au[0], EMOTION_GROUPS.au[1], 1 / 15],
  [EMOTION_GROUPS.va[0], EMOTION_GROUPS.va[1], 1],
  [EMOTION_GROUPS.expression[0], EMOTION_GROUPS.expression[1], 1 / 8],
];
