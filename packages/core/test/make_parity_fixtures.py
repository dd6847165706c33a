"""Builds parity fixtures for @perfrdiff/core from the official PerFRDiff modules (run on a machine with PyTorch).

Usage: python3 make_parity_fixtures.py OFFICIAL_DIR OUT_DIR
  OFFICIAL_DIR: the folder prepare_official.sh fills with the official module files (never committed).
  OUT_DIR: gets parity.yaml (a reduced-size config in the official YAML layout), checkpoints/ in the official
           layout (torch.save zip files with random weights), inputs/*.npy named after the official forward
           arguments, outputs/*.npy (eval mode, no dropout, CPU float32), and reader/ (torch.save edge cases).
Every parameter is perturbed with noise so LayerNorm gains, zero-initialised tokens etc. are exercised.
"""
import os
import sys
import types

import numpy as np
import torch

official, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, official)
# rotary_embedding_torch decorates with torch.cuda.amp.autocast(enabled=False); newer torch may drop that alias.
if not hasattr(torch.cuda, "amp") or not hasattr(torch.cuda.amp, "autocast"):
    torch.cuda.amp = types.SimpleNamespace(autocast=lambda enabled=True: (lambda f: f))

from model.diffusion.diffusion_decoder.transformer_denoiser import TransformerDenoiser  # noqa: E402
from model.diffusion.diffusion_prior.transformer_prior import DiffusionPriorNetwork  # noqa: E402
from model.person_specific.PersonSpecificEncoder import Transformer as PSSL  # noqa: E402
from model.diffusion.rnn import AutoencoderRNN_VAE_v2  # noqa: E402
from model.modifier.network import ModifierNetwork  # noqa: E402

torch.manual_seed(0)
torch.set_grad_enabled(False)
os.makedirs(f"{out}/inputs", exist_ok=True)
os.makedirs(f"{out}/outputs", exist_ok=True)
os.makedirs(f"{out}/reader", exist_ok=True)


def save(kind, name, t):
    a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
    np.save(f"{out}/{kind}/{name}.npy", np.ascontiguousarray(a))  # C order (our .npy reader refuses Fortran order)


def perturb(m):
    for n, p in m.named_parameters():
        if not n.endswith("rotary_emb.freqs"):
            p.add_(0.1 * torch.randn_like(p))
    return m.eval()


def ckpt(model, rel):
    os.makedirs(os.path.dirname(f"{out}/checkpoints/{rel}"), exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "epoch": 7}, f"{out}/checkpoints/{rel}")


B, W, D, T = 2, 10, 32, 20
# Reduced sizes; the structure (7 decoder layers, heads, rotary, GRU, ...) is the official one.
pssl_args = dict(in_features=58, embed_dim=D, num_heads=4, num_layers=2, mlp_dim=48, seq_len=T, proj_dim=16,
                 proj_head="mlp", drop_prob=0.1, max_len=1000, pos_encoding="absolute", embed_layer="linear")
vae_args = dict(emotion_dim=25, coeff_3dmm_dim=58, emb_dims=[16, 16], num_layers=2, hidden_dim=D, z_dim=D,
                rnn_type="gru", dropout=0.0, window_size=W, seq_len=2 * W)
prior_args = dict(audio_dim=78, window_size=W, token_len=2 * W, _3dmm_dim=58, speaker_emb_dim=D, latent_dim=D, depth=2,
                  num_time_layers=2, num_time_embeds=1, num_time_emb_channels=16, time_last_act=False,
                  use_learned_query=True, s_audio_cond_drop_prob=0.0, s_latentemb_cond_drop_prob=0.0,
                  s_3dmm_cond_drop_prob=0.0, guidance_scale=1.0, dim_head=16, heads=8, ff_mult=2, norm_in=False,
                  norm_out=True, attn_dropout=0.0, ff_dropout=0.0, final_proj=True, normformer=False, rotary_emb=True)
den_args = dict(encode_emotion=False, encode_3dmm=False, ablation_skip_connection=True, nfeats=25, latent_dim=D,
                ff_size=48, num_layers=7, num_heads=4, dropout=0.1, normalize_before=False, activation="gelu",
                flip_sin_to_cos=True, return_intermediate_dec=False, position_embedding="learned", arch="trans_dec",
                freq_shift=0, time_encoded_dim=16, s_audio_dim=78, s_audio_scale=D ** -0.5, s_emotion_dim=25,
                l_embed_dim=D, s_embed_dim=D, personal_emb_dim=D, s_3dmm_dim=58, concat="concat_first",
                guidance_scale=7.5, l_latent_embed_drop_prob=1.0, l_personal_embed_drop_prob=1.0,
                s_audio_enc_drop_prob=0.2, s_latent_embed_drop_prob=0.2, s_3dmm_enc_drop_prob=0.2,
                s_emotion_enc_drop_prob=1.0, past_l_emotion_drop_prob=1.0)
hyper_layers = ["diffusion_decoder.model.decoder.layers.4.multihead_attn",
                "diffusion_decoder.model.decoder.layers.6.multihead_attn",
                "diffusion_decoder.model.to_emotion_feat"]


def yaml_block(d, indent):
    lines = []
    for k, v in d.items():
        if isinstance(v, bool):
            v = "True" if v else "False"
        elif isinstance(v, str):
            v = f"'{v}'"
        lines.append(f"{' ' * indent}{k}: {v}")
    return "\n".join(lines)


sched = dict(noise_schedule="cosine", timestep_spacing="leading", num_train_timesteps=1000, num_inference_timesteps=50,
             predict="start_x", var_type="fixed_large", rescale_timesteps=False, noise_std=1, k=1)
den_yaml = {k: v for k, v in den_args.items() if k not in ("ablation_skip_connection", "return_intermediate_dec")}
with open(f"{out}/parity.yaml", "w") as f:
    f.write(f"""# Reduced-size PerFRDiff configuration for parity fixtures (official layout of rewrite_weight.yaml).
person_specific:
    type: Transformer
    args:
{yaml_block(pssl_args, 8)}
    checkpoint_path: ./checkpoints/person_specific/checkpoint.pth
latent_embedder:
    type: AutoencoderRNN_VAE_v2
    args:
{yaml_block(vae_args, 8)}
    checkpoint_path: ./checkpoints/embedder_latent/checkpoint.pth
diffusion_prior:
    type: LatentMLPMatcher
    args:
        emb_preprocessing: normalize
{yaml_block(prior_args, 8)}
    scheduler:
{yaml_block(sched, 8)}
diffusion_decoder:
    type: TransformerDenoiser
    args:
        emb_preprocessing: normalize
        window_size: {W}
        token_len: {2 * W}
{yaml_block(den_yaml, 8)}
    scheduler:
{yaml_block(sched, 8)}
trainer:
    checkpoint_dir: ./checkpoints/rewrite_weight
main_model:
    type: MainNetUnified
    args:
        input_dim: 16
        latent_dim: 24
        embed_dim: {D}
        num_shared_layers: 2
        modified_layers: [{", ".join(hyper_layers)}]
        predict: shift
        modify: all
""")

# ---- PSSL
pssl = perturb(PSSL("cpu", **pssl_args))
ckpt(pssl, "person_specific/checkpoint.pth")
hist = torch.randn(B, T, 58)
feat, proj = pssl(hist)
save("inputs", "listener_personal_input", hist)
save("outputs", "pssl_feat", feat)
save("outputs", "pssl_proj", proj)

# ---- emotion GRU-VAE
vae = perturb(AutoencoderRNN_VAE_v2(types.SimpleNamespace(**vae_args)))
ckpt(vae, "embedder_latent/checkpoint.pth")
emo = torch.rand(B, W, 25)
enc = vae.encode(emo)
mu = vae.fc_mu_enc(enc)
save("inputs", "emotion_seq", emo)
save("outputs", "vae_encoding", enc)
save("outputs", "vae_mu", mu)
save("outputs", "vae_logvar", vae.fc_logvar_enc(enc))
save("outputs", "vae_decoded", vae.decode(mu))

# ---- diffusion prior
# the official matcher passes neither token_len nor heads to the network (heads stays at its default 8)
prior = perturb(DiffusionPriorNetwork(**{k: v for k, v in prior_args.items() if k not in ("token_len", "heads")}))
ckpt(prior, "rewrite_weight/DiffusionPriorNetwork/checkpoint.pth")
s_audio = torch.randn(B, W, 78)
s_3dmm = torch.randn(B, W, 58)
s_latent = vae.encode(torch.rand(B, W, 25)).unsqueeze(1)
x_t = torch.randn(B, 1, D)
t_prior = torch.tensor([3, 641])
kw = {"speaker_audio_encodings": s_audio, "speaker_latent_emb": s_latent, "speaker_3dmm_encodings": s_3dmm}
save("inputs", "speaker_audio_encodings", s_audio)
save("inputs", "speaker_3dmm_encodings", s_3dmm)
save("inputs", "speaker_latent_emb", s_latent)
save("inputs", "x_t", x_t)
save("inputs", "t", t_prior)
save("outputs", "prior", prior.forward_with_cond_scale(x_t, t_prior, kw))
prior.guidance_scale = 2.0
save("outputs", "prior_guided_2", prior.forward_with_cond_scale(x_t, t_prior, kw))

# ---- denoiser (guided, as at inference)
den = perturb(TransformerDenoiser(**den_args))
ckpt(den, "rewrite_weight/TransformerDenoiser/checkpoint.pth")
sample = torch.randn(B, W, 25)
timesteps = torch.tensor([17, 803])
s_emotion = torch.rand(B, W, 25)
dkw = {"speaker_audio_encodings": s_audio, "speaker_latent_embed": s_latent, "speaker_3dmm_encodings": s_3dmm,
       "speaker_emotion_encodings": s_emotion}
save("inputs", "sample", sample)
save("inputs", "timesteps", timesteps)
save("inputs", "speaker_latent_embed", s_latent)
save("inputs", "speaker_emotion_encodings", s_emotion)
save("outputs", "denoiser_guided", den.forward_with_cond_scale(sample, timesteps, dkw))

# ---- PWSG hypernetwork: edits from the first listener's PSSL projection, applied as the official 'shift'
mods = dict(den.named_modules())
shapes = [torch.tensor(mods[n.split("diffusion_decoder.model.")[1]].in_proj_weight.size()) if "multihead_attn" in n
          else torch.tensor(mods[n.split("diffusion_decoder.model.")[1]].weight.size()) for n in hyper_layers]
hyper = ModifierNetwork(input_dim=16, latent_dim=24, output_dim=shapes, num_shared_layers=2)
perturb(hyper)
ckpt(hyper, "rewrite_weight/ModifierNetwork/checkpoint.pth")
kernels = hyper(proj[:1])
for i, k in enumerate(kernels):
    save("outputs", f"hypernet_branch_{i}", k)
mods["decoder.layers.4.multihead_attn"].in_proj_weight.add_(kernels[0])
mods["decoder.layers.6.multihead_attn"].in_proj_weight.add_(kernels[1])
mods["to_emotion_feat"].weight.add_(kernels[2])
save("outputs", "denoiser_personalised", den.forward_with_cond_scale(sample, timesteps, dkw))

# ---- torch.save edge cases for the reader: half, bfloat16, float64, int64, non-contiguous and offset views
base = torch.randn(6, 5)
edge = {"f16": torch.randn(3, 4).half(), "bf16": torch.randn(5).bfloat16(), "f64": torch.randn(2, 3).double(),
        "i64": torch.arange(-3, 4), "transposed": base.t(), "offset": base[2:4, 1:4], "scalar": torch.tensor(2.5),
        "shared_a": base, "meta": {"epoch": 3, "name": "x", "lr": 1e-4, "flags": [True, None]}}
torch.save(edge, f"{out}/reader/edge.pth")
for k, v in edge.items():
    if torch.is_tensor(v):
        save("reader", k, v.float() if v.is_floating_point() else v)
print("torch", torch.__version__, "done")
