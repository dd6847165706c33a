"""Times the official PyTorch modules at full size (random weights) for the bench table; run beside the fixtures.

Usage: python3 bench_official.py OFFICIAL_DIR
Prints one line per measurement: the guided denoiser step and the prior step for K=10 reactions of a 750-frame clip
(15 windows of 50 frames batched together, as the official online inference does), on GPU and on CPU.
"""
import sys
import time
import types

import torch

sys.path.insert(0, sys.argv[1])
if not hasattr(torch.cuda, "amp") or not hasattr(torch.cuda.amp, "autocast"):
    torch.cuda.amp = types.SimpleNamespace(autocast=lambda enabled=True: (lambda f: f))
from model.diffusion.diffusion_decoder.transformer_denoiser import TransformerDenoiser  # noqa: E402
from model.diffusion.diffusion_prior.transformer_prior import DiffusionPriorNetwork  # noqa: E402

torch.set_grad_enabled(False)
torch.backends.cuda.matmul.allow_tf32 = False
K, WIN, NW = 10, 50, 15
B = K * NW
den = TransformerDenoiser(nfeats=25, latent_dim=512, ff_size=1024, num_layers=7, num_heads=4, dropout=0.1,
                          arch="trans_dec", l_latent_embed_drop_prob=1.0, l_personal_embed_drop_prob=1.0,
                          s_emotion_enc_drop_prob=1.0, past_l_emotion_drop_prob=1.0).eval()
prior = DiffusionPriorNetwork(depth=4, guidance_scale=1.0).eval()
print("params denoiser", sum(p.numel() for p in den.parameters()), "prior", sum(p.numel() for p in prior.parameters()))


def timeit(fn, dev, reps):
    fn()
    if dev == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    if dev == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps


for dev in (["cuda"] if torch.cuda.is_available() else []) + ["cpu"]:
    d, p = den.to(dev), prior.to(dev)
    x = torch.randn(B, WIN, 25, device=dev)
    t = torch.full((B,), 500, device=dev)
    kw = {"speaker_audio_encodings": torch.randn(B, WIN, 78, device=dev),
          "speaker_3dmm_encodings": torch.randn(B, WIN, 58, device=dev),
          "speaker_latent_embed": torch.randn(B, 1, 512, device=dev)}
    pkw = {"speaker_audio_encodings": kw["speaker_audio_encodings"], "speaker_3dmm_encodings": kw["speaker_3dmm_encodings"],
           "speaker_latent_emb": kw["speaker_latent_embed"]}
    xt = torch.randn(B, 1, 512, device=dev)
    reps = 20 if dev == "cuda" else 3
    sd = timeit(lambda: d.forward_with_cond_scale(x, t, kw), dev, reps)
    sp = timeit(lambda: p.forward_with_cond_scale(xt, t, pkw), dev, reps)
    print(f"{dev} threads={torch.get_num_threads()} denoiser_guided_step_s={sd:.4f} prior_step_s={sp:.4f} "
          f"generate_K10_750f_50steps_s={(sd + sp) * 50:.2f} 10steps_s={(sd + sp) * 10:.2f}")
