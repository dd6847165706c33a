export { NpyFormatError, parseNpy, serializeNpy, toFloat32, toFloat64 } from "./npy";
export type { NpyArray, NpyDtype, NpyTypedArray } from "./npy";
export { readNpy, writeNpy } from "./node";
export type { WriteNpyOptions } from "./node";
