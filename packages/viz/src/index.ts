/**
 * @perfrdiff/viz: pictures of facial reactions, for people to look at. {@link reactionTimelineSvg}: the AUs,
 * valence/arousal and expressions of K reactions against the speaker's, over time, as SVG; {@link drawFace}: a
 * cartoon face of one frame of 3DMM coefficients, into an RGB image (the frames of a video).
 */
export { EXPRESSION_COLOURS, reactionTimelineSvg } from "./timeline";
export type { ReactionTimelineInput } from "./timeline";
export { drawFace, reactionVideoFrames, rgbImage } from "./face";
export type { FaceStyle, ReactionVideoInput, Rgb, RgbImage } from "./face";
export { encodePng } from "./png";
