import * as tf from "@tensorflow/tfjs";
import { EditedWeights, TensorMap } from "./weights";
import type { EditMode, WeightSource } from "./weights";

/** One weight the hypernetwork edits: its name in the target model's {@link WeightSource} and its shape [out, in]. */
export interface EditTarget {
  name: string;
  /** Shape the branch generates, [rows, in]. */
  shape: [number, number];
  /**
   * Zero rows put above the generated ones (the official `modify: kv` generates only the key/value rows of an
   * attention in_proj and prepends a zero block for the query rows). Default 0.
   */
  padTop?: number;
}

export interface PWSGConfig {
  /** Size of the person embedding fed in (PSSL projection: 512). */
  inputDim: number;
  /** Width of the shared layers (official: 1024). */
  latentDim: number;
  /** Number of shared Linear+ReLU layers (official: 2). */
  numSharedLayers: number;
  /** One branch per target, in this order (official: decoder layers 4 and 6 cross-attention in_proj, output head). */
  targets: EditTarget[];
  /** How the branch output edits the weight (official best: shift). */
  predict: EditMode;
  /**
   * Undefined: full rank, each branch outputs all out*in entries (the paper; 1.63 B parameters at full size).
   * A number r: each branch outputs A [out, r] and B [r, in] and the edit is A B, cutting the official 1.63 B parameters to 15.8 M at r = 3 (102x) or 20.6 M at r = 4 (79x).
   */
  rank?: number;
}

/**
 * Parameter names and shapes (PyTorch layout, weight [out, in]). Full rank uses the official `ModifierNetwork`
 * names (`shared_layers.i.*`, `branches.i.*`), so official checkpoints load unchanged; low rank adds `.a` / `.b`.
 */
export function pwsgParameterShapes(cfg: PWSGConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (let j = 0; j < cfg.numSharedLayers; j++) {
    m.set(`shared_layers.${j}.weight`, [cfg.latentDim, j === 0 ? cfg.inputDim : cfg.latentDim]);
    m.set(`shared_layers.${j}.bias`, [cfg.latentDim]);
  }
  cfg.targets.forEach((t, i) => {
    const [o, n] = t.shape;
    if (cfg.rank === undefined) {
      m.set(`branches.${i}.weight`, [o * n, cfg.latentDim]);
      m.set(`branches.${i}.bias`, [o * n]);
    } else {
      m.set(`branches.${i}.a.weight`, [o * cfg.rank, cfg.latentDim]);
      m.set(`branches.${i}.a.bias`, [o * cfg.rank]);
      m.set(`branches.${i}.b.weight`, [cfg.rank * n, cfg.latentDim]);
      m.set(`branches.${i}.b.bias`, [cfg.rank * n]);
    }
  });
  return m;
}

/** Total parameter count of a PWSG configuration (no tensors are allocated). */
export function pwsgParameterCount(cfg: PWSGConfig): number {
  let n = 0;
  for (const s of pwsgParameterShapes(cfg).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}

function validate(cfg: PWSGConfig): void {
  if (cfg.numSharedLayers < 1) throw new Error(`numSharedLayers must be >= 1, got ${cfg.numSharedLayers}`);
  if (cfg.targets.length === 0) throw new Error("PWSG needs at least one edit target");
  if (cfg.rank !== undefined && !(Number.isInteger(cfg.rank) && cfg.rank >= 1)) {
    throw new Error(`rank must be a positive integer, got ${cfg.rank}`);
  }
}

/**
 * The Personalised Weight Shift Generator: person embedding -> shared MLP -> one linear branch per edited weight.
 * Holds its own parameters; generated edits are applied through {@link EditedWeights}, never in place.
 */
export class PWSG {
  private constructor(
    readonly config: PWSGConfig,
    readonly params: TensorMap,
  ) {}

  /**
   * Random initialisation like torch.nn.Linear (uniform +-1/sqrt(fan_in)); in the low-rank variant the A head
   * starts at zero so the initial edit is exactly zero (training starts from the base model).
   */
  static init(cfg: PWSGConfig, seed = 0): PWSG {
    validate(cfg);
    const params = new TensorMap();
    let s = seed;
    for (const [name, shape] of pwsgParameterShapes(cfg)) {
      const isA = /\.a\.(weight|bias)$/.test(name);
      const fanIn = name.startsWith("shared_layers.0") ? cfg.inputDim : cfg.latentDim;
      const bound = 1 / Math.sqrt(fanIn);
      params.set(name, isA ? tf.zeros(shape) : tf.randomUniform(shape, -bound, bound, "float32", s++));
    }
    return new PWSG(cfg, params);
  }

  /** Wraps existing tensors (e.g. from an official checkpoint), checking every name and shape. */
  static fromWeights(cfg: PWSGConfig, weights: Map<string, tf.Tensor>): PWSG {
    validate(cfg);
    const expected = pwsgParameterShapes(cfg);
    const missing = [...expected.keys()].filter((k) => !weights.has(k));
    const unexpected = [...weights.keys()].filter((k) => !expected.has(k));
    if (missing.length || unexpected.length) {
      throw new Error(
        `PWSG weights do not match the configuration: missing [${missing.join(", ")}], unexpected [${unexpected.join(", ")}]`,
      );
    }
    for (const [k, shape] of expected) {
      const got = weights.get(k)!.shape;
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
        throw new Error(`PWSG weight '${k}' has shape [${got}], expected [${shape}]`);
      }
    }
    return new PWSG(cfg, new TensorMap(weights));
  }

  parameterCount(): number {
    return pwsgParameterCount(this.config);
  }

  /**
   * Generates the raw branch outputs for one person embedding `p` ([inputDim] or [1, inputDim]).
   * Returns target name -> tensor of the target's shape [out, in]. Caller disposes.
   */
  forward(p: tf.Tensor): Map<string, tf.Tensor> {
    const cfg = this.config;
    if (!(p.shape.length === 1 || (p.shape.length === 2 && p.shape[0] === 1)) || p.shape[p.shape.length - 1] !== cfg.inputDim) {
      throw new Error(`person embedding must be [${cfg.inputDim}] or [1, ${cfg.inputDim}], got [${p.shape}] (one person at a time)`);
    }
    const out = new Map<string, tf.Tensor>();
    const h = tf.tidy(() => {
      let x = tf.reshape(p, [1, cfg.inputDim]);
      for (let j = 0; j < cfg.numSharedLayers; j++) {
        x = tf.relu(this.linear(`shared_layers.${j}`, x));
      }
      return x;
    });
    cfg.targets.forEach((t, i) => {
      const [o, n] = t.shape;
      const d = tf.tidy(() => {
        if (cfg.rank === undefined) return tf.reshape(this.linear(`branches.${i}`, h), [o, n]);
        const a = tf.reshape(this.linear(`branches.${i}.a`, h), [o, cfg.rank]);
        const b = tf.reshape(this.linear(`branches.${i}.b`, h), [cfg.rank, n]);
        return tf.matMul(a, b);
      });
      if (t.padTop) {
        const padded = tf.concat([tf.zeros([t.padTop, n]), d], 0);
        d.dispose();
        out.set(t.name, padded);
      } else out.set(t.name, d);
    });
    h.dispose();
    return out;
  }

  /** The base model's weights with this person's edits overlaid (dispose the result to restore). */
  personalise(base: WeightSource, p: tf.Tensor): EditedWeights {
    const deltas = this.forward(p);
    try {
      return new EditedWeights(base, deltas, this.config.predict);
    } finally {
      for (const d of deltas.values()) d.dispose();
    }
  }

  dispose(): void {
    this.params.dispose();
  }

  private linear(prefix: string, x: tf.Tensor): tf.Tensor2D {
    const w = this.params.get(`${prefix}.weight`) as tf.Tensor2D;
    const b = this.params.get(`${prefix}.bias`);
    return tf.add(tf.matMul(x as tf.Tensor2D, w, false, true), b) as tf.Tensor2D;
  }
}
