import * as tf from "@tensorflow/tfjs";
import { editWeight } from "./weights";
import type { EditMode, WeightSource } from "./weights";

/** Anything holding tfjs-layers weights: a layer or a LayersModel. */
export type HasWeights = { readonly weights: tf.LayerVariable[] };

/** A read-only {@link WeightSource} view of a tfjs-layers model's variables, named as `variable.name` ("dense/kernel"). */
export function layerWeightSource(target: HasWeights): WeightSource {
  const byName = new Map(target.weights.map((v) => [v.name, v] as const));
  return {
    get(name: string) {
      const v = byName.get(name);
      if (!v) throw new Error(`missing parameter '${name}' (the model has ${[...byName.keys()].join(", ")})`);
      return v.read();
    },
    has: (name: string) => byName.has(name),
    names: () => [...byName.keys()],
  };
}

/**
 * Runs `fn` with edited weights in a tfjs-layers model, for layers that can only read their own variables: each
 * named variable is set to editWeight(base, delta, mode) and its base value is written back afterwards, also when
 * `fn` throws. The base values are kept as copies, so the model ends bit-identical to how it started.
 * Deltas use the layer's own layout (Dense kernel [in, out]).
 */
export async function withEditedLayers<T>(
  target: HasWeights,
  deltas: Map<string, tf.Tensor>,
  mode: EditMode,
  fn: () => T | Promise<T>,
): Promise<T> {
  const byName = new Map(target.weights.map((v) => [v.name, v] as const));
  const saved: [tf.LayerVariable, tf.Tensor][] = [];
  try {
    for (const [name, d] of deltas) {
      const v = byName.get(name);
      if (!v) throw new Error(`cannot edit '${name}': the model has no such weight (it has ${[...byName.keys()].join(", ")})`);
      const base = tf.clone(v.read());
      saved.push([v, base]);
      const edited = editWeight(base, d, mode);
      v.write(edited);
      edited.dispose();
    }
    return await fn();
  } finally {
    for (const [v, base] of saved.reverse()) {
      v.write(base);
      base.dispose();
    }
  }
}
