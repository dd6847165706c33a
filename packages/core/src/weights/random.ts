import * as tf from "@tensorflow/tfjs";
import { TensorMap } from "@perfrdiff/hypernet";
import { moduleParameterShapes } from "./modules";
import type { ModuleName } from "./modules";
import type { PerFRDiffConfig } from "../config";

/**
 * Randomly initialised weights for a module (for benchmarks, tests and training from scratch): matrices uniform
 * in +-1/sqrt(fan_in) like torch.nn.Linear, LayerNorm gains 1, biases 0, other vectors/tables N(0, 0.02).
 * Rotary frequencies get their fixed values.
 */
export function randomWeights(cfg: PerFRDiffConfig, module: ModuleName, seed = 0): TensorMap {
  const out = new TensorMap();
  let s = seed;
  for (const [name, shape] of moduleParameterShapes(cfg, module)) {
    let t: tf.Tensor;
    if (name.endsWith("rotary_emb.freqs")) {
      const dim = shape[0] * 2;
      t = tf.tensor1d(Array.from({ length: shape[0] }, (_, i) => 1 / 10000 ** ((2 * i) / dim)));
    } else if (/(norm\d?|norm)\.(weight|g)$|\.g$/.test(name)) t = tf.ones(shape);
    else if (name.endsWith("bias")) t = tf.zeros(shape);
    else if (shape.length === 2 && (name.endsWith("weight") || name.endsWith("weight_ih") || name.endsWith("weight_hh"))) {
      const b = 1 / Math.sqrt(shape[1]);
      t = tf.randomUniform(shape, -b, b, "float32", s++);
    } else t = tf.randomNormal(shape, 0, 0.02, "float32", s++);
    out.set(name, t);
  }
  return out;
}
