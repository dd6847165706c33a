/** The training losses of PerFRDiff's stages, as the official code computes them. */
import * as tf from "@tensorflow/tfjs";
import { detach } from "../ops/detach";

/** Mean squared error over every element (the official `MSELoss` with reduction "mean"). */
export function mse(prediction: tf.Tensor, target: tf.Tensor): tf.Scalar {
  return tf.mean(tf.square(tf.sub(prediction, target))) as tf.Scalar;
}

/** The official `TemporalLoss`: mean over windows and frames of the squared L2 norm of frame differences. Y [N, W, D]. */
export function temporalLoss(y: tf.Tensor3D): tf.Scalar {
  const [N, W, D] = y.shape;
  const diff = tf.sub(tf.slice(y, [0, 1, 0], [N, W - 1, D]), tf.slice(y, [0, 0, 0], [N, W - 1, D]));
  return tf.mean(tf.sum(tf.square(diff), 2)) as tf.Scalar;
}

/** KL(N(mu, exp logvar) || N(0, 1)) summed over latent dims, averaged over the batch (`MSELoss_AE_v2`'s KLD). mu, logvar [B, Z]. */
export function gaussianKl(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Scalar {
  const B = mu.shape[0];
  return tf.mul(tf.sum(tf.sub(tf.add(1, logvar), tf.add(tf.square(mu), tf.exp(logvar)))), -0.5 / B) as tf.Scalar;
}

/**
 * The supervised contrastive loss of the official utils/losses.py `SupConLoss` (Khosla et al.): features [N, D]
 * (L2-normalised), one integer label per row; for each anchor the mean log-probability of its positives (same label,
 * not itself) among all others, times -temperature / base_temperature, averaged over anchors. Anchors without a
 * positive contribute 0 (the official divides by max(#positives, 1)).
 */
export function supConLoss(features: tf.Tensor2D, labels: ArrayLike<number>, temperature = 0.07, baseTemperature = 0.07): tf.Scalar {
  const N = features.shape[0];
  if (labels.length !== N) throw new Error(`supConLoss: ${labels.length} labels for ${N} features`);
  const positive = new Float32Array(N * N);
  const notSelf = new Float32Array(N * N).fill(1);
  const positives = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    notSelf[i * N + i] = 0;
    for (let j = 0; j < N; j++) {
      if (i !== j && labels[i] === labels[j]) {
        positive[i * N + j] = 1;
        positives[i]!++;
      }
    }
  }
  return tf.tidy(() => {
    const sim = tf.div(tf.matMul(features, features, false, true), temperature);
    const logits = tf.sub(sim, detach(tf.max(sim, 1, true)));
    const others = tf.tensor2d(notSelf, [N, N]);
    const logProb = tf.sub(logits, tf.log(tf.sum(tf.mul(tf.exp(logits), others), 1, true)));
    const pos = tf.tensor2d(positive, [N, N]);
    const meanLogProbPos = tf.div(tf.sum(tf.mul(pos, logProb), 1), tf.tensor1d(positives.map((p) => (p < 1e-6 ? 1 : p))));
    return tf.mean(tf.mul(meanLogProbPos, -(temperature / baseTemperature))) as tf.Scalar;
  });
}

/**
 * The L2 norm of a whole tensor, with torch's gradient at 0 (zero, where tfjs's sqrt(sum(x^2)) gives 0/0 = NaN): the
 * PWSG regulariser's norms start at exactly 0, as the hypernetwork's last layers are initialised to zero.
 */
export function l2Norm(x: tf.Tensor): tf.Scalar {
  return safeNorm(x) as tf.Scalar;
}

const safeNorm = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const value = tf.sqrt(tf.sum(tf.square(x)));
  save([x, value]);
  return {
    value,
    // x / |x| where |x| > 0, else 0
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [xs, norm]: tf.Tensor[]) => {
      const positive = tf.greater(norm!, 0);
      return tf.mul(tf.mul(dy as tf.Tensor, tf.cast(positive, "float32")), tf.div(xs!, tf.where(positive, norm!, tf.onesLike(norm!))));
    },
  };
}) as never) as (x: tf.Tensor) => tf.Tensor;
