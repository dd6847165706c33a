export { EditedWeights, TensorMap, editWeight } from "./weights";
export type { EditMode, WeightSource } from "./weights";
export { PWSG, pwsgParameterCount, pwsgParameterShapes } from "./pwsg";
export type { EditTarget, PWSGConfig } from "./pwsg";
export { layerWeightSource, withEditedLayers } from "./layers";
export type { HasWeights } from "./layers";
