"""Times the official PyTorch PerFRDiff modules at full size (random weights) for `pnpm bench`'s side-by-side table.

Usage: python3 bench_official.py OFFICIAL_DIR [--device auto|cpu|cuda] [--threads N] [--train-batch N]
                                 [--loops auto|measure|derive] [--min-time S]
  OFFICIAL_DIR: the folder prepare_official.sh fills with the official files (never committed).

Prints one JSON object per line (bench.mjs reads them): first {"key": "env", ...}, then
{"key", "label", "seconds", "how": "measured"|"derived", "detail"} per measurement. The keys match bench.mjs's.

What is timed (all float32, TF32 off, eval mode for sampling, train mode for the training step):
- the guided denoiser step (`forward_with_cond_scale`, both guidance branches) for 1 window x K=10, 15 windows x K=10
  (a 750-frame clip, batched as the official online inference does) and 15 windows x K=1;
- the prior step (`forward_with_cond_scale`, guidance 1.0 = one branch) for 15 windows x K=10 and x K=1;
- generation loops with the official DDIM samplers (`DecoderLatentDiffusion` / `PriorLatentDiffusion`
  `ddim_sample_loop_progressive`, timestep spacing and step count set like the config's num_inference_timesteps):
  the denoiser loop alone and the prior loop the official pipeline runs before it. Speaker conditions are given
  (random, already encoded), so the emotion-VAE encodings of the speaker windows are not in the time. With
  --loops measure the loops run for real; with derive (the default on CPU, where a 50-step K=10 loop takes minutes)
  they are steps x the measured step, marked "derived";
- one GAFRG training step of the denoiser as train_diffusion.py does it for the decoder loss: a batch of
  TRAIN_BATCH 50-frame windows (the official batch is 4 speakers x k=10 = 40), timesteps drawn uniformly per speaker
  and repeated k times, `DecoderLatentDiffusion.denoise` (q_sample + denoiser forward in train mode: dropout and
  condition dropout on), the official MSELoss on [batch/k, k, 50*25], backward, AdamW(lr 1e-4, betas 0.9/0.999,
  weight decay 1e-4) step. Not included: the frozen encoders' no-grad forwards and the prior's loss, which the
  official LatentMatcher step also computes.
Each time is the mean over repetitions after one untimed warm-up call (at least --min-time seconds, at least one).
"""
import argparse
import inspect
import json
import os
import sys
import time
import types

ap = argparse.ArgumentParser()
ap.add_argument("official_dir")
ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
ap.add_argument("--threads", type=int, default=2, help="torch CPU threads (match the other side of the comparison)")
ap.add_argument("--train-batch", type=int, default=40)
ap.add_argument("--loops", default="auto", choices=["auto", "measure", "derive"])
ap.add_argument("--min-time", type=float, default=None, help="seconds of timed repetitions per measurement")
ap.add_argument("--skip-train", action="store_true")
ap.add_argument("--only-train", action="store_true", help="only the two training steps (the denoiser's, the full LatentMatcher's)")
args = ap.parse_args()
# Thread counts must be fixed before torch loads its BLAS: a distribution PyTorch built against the system BLAS
# (BLAS_INFO=generic, e.g. Debian's with OpenBLAS put on LD_LIBRARY_PATH) sizes OpenBLAS's pool from these.
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = str(args.threads)
import torch  # noqa: E402

sys.path.insert(0, args.official_dir)
# rotary_embedding_torch decorates with torch.cuda.amp.autocast(enabled=False); newer torch may drop that alias.
if not hasattr(torch.cuda, "amp") or not hasattr(torch.cuda.amp, "autocast"):
    torch.cuda.amp = types.SimpleNamespace(autocast=lambda enabled=True: (lambda f: f))
try:  # gaussian_diffusion.py imports an unused OpenCV constant; OpenCV is not needed for anything timed here.
    import cv2  # noqa: F401
except ImportError:
    sys.modules["cv2"] = types.SimpleNamespace(CAP_PROP_XI_AUTO_BANDWIDTH_CALCULATION=0)
import yaml  # noqa: E402

from model.diffusion.diffusion_decoder.transformer_denoiser import TransformerDenoiser  # noqa: E402
from model.diffusion.diffusion_prior.transformer_prior import CausalTransformer, DiffusionPriorNetwork  # noqa: E402
from model.diffusion.gaussian_diffusion import DecoderLatentDiffusion, PriorLatentDiffusion  # noqa: E402
from model.diffusion.resample import UniformSampler  # noqa: E402
from model.diffusion.utils.losses import DiffusionLoss, MSELoss  # noqa: E402
from model.diffusion.rnn import AutoencoderRNN_VAE_v2  # noqa: E402

dev = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
torch.set_num_threads(args.threads)
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
loops = args.loops if args.loops != "auto" else ("measure" if dev == "cuda" else "derive")
min_time = args.min_time if args.min_time is not None else (1.0 if dev == "cuda" else 2.0)
torch.manual_seed(0)


class Cfg(dict):
    """The official code reads its OmegaConf sections both as cfg.key and cfg.get(key)."""
    __getattr__ = dict.__getitem__


with open(os.path.join(args.official_dir, "configs/diffusion_model.yaml")) as f:
    conf = yaml.safe_load(f)
dc, pc = conf["diffusion_decoder"], conf["diffusion_prior"]
W, K = dc["args"]["window_size"], dc["scheduler"]["k"]
NW = dc["args"]["token_len"] // W  # 15 windows in a 750-frame clip

# Denoiser: every YAML arg (the constructor takes **kwargs); s_audio_scale as the official matcher sets it.
den = TransformerDenoiser(**dc["args"], s_audio_scale=dc["args"]["latent_dim"] ** -0.5).to(dev).eval()
# Prior: the constructor forwards unknown keys to CausalTransformer, so pass only what those two accept.
accepted = set(inspect.signature(DiffusionPriorNetwork).parameters) | set(inspect.signature(CausalTransformer).parameters)
prior = DiffusionPriorNetwork(**{k: v for k, v in pc["args"].items() if k in accepted and k != "dim"}).to(dev).eval()


def emit(key, label, seconds, how, detail=""):
    print(json.dumps({"key": key, "label": label, "seconds": round(seconds, 6), "how": how, "detail": detail}), flush=True)


def sync():
    if dev == "cuda":
        torch.cuda.synchronize()


def timeit(fn):
    fn()  # warm-up (allocator, kernels, caches)
    sync()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        sync()
        n += 1
        if time.perf_counter() - t0 >= min_time or n >= 50:
            return (time.perf_counter() - t0) / n


def conditions(B):
    return {"speaker_audio_encodings": torch.randn(B, W, dc["args"]["s_audio_dim"], device=dev),
            "speaker_3dmm_encodings": torch.randn(B, W, dc["args"]["s_3dmm_dim"], device=dev),
            "speaker_emotion_encodings": torch.rand(B, W, dc["args"]["s_emotion_dim"], device=dev),
            "speaker_latent_embed": torch.randn(B, 1, dc["args"]["s_embed_dim"], device=dev)}


def prior_conditions(c):
    return {"speaker_audio_encodings": c["speaker_audio_encodings"], "speaker_3dmm_encodings": c["speaker_3dmm_encodings"],
            "speaker_latent_emb": c["speaker_latent_embed"]}


name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"


def blas_libraries():
    """The BLAS the process really loaded: a generic-BLAS build is 10-20x slower on the reference libblas."""
    try:
        with open("/proc/self/maps") as m:
            paths = {line.split()[-1] for line in m if "blas" in line.lower() or "libmkl" in line.lower()}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/"))


blas_info = torch.__config__.show()
blas_info = blas_info[blas_info.find("BLAS_INFO="):].split(",")[0] if "BLAS_INFO=" in blas_info else ""
commit = open(os.path.join(args.official_dir, "COMMIT")).read().strip() if os.path.exists(os.path.join(args.official_dir, "COMMIT")) else ""
print(json.dumps({"key": "env", "torch": torch.__version__, "device": dev, "device_name": name,
                  "threads": torch.get_num_threads(), "official_commit": commit, "loops": loops,
                  "blas": blas_info, "blas_libraries": blas_libraries(),
                  "params": {"denoiser": sum(p.numel() for p in den.parameters()),
                             "prior": sum(p.numel() for p in prior.parameters())}}), flush=True)

step = {}
if not args.only_train:
    with torch.no_grad():
        for key, nw, k in (("den_1x10", 1, K), ("den_15x10", NW, K), ("den_15x1", NW, 1)):
            B = nw * k
            x, t, c = torch.randn(B, W, 25, device=dev), torch.full((B,), 500, device=dev), conditions(B)
            step[key] = timeit(lambda: den.forward_with_cond_scale(x, t, c))
            emit(key, f"guided denoiser step, {nw} window{'s' if nw > 1 else ''} x K={k}", step[key], "measured")
        for key, k in (("prior_15x10", K), ("prior_15x1", 1)):
            B = NW * k
            x, t, c = torch.randn(B, 1, pc["args"]["latent_dim"], device=dev), torch.full((B,), 500, device=dev), conditions(B)
            step[key] = timeit(lambda: prior.forward_with_cond_scale(x, t, prior_conditions(c)))
            emit(key, f"prior step, {NW} windows x K={k}", step[key], "measured")


    def sched(section, steps):
        s = Cfg(section["scheduler"])
        return s, s["num_train_timesteps"], steps


    def denoiser_loop(k, steps):
        B = NW * k
        diff = DecoderLatentDiffusion(*sched(dc, steps))
        c = conditions(B)

        def run():
            with torch.no_grad():
                return [o for o in diff.ddim_sample_loop_progressive(matcher=None, model=den, model_kwargs=c, shape=(B, W, 25))][-1]
        return timeit(run)


    def prior_loop(k, steps):
        B = NW * k
        diff = PriorLatentDiffusion(Cfg(pc["args"]), *sched(pc, steps))
        c = prior_conditions(conditions(B))
        gt = torch.zeros(B, 1, pc["args"]["latent_dim"], device=dev)  # the official loop takes only its shape

        def run():
            with torch.no_grad():
                return [o for o in diff.ddim_sample_loop_progressive(matcher=None, model=prior, model_kwargs=c, gt=gt)][-1]
        return timeit(run)


    for k, steps_list in ((K, (50, 10)), (1, (50, 10, 5))):
        for steps in steps_list:
            sk = f"{NW}x{k}"
            what = f"K={k} x {NW * W} frames, {steps} DDIM steps"
            if loops == "measure":
                emit(f"gen_k{k}_{steps}", f"generate {what}: denoiser loop", denoiser_loop(k, steps), "measured")
                emit(f"prior_loop_k{k}_{steps}", f"generate {what}: prior loop", prior_loop(k, steps), "measured")
            else:
                emit(f"gen_k{k}_{steps}", f"generate {what}: denoiser loop", steps * step[f"den_{sk}"], "derived",
                     f"{steps} x guided denoiser step {sk}")
                emit(f"prior_loop_k{k}_{steps}", f"generate {what}: prior loop", steps * step[f"prior_{sk}"], "derived",
                     f"{steps} x prior step {sk}")

if not args.skip_train:
    TB = args.train_batch
    k = K if TB % K == 0 else 1  # timesteps per speaker, repeated k times as the official denoise() does
    diff = DecoderLatentDiffusion(Cfg(dc["scheduler"], k=k), dc["scheduler"]["num_train_timesteps"],
                                  dc["scheduler"]["num_inference_timesteps"])
    sampler = UniformSampler(diff)
    den.train()
    opt = torch.optim.AdamW(den.parameters(), lr=conf["optimizer"]["args"]["lr"],
                            betas=tuple(conf["optimizer"]["args"]["beta"]),
                            weight_decay=float(conf["optimizer"]["args"]["weight_decay"]))
    x0 = torch.rand(TB, W, 25, device=dev) * 2 - 1
    c = conditions(TB)

    def train_step():
        t, _ = sampler.sample(TB // k, dev)
        out = diff.denoise(den, x0, t, model_kwargs=c)  # {prediction_emotion, target_emotion}: [TB/k, k, W, 25]
        loss = MSELoss(out["prediction_emotion"].reshape(-1, k, W * 25), out["target_emotion"].reshape(-1, k, W * 25))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    emit("train", f"GAFRG training step ({TB} windows, AdamW)", timeit(train_step), "measured",
         "q_sample + denoiser forward (train mode) + MSE + backward + AdamW")

    # The whole official LatentMatcher training step (train_diffusion.py with configs/diffusion_model.yaml), as our
    # `train gafrg` runs it: per speaker clip a decoder window and a prior window (the official draws one window start
    # per model, the same for the whole batch), the frozen emotion VAE encoding the speaker windows of both and the
    # prior's listener windows (its GRUCell loop of 50 steps, no grad), the prior's and the decoder's denoise in train
    # mode, DiffusionLoss (MSE on the prior's latent and on the decoded x0, multipliers 1, 1), backward, AdamW over
    # both models, and the loss read back (the official loop's .item()). Data are random tensors on the GPU (loading
    # is not timed on either side).
    S = TB // k  # speaker clips
    le = conf["latent_embedder"]["args"]
    vae = AutoencoderRNN_VAE_v2(types.SimpleNamespace(**le)).to(dev).eval()
    for p in vae.parameters():
        p.requires_grad_(False)
    prior.train()
    pdiff = PriorLatentDiffusion(Cfg(pc["args"]), Cfg(pc["scheduler"], k=k), pc["scheduler"]["num_train_timesteps"],
                                 pc["scheduler"]["num_inference_timesteps"])
    psampler = UniformSampler(pdiff)
    loss_args = {kk: v for kk, v in conf["loss"]["args"].items()}
    opt_full = torch.optim.AdamW(list(den.parameters()) + list(prior.parameters()), lr=conf["optimizer"]["args"]["lr"],
                                 betas=tuple(conf["optimizer"]["args"]["beta"]),
                                 weight_decay=float(conf["optimizer"]["args"]["weight_decay"]))
    emo = lambda n: torch.rand(n, W, 25, device=dev)

    def full_step():
        with torch.no_grad():
            # decoder side: speaker window -> its latent, repeated k times; listener next windows are the targets
            s_emotion = emo(S)
            dec_kwargs = conditions(TB)
            dec_kwargs["speaker_latent_embed"] = vae.encode(s_emotion).unsqueeze(1).repeat_interleave(k, dim=0)
            dec_kwargs["speaker_emotion_encodings"] = s_emotion.repeat_interleave(k, dim=0)
            # prior side: the speaker window's latent (repeated) and the k listener windows' latents as x0
            p_speaker = vae.encode(emo(S)).unsqueeze(1).repeat_interleave(k, dim=0)
            x0_latent = vae.encode(emo(TB)).unsqueeze(1)
            pc_kwargs = prior_conditions(conditions(TB))
            pc_kwargs["speaker_latent_emb"] = p_speaker
        t, _ = sampler.sample(S, dev)
        out_dec = diff.denoise(den, emo(TB) * 2 - 1, t, model_kwargs=dec_kwargs)
        tp, _ = psampler.sample(S, dev)
        out_prior = pdiff.denoise(prior, x0_latent, tp, model_kwargs=pc_kwargs)
        losses = DiffusionLoss(out_prior, out_dec, **loss_args)
        opt_full.zero_grad()
        losses["loss"].backward()
        opt_full.step()
        return losses["loss"].item()
    emit("train_full", f"GAFRG LatentMatcher training step ({S} speakers x k={k}: prior + decoder + VAE encodes, AdamW)",
         timeit(full_step), "measured", "as train_diffusion.py: frozen VAE encodes, both denoise(), DiffusionLoss, backward, AdamW, loss.item()")
