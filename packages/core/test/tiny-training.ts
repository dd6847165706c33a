/**
 * A tiny model and corpus for training tests: every stage's real code path, at sizes that take milliseconds per step
 * on the cpu backend (10-frame windows, 16-wide layers, 40-frame clips of 4 listeners x 2 clips).
 */
import { parseConfig } from "../src/config";
import type { PerFRDiffConfig } from "../src/config";
import type { TrainingCorpus } from "../src/training/corpus";

export const TINY_YAML = `
person_specific:
  args: { embed_dim: 16, num_heads: 2, num_layers: 1, mlp_dim: 32, seq_len: 40, proj_dim: 16, max_len: 100 }
latent_embedder:
  args: { hidden_dim: 16, z_dim: 16, emb_dims: [16], window_size: 10 }
diffusion_prior:
  args: { depth: 1, speaker_emb_dim: 16, latent_dim: 16, dim_head: 8, ff_mult: 2, num_time_emb_channels: 16, window_size: 10, token_len: 40, guidance_scale: 1.0 }
  scheduler: { k: 1, num_train_timesteps: 100 }
diffusion_decoder:
  args: { latent_dim: 16, ff_size: 32, num_layers: 2, num_heads: 2, time_encoded_dim: 16, l_embed_dim: 16, s_embed_dim: 16, personal_emb_dim: 16, window_size: 10, token_len: 40 }
  scheduler: { k: 1, num_train_timesteps: 100, num_inference_timesteps: 5 }
main_model:
  args:
    input_dim: 16
    latent_dim: 16
    embed_dim: 16
    num_shared_layers: 1
    modified_layers: [diffusion_decoder.model.decoder.layers.1.multihead_attn, diffusion_decoder.model.to_emotion_feat]
    predict: shift
    modify: all
    regularization: true
    regular_w: 0.01
    rank: 2
training:
  seed: 7
  clip_length: 40
  embedder: { epochs: 2, batch_size: 8, lr: 0.005 }
  gafrg: { epochs: 3, batch_size: 2, k_appro: 2, lr: 0.001, cosine_start_epoch: 1, cosine_t_max: 3 }
  pssl: { epochs: 2, batch_size: 2, lr: 0.001 }
  pwsg: { epochs: 2, lr: 0.01 }
`;

export function tinyConfig(): PerFRDiffConfig {
  return parseConfig(TINY_YAML);
}

/**
 * A corpus of `items` items (listeners in pairs of clips: item i's listener is `listener<i >> 1>`), values from a
 * seeded generator; item i's appropriate reactions are itself and its pair.
 */
export function tinyCorpus(items = 8, frames = 40, seed = 1): TrainingCorpus {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const track = (dim: number) => ({ frames, dim, data: Float32Array.from({ length: frames * dim }, rand) });
  const all = Array.from({ length: items }, (_, i) => ({
    speakerAudio: track(78),
    speakerEmotion: track(25),
    speaker3dmm: track(58),
    listenerEmotion: track(25),
    listener3dmm: track(58),
    listenerId: `TINY/session/listener${i >> 1}`,
  }));
  return { items: all, appropriate: all.map((_, i) => [i, i ^ 1]) };
}
