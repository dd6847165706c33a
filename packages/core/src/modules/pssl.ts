/**
 * PSSL, the person-specific encoder (official `model/person_specific/PersonSpecificEncoder.py`, class Transformer):
 * the listener's 58-d 3DMM history [B, T, 58] is embedded, a CLS token prepended, sinusoidal positions added,
 * then a post-norm torch.nn.TransformerEncoder (ReLU) runs; `feat` is the CLS output [B, 512] and `proj` its
 * L2-normalised MLP projection [B, proj_dim] (the embedding the hypernetwork consumes).
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";
import type { PersonSpecificConfig } from "../config";
import { encoderLayer, linear, shapes } from "./nn";
import type { TrainingPass } from "./training-pass";


export function psslParameterShapes(c: PersonSpecificConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const D = c.embed_layer === "linear" ? c.embed_dim : c.in_features;
  if (c.embed_layer === "linear") shapes.linear(m, "embed_layer", c.in_features, c.embed_dim);
  if (c.pos_encoding === "learnable") m.set("pos_embed", [1, 1 + c.seq_len, D]);
  m.set("cls_token", [1, 1, D]);
  for (let i = 0; i < c.num_layers; i++) {
    const p = `transformer.layers.${i}`;
    shapes.mha(m, `${p}.self_attn`, D);
    shapes.linear(m, `${p}.linear1`, D, c.mlp_dim);
    shapes.linear(m, `${p}.linear2`, c.mlp_dim, D);
    shapes.layerNorm(m, `${p}.norm1`, D);
    shapes.layerNorm(m, `${p}.norm2`, D);
  }
  if (c.proj_head === "mlp") {
    shapes.linear(m, "proj_head.0", c.embed_dim, c.embed_dim);
    shapes.linear(m, "proj_head.2", c.embed_dim, c.proj_dim);
  } else if (c.proj_head === "linear") shapes.linear(m, "proj_head", c.embed_dim, c.proj_dim);
  return m;
}

/** The official sinusoidal table (sin on even, cos on odd features), computed with torch's float32 steps. */
export function sinusoidalTable(len: number, d: number): Float32Array {
  const out = new Float32Array(len * d);
  for (let i = 0; i < d; i += 2) {
    const denom = Math.fround(10000 ** Math.fround(i / d));
    for (let p = 0; p < len; p++) {
      const a = Math.fround(p / denom);
      out[p * d + i] = Math.sin(a);
      if (i + 1 < d) out[p * d + i + 1] = Math.cos(a);
    }
  }
  return out;
}

export class PersonSpecificEncoder {
  private table: Float32Array | null = null;

  constructor(
    readonly config: PersonSpecificConfig,
    readonly weights: WeightSource,
  ) {}

  /** history [B, T, in_features] -> { feat [B, embed_dim], proj [B, proj_dim] (unit norm) }. Caller disposes. */
  forward(history: tf.Tensor, weights: WeightSource = this.weights): { feat: tf.Tensor2D; proj: tf.Tensor2D } {
    return this.run(history, weights);
  }

  /**
   * The training forward: dropout `drop_prob` on the embedded tokens and `layer_drop_prob` in the encoder layers,
   * drawn from `pass`. Shapes as {@link forward}.
   */
  forwardTrain(history: tf.Tensor, pass: TrainingPass, weights: WeightSource = this.weights): { feat: tf.Tensor2D; proj: tf.Tensor2D } {
    return this.run(history, weights, pass);
  }

  private run(history: tf.Tensor, weights: WeightSource, pass?: TrainingPass): { feat: tf.Tensor2D; proj: tf.Tensor2D } {
    const c = this.config;
    if (history.rank !== 3 || history.shape[2] !== c.in_features) {
      throw new Error(`listener history must be [batch, frames, ${c.in_features}], got [${history.shape}]`);
    }
    const [B, T] = history.shape;
    if (T + 1 > c.max_len) throw new Error(`history of ${T} frames exceeds max_len ${c.max_len} - 1`);
    if (c.pos_encoding === "learnable" && T !== c.seq_len) throw new Error(`learnable positions need exactly ${c.seq_len} frames, got ${T}`);
    const w = weights;
    return tf.tidy(() => {
      let x = c.embed_layer === "linear" ? linear(w, "embed_layer", history) : history;
      const D = x.shape[2] as number;
      x = tf.concat([tf.tile(w.get("cls_token"), [B, 1, 1]), x], 1);
      if (c.pos_encoding === "absolute") {
        if (!this.table || this.table.length < (T + 1) * D) this.table = sinusoidalTable(c.max_len, D);
        x = tf.add(x, tf.tensor3d(this.table.subarray(0, (T + 1) * D), [1, T + 1, D]));
      } else x = tf.add(x, w.get("pos_embed"));
      if (pass) x = pass.dropout(x, c.drop_prob);
      for (let i = 0; i < c.num_layers; i++) {
        const prev = x;
        x = tf.tidy(() => encoderLayer(w, `transformer.layers.${i}`, prev, c.num_heads, "relu", pass && { pass, rate: c.layer_drop_prob }));
      }
      const feat = tf.reshape(tf.slice(x, [0, 0, 0], [B, 1, D]), [B, D]) as tf.Tensor2D;
      let p: tf.Tensor = feat;
      if (c.proj_head === "mlp") p = linear(w, "proj_head.2", tf.relu(linear(w, "proj_head.0", feat)));
      else if (c.proj_head === "linear") p = linear(w, "proj_head", feat);
      const proj = tf.div(p, tf.maximum(tf.norm(p, "euclidean", -1, true), 1e-12)) as tf.Tensor2D;
      return { feat, proj };
    });
  }
}
