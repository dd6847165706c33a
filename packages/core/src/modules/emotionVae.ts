/**
 * The emotion GRU-VAE speaker/listener encoder (official `AutoencoderRNN_VAE_v2` in `model/diffusion/rnn.py`,
 * from DLow): a GRU over a 50-frame emotion window whose last hidden state is the 512-d latent embedding the
 * diffusion models condition on (`encode`); mu/logvar heads and a step-wise GRU decoder reconstruct the window.
 */
import * as tf from "@tensorflow/tfjs";
import type { WeightSource } from "@perfrdiff/hypernet";
import type { LatentEmbedderConfig } from "../config";
import { gruLastHidden, gruStep } from "../ops/gru";
import { matmulLast } from "../ops/matmul";
import { weightProduct } from "../ops/linear";
import { linear, shapes } from "./nn";
import type { TrainingPass } from "./training-pass";

/** What the VAE's training forward returns (the official forward's outputs). */
export interface EmotionVAETrainOutput {
  /** [B, W, emotion_dim] the reconstructed windows */
  prediction: tf.Tensor3D;
  /** [B, W, coeff_3dmm_dim] coeff_reg of the reconstruction */
  coefficients: tf.Tensor3D;
  /** [B, z_dim] each */
  mu: tf.Tensor2D;
  logvar: tf.Tensor2D;
}

export function emotionVaeParameterShapes(c: LatentEmbedderConfig): Map<string, number[]> {
  const m = new Map<string, number[]>();
  const H = c.hidden_dim;
  shapes.gru(m, "x_rnn.rnn_f", c.emotion_dim, H);
  shapes.linear(m, "fc_mu_enc", H, c.z_dim);
  shapes.linear(m, "fc_logvar_enc", H, c.z_dim);
  shapes.linear(m, "fc_z_dec", c.z_dim, H);
  shapes.gru(m, "d_rnn.rnn_f", c.emotion_dim + H, H);
  let last = H;
  c.emb_dims.forEach((d, i) => {
    shapes.linear(m, `d_mlp.affine_layers.${i}`, last, d);
    last = d;
  });
  shapes.linear(m, "d_out", last, c.emotion_dim);
  shapes.linear(m, "coeff_reg.0", c.emotion_dim, H);
  shapes.linear(m, "coeff_reg.2", H, c.coeff_3dmm_dim);
  return m;
}

export class EmotionVAE {
  constructor(
    readonly config: LatentEmbedderConfig,
    readonly weights: WeightSource,
  ) {}

  private check(x: tf.Tensor): void {
    const c = this.config;
    if (x.rank !== 3 || x.shape[1] !== c.window_size || x.shape[2] !== c.emotion_dim) {
      throw new Error(`emotion window must be [batch, ${c.window_size}, ${c.emotion_dim}], got [${x.shape}]`);
    }
  }

  /**
   * The official `encode`: last GRU hidden state of one window [B, W, 25] -> [B, hidden_dim]. For a frozen VAE (its
   * encodings condition the diffusion models): no gradient flows through it (the training forward has its own).
   */
  encode(emotion: tf.Tensor): tf.Tensor2D {
    return this.encodeWindows(emotion, true);
  }

  private encodeWindows(emotion: tf.Tensor, frozen: boolean): tf.Tensor2D {
    this.check(emotion);
    const w = this.weights;
    return tf.tidy(() => {
      // the input side of every step's gates in one product
      const gates = weightProduct(emotion, w.get("x_rnn.rnn_f.weight_ih"), w.get("x_rnn.rnn_f.bias_ih")) as tf.Tensor3D;
      return gruLastHidden(gates, w.get("x_rnn.rnn_f.weight_hh"), w.get("x_rnn.rnn_f.bias_hh"), frozen);
    });
  }

  /** mu and logvar of the posterior for one window (eval mode uses z = mu). */
  posterior(emotion: tf.Tensor): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    const h = this.encode(emotion);
    const out = tf.tidy(() => ({
      mu: linear(this.weights, "fc_mu_enc", h) as tf.Tensor2D,
      logvar: linear(this.weights, "fc_logvar_enc", h) as tf.Tensor2D,
    }));
    h.dispose();
    return out;
  }

  /** Decodes z [B, z_dim] into a window [B, W, 25] (autoregressive GRU, as the official `_decode`). */
  decode(z: tf.Tensor2D, pass?: TrainingPass): tf.Tensor3D {
    const c = this.config;
    if (z.rank !== 2 || z.shape[1] !== c.z_dim) throw new Error(`z must be [batch, ${c.z_dim}], got [${z.shape}]`);
    const w = this.weights;
    return tf.tidy(() => {
      const B = z.shape[0];
      let hy = linear(w, "fc_z_dec", z) as tf.Tensor2D;
      if (pass) hy = pass.dropout(hy, c.dropout) as tf.Tensor2D;
      // the step input is [hy, y]: hy's part of the input gates is the same at every step, computed once; the first
      // step's y is 0
      const Wih = w.get("d_rnn.rnn_f.weight_ih") as tf.Tensor2D;
      const H = c.hidden_dim;
      const fromHy = matmulLast(hy, tf.transpose(tf.slice(Wih, [0, 0], [3 * H, H])) as tf.Tensor2D, w.get("d_rnn.rnn_f.bias_ih")) as tf.Tensor2D;
      const fromY = tf.transpose(tf.slice(Wih, [0, H], [3 * H, c.emotion_dim])) as tf.Tensor2D;
      let h = tf.zeros([B, H]) as tf.Tensor2D;
      let y: tf.Tensor2D | null = null;
      const ys: tf.Tensor2D[] = [];
      for (let t = 0; t < c.window_size; t++) {
        const gi = y ? (tf.add(fromHy, matmulLast(y, fromY)) as tf.Tensor2D) : fromHy;
        h = gruStep(gi, h, w.get("d_rnn.rnn_f.weight_hh"), w.get("d_rnn.rnn_f.bias_hh"));
        let m: tf.Tensor = h;
        c.emb_dims.forEach((_, i) => (m = tf.tanh(linear(w, `d_mlp.affine_layers.${i}`, m))));
        y = linear(w, "d_out", m) as tf.Tensor2D;
        ys.push(y);
      }
      return tf.stack(ys, 1) as tf.Tensor3D;
    });
  }

  /**
   * The official forward on windows [B, W, emotion_dim]: posterior, z = mu + eps * exp(logvar / 2) with eps from
   * `pass` (training; null: z = mu, eval mode), the decoded reconstruction, and coeff_reg of the reconstruction.
   */
  forwardTrain(emotion: tf.Tensor, pass: TrainingPass | null): EmotionVAETrainOutput {
    this.check(emotion);
    return tf.tidy(() => {
      const h = this.encodeWindows(emotion, false);
      const mu = linear(this.weights, "fc_mu_enc", h) as tf.Tensor2D;
      const logvar = linear(this.weights, "fc_logvar_enc", h) as tf.Tensor2D;
      const z = pass ? (tf.add(mu, tf.mul(tf.tensor2d(pass.normal(mu.size), mu.shape), tf.exp(tf.mul(logvar, 0.5)))) as tf.Tensor2D) : mu;
      const prediction = this.decode(z, pass ?? undefined);
      return { prediction, coefficients: this.coefficients(prediction), mu, logvar };
    });
  }

  /** The model's emotion -> 58-d 3DMM regressor (official `decode_coeff`, coeff_reg): [..., 25] -> [..., 58]. */
  coefficients<T extends tf.Tensor>(emotion: T): T {
    const w = this.weights;
    return tf.tidy(() => linear(w, "coeff_reg.2", tf.tanh(linear(w, "coeff_reg.0", emotion)))) as T;
  }
}
