"""Reference fixtures for @perfrdiff/diffusion (run: python3 test/make_fixtures.py; numpy >= 1.24, no torch).

The reference math re-states, in NumPy, the formulas of the official PerFRDiff code
(https://github.com/xk0720/PerFRDiff, model/diffusion/gaussian_diffusion.py: get_named_beta_schedule,
betas_for_alpha_bar, GaussianDiffusion.__init__, q_sample, p_mean_variance + p_sample, the DDIM step with an explicit
previous timestep of PriorLatentDiffusion/DecoderLatentDiffusion, the timestep `indices` of those classes, and
TransformerDenoiser.forward_with_cond_scale for guidance), improved-DDPM's space_timesteps/SpacedDiffusion, diffusers'
trailing spacing and DPM-Solver++(2M) update. It is written from those formulas, not copied.
Precision follows the official code: schedule arrays in float64, extracted per timestep and cast to float32
(`_extract_into_tensor(...).float()`), tensor arithmetic in float32.
Random inputs come from numpy's default_rng(20241124) and are stored in the fixtures, so the TS tests feed the same
model outputs and noise. The Philox section checks the TS SeededRandom bit for bit.
"""
import json
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
f32 = np.float32


# ----------------------------------------------------------------------------------------------- schedules
def named_betas(name, T):
    if name == "linear":
        scale = 1000 / T
        return np.linspace(scale * 0.0001, scale * 0.02, T, dtype=np.float64)
    if name == "cosine":
        ab = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1 - ab((i + 1) / T) / max(0.00001, ab(i / T)), 0.999) for i in range(T)])
    if name == "scaled_linear":  # diffusers / latent diffusion
        return np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, T, dtype=np.float64) ** 2
    raise ValueError(name)


class Diffusion:
    """The derived arrays of the official GaussianDiffusion.__init__ (float64)."""

    def __init__(self, betas, timestep_map=None):
        b = np.array(betas, dtype=np.float64)
        self.betas = b
        self.T = len(b)
        self.timestep_map = list(range(self.T)) if timestep_map is None else list(timestep_map)
        alphas = 1.0 - b
        self.ac = np.cumprod(alphas)
        self.ac_prev = np.append(1.0, self.ac[:-1])
        self.sqrt_recip_ac = np.sqrt(1.0 / self.ac)
        self.sqrt_recipm1_ac = np.sqrt(1.0 / self.ac - 1)
        self.post_var = b * (1.0 - self.ac_prev) / (1.0 - self.ac)
        self.post_logvar_clipped = np.log(np.append(self.post_var[1], self.post_var[1:]))
        self.coef1 = b * np.sqrt(self.ac_prev) / (1.0 - self.ac)
        self.coef2 = (1.0 - self.ac_prev) * np.sqrt(alphas) / (1.0 - self.ac)
        self.large_var = np.append(self.post_var[1], b[1:])
        self.large_logvar = np.log(self.large_var)


def space_timesteps(T, section_counts):
    if isinstance(section_counts, str):
        if section_counts.startswith("ddim"):
            desired = int(section_counts[len("ddim"):])
            for i in range(1, T):
                if len(range(0, T, i)) == desired:
                    return set(range(0, T, i))
            raise ValueError
        section_counts = [int(x) for x in section_counts.split(",")]
    size_per = T // len(section_counts)
    extra = T % len(section_counts)
    start_idx = 0
    all_steps = []
    for i, section_count in enumerate(section_counts):
        size = size_per + (1 if i < extra else 0)
        frac_stride = 1 if section_count <= 1 else (size - 1) / (section_count - 1)
        cur_idx = 0.0
        for _ in range(section_count):
            all_steps.append(start_idx + round(cur_idx))
            cur_idx += frac_stride
        start_idx += size
    return set(all_steps)


def respaced(base, use):
    """SpacedDiffusion: new betas keeping the chosen alphas_cumprod."""
    last, betas, tmap = 1.0, [], []
    for i, a in enumerate(base.ac):
        if i in use:
            betas.append(1 - a / last)
            last = a
            tmap.append(i)
    return Diffusion(betas, tmap)


def indices(T, steps, spacing):
    if spacing == "leading":  # official
        r = T // steps
        return (np.arange(0, steps) * r).round()[::-1].copy().astype(np.int64)
    if spacing == "linspace":  # official
        return np.linspace(0, T - 1, steps).round()[::-1].copy().astype(np.int64)
    if spacing == "trailing":  # diffusers (the official variant lacks the -1 and indexes alphas_cumprod[T])
        return np.round(np.arange(T, 0, -T / steps)).astype(np.int64) - 1
    raise ValueError(spacing)


# ----------------------------------------------------------------------------------------------- steps (float32)
def ext(arr, t):
    return f32(arr[t])


def pred_x0(d, kind, out, x, t, clip):
    if kind == "x0":
        x0 = out
    elif kind == "eps":
        x0 = ext(d.sqrt_recip_ac, t) * x - ext(d.sqrt_recipm1_ac, t) * out
    elif kind == "v":
        x0 = ext(np.sqrt(d.ac), t) * x - ext(np.sqrt(1 - d.ac), t) * out
    return np.clip(x0, -1, 1).astype(f32) if clip else x0.astype(f32)


def p_sample(d, kind, out, x, t, noise, var, clip):
    """Official p_mean_variance + p_sample on diffusion d at (its own) index t."""
    x0 = pred_x0(d, kind, out, x, t, clip)
    mean = ext(d.coef1, t) * x0 + ext(d.coef2, t) * x
    logvar = d.large_logvar if var == "fixed_large" else d.post_logvar_clipped
    mask = f32(t != 0)
    return (mean + mask * f32(math.exp(0.5 * logvar[t])) * noise).astype(f32), x0


def ddim_step(d, kind, out, x, t, t_prev, noise, eta, clip, coef64=True):
    """Official DDIM step with explicit t_prev (t_prev = -1 here means alpha_bar_prev = 1).

    coef64=True: the scalar coefficients sqrt(abar_prev), sigma, sqrt(1 - abar_prev - sigma^2) in float64 (the issue's
    "float64 schedule math, float32 tensors"); coef64=False: literally as the torch code, from float32 alpha-bars
    (1 - abar_prev loses ~3 digits near t = 0 there; the tests report that gap separately).
    """
    x0 = pred_x0(d, kind, out, x, t, clip)
    eps = (ext(d.sqrt_recip_ac, t) * x - x0) / ext(d.sqrt_recipm1_ac, t)
    if coef64:
        ab = d.ac[t]
        abp = 1.0 if t_prev == -1 else d.ac[t_prev]
        sigma = eta * math.sqrt((1 - abp) / (1 - ab)) * math.sqrt(1 - ab / abp)
        mean = f32(math.sqrt(abp)) * x0 + f32(math.sqrt(1 - abp - sigma ** 2)) * eps
        sigma = f32(sigma)
    else:
        ab = ext(d.ac, t)
        abp = f32(1.0) if t_prev == -1 else ext(d.ac, t_prev)
        sigma = f32(eta) * np.sqrt((1 - abp) / (1 - ab)) * np.sqrt(1 - ab / abp)
        mean = x0 * np.sqrt(abp) + np.sqrt(1 - abp - sigma ** 2) * eps
    mask = f32(t != 0)
    if noise is None:  # the official code draws randn even when sigma = 0; it has no effect then
        noise = np.zeros_like(x)
    return (mean + mask * sigma * noise).astype(f32), x0


def dpmpp_2m(d, kind, out, x, t, t_prev, prev, clip):
    """DPM-Solver++(2M) (diffusers midpoint form), float64 coefficients; prev = (x0_prev, t_prev_step) or None."""
    x0 = pred_x0(d, kind, out, x, t, clip)
    lam = lambda s: 0.5 * np.log(d.ac[s]) - 0.5 * np.log(1 - d.ac[s])
    abp = 1.0 if t_prev == -1 else d.ac[t_prev]
    sig_t, sig_p, a_p = math.sqrt(1 - d.ac[t]), math.sqrt(1 - abp), math.sqrt(abp)
    h = (math.inf if t_prev == -1 else lam(t_prev)) - lam(t)
    em1 = math.exp(-h) - 1
    res = f32(sig_p / sig_t) * x - f32(a_p * em1) * x0
    if prev is not None and t_prev != -1:
        r = (lam(t) - lam(prev[1])) / h
        d1 = (x0 - prev[0]) / f32(r)
        res = res - f32(0.5 * a_p * em1) * d1
    return res.astype(f32), x0


# ----------------------------------------------------------------------------------------------- Philox (as TS)
M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = np.uint64(0xFFFFFFFF)


def philox4x32(c, k):
    """Vectorised Philox4x32-10: c is (4, n) uint64 holding uint32 words, k is (k0, k1)."""
    c = [np.asarray(w, dtype=np.uint64) for w in c]
    k0, k1 = np.uint64(k[0]), np.uint64(k[1])
    for _ in range(10):
        p0 = np.uint64(M0) * c[0]
        p1 = np.uint64(M1) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ k0, p1 & MASK, (p0 >> np.uint64(32)) ^ c[3] ^ k1, p0 & MASK]
        k0 = (k0 + np.uint64(W0)) & MASK
        k1 = (k1 + np.uint64(W1)) & MASK
    return np.stack(c, axis=1)  # (n, 4)


def seeded_normals(seed, stream, n, first_block=0):
    blocks = (n + 3) // 4
    ctr = np.arange(first_block, first_block + blocks, dtype=np.uint64)
    w = philox4x32([ctr & MASK, ctr >> np.uint64(32), np.full(blocks, stream, np.uint64), np.zeros(blocks, np.uint64)],
                   (seed, 0x5EED)).astype(np.float64)
    u = (w + 0.5) / 4294967296.0
    r0, r1 = np.sqrt(-2 * np.log(u[:, 0])), np.sqrt(-2 * np.log(u[:, 2]))
    a0, a1 = 2 * np.pi * u[:, 1], 2 * np.pi * u[:, 3]
    z = np.stack([r0 * np.cos(a0), r0 * np.sin(a0), r1 * np.cos(a1), r1 * np.sin(a1)], axis=1).reshape(-1)
    return z[:n]


# ----------------------------------------------------------------------------------------------- fake denoiser
def fake_denoiser(x, t, c):
    """Deterministic stand-in model (also in the TS test): an x0 prediction that depends on x, t and cond."""
    return (f32(1.3) * np.tanh(f32(0.9) * x) + f32(0.05) * f32(math.cos(t / 300.0)) + f32(0.2) * c).astype(f32)


def official_loop(d, x_T, cond, guidance=7.5, steps=50, coef64=True):
    """PriorLatentDiffusion/DecoderLatentDiffusion.ddim_sample_loop_progressive with forward_with_cond_scale."""
    idx = indices(d.T, steps, "leading")
    x = x_T.astype(f32)
    trace = []
    for k, t in enumerate(idx):
        t_prev = idx[k + 1] if k < len(idx) - 1 else 0
        # forward_with_cond_scale: batch [zeros; cond] in one pass, then uncond + s (cond - uncond)
        both = fake_denoiser(np.concatenate([x, x]), t, np.concatenate([np.zeros_like(cond), cond]))
        u, c = both[: len(x)], both[len(x):]
        out = (u + f32(guidance) * (c - u)).astype(f32)
        x, _ = ddim_step(d, "x0", out, x, int(t), int(t_prev), None, 0.0, True, coef64=coef64)
        trace.append(x)
    return x, trace


def fl(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20241124)

    # --- schedules and spacing
    cos = Diffusion(named_betas("cosine", 1000))
    sched = {
        "cosine1000": {
            "betas": cos.betas.tolist(), "alphasCumprod": cos.ac.tolist(), "posteriorVariance": cos.post_var.tolist(),
            "posteriorLogVarianceClipped": cos.post_logvar_clipped.tolist(), "posteriorMeanCoef1": cos.coef1.tolist(),
            "posteriorMeanCoef2": cos.coef2.tolist(), "sqrtRecipm1AlphasCumprod": cos.sqrt_recipm1_ac.tolist(),
        },
        "linear1000": {"betas": named_betas("linear", 1000).tolist()},
        "linear250": {"betas": named_betas("linear", 250).tolist()},
        "scaled_linear1000": {"betas": named_betas("scaled_linear", 1000).tolist()},
        "cosine50": {"betas": named_betas("cosine", 50).tolist()},
    }
    spacing = []
    for T, steps in [(1000, 50), (1000, 30), (1000, 7), (100, 12), (1000, 1000), (10, 3)]:
        for sp in ["leading", "trailing", "linspace"]:
            spacing.append({"T": T, "steps": steps, "spacing": sp, "timesteps": indices(T, steps, sp).tolist()})
    spaced = []
    for T, sec in [(1000, "ddim50"), (1000, "10,15,20"), (100, "25"), (1000, "250"), (7, "3,2")]:
        spaced.append({"T": T, "sections": sec, "timesteps": sorted(space_timesteps(T, sec))})
    lead50 = indices(1000, 50, "leading")
    rs = respaced(cos, set(lead50.tolist()))
    respaced_fx = {"timesteps": lead50.tolist(), "betas": rs.betas.tolist(), "timestepMap": rs.timestep_map,
                   "posteriorMeanCoef1": rs.coef1.tolist(), "posteriorMeanCoef2": rs.coef2.tolist(),
                   "posteriorVariance": rs.post_var.tolist()}
    with open(os.path.join(OUT, "schedules.json"), "w") as f:
        json.dump({"schedules": sched, "spacing": spacing, "spaceTimesteps": spaced, "respaced": respaced_fx}, f)

    # --- per-step parity cases (same model outputs and noise fed to both sides)
    shape = [4, 6, 5]
    n = int(np.prod(shape))
    cases = []

    def rnd(scale=1.0):
        return (rng.standard_normal(shape) * scale).astype(f32)

    def add(kind, name, **kw):
        cases.append({"kind": kind, "name": name, "shape": shape, **kw})

    # DDIM, official usage: x0 prediction, clip, eta 0, leading plan (incl. the final 0 -> 0 step)
    for t, tp in [(980, 960), (500, 480), (20, 0), (0, 0)]:
        x, out = rnd(), rnd(0.8)
        y, x0 = ddim_step(cos, "x0", out, x, t, tp, None, 0.0, True)
        y32, _ = ddim_step(cos, "x0", out, x, t, tp, None, 0.0, True, coef64=False)
        add("ddim", f"official x0 clip {t}->{tp}", prediction="x0", clip=True, eta=0, t=t, tPrev=tp, x=fl(x),
            modelOutput=fl(out), prevSample=fl(y), predX0=fl(x0), prevSampleTorchF32=fl(y32))
    for pred in ["eps", "v"]:
        for t, tp, eta in [(999, 979, 0.0), (500, 480, 1.0), (300, 200, 0.5), (19, -1, 0.0)]:
            x, out, z = rnd(), rnd(), rnd()
            y, x0 = ddim_step(cos, pred, out, x, t, tp, z, eta, False)
            add("ddim", f"{pred} eta {eta} {t}->{tp}", prediction=pred, clip=False, eta=eta, t=t, tPrev=tp, x=fl(x),
                modelOutput=fl(out), noise=fl(z), prevSample=fl(y), predX0=fl(x0))
    # DDPM p_sample on the full 1000-step schedule (official p_sample_loop): tPrev = t - 1
    for var in ["fixed_large", "fixed_small"]:
        for pred, clip in [("x0", True), ("eps", False)]:
            for t in [999, 500, 1, 0]:
                x, out, z = rnd(), rnd(0.8), rnd()
                y, x0 = p_sample(cos, pred, out, x, t, z, var, clip)
                add("ddpm", f"full {var} {pred} {t}", prediction=pred, clip=clip, variance=var, t=t, tPrev=t - 1,
                    x=fl(x), modelOutput=fl(out), noise=fl(z), prevSample=fl(y), predX0=fl(x0))
    # DDPM on the respaced schedule (SpacedDiffusion over the official 50 leading timesteps): index i -> map[i]
    for var in ["fixed_large", "fixed_small"]:
        for i in [49, 25, 1, 0]:
            x, out, z = rnd(), rnd(0.8), rnd()
            y, x0 = p_sample(rs, "x0", out, x, i, z, var, True)
            t = rs.timestep_map[i]
            tp = rs.timestep_map[i - 1] if i > 0 else -1
            add("ddpm", f"respaced {var} index {i}", prediction="x0", clip=True, variance=var, t=t, tPrev=tp,
                x=fl(x), modelOutput=fl(out), noise=fl(z), prevSample=fl(y), predX0=fl(x0))
    # DPM-Solver++(2M): a 6-step trailing plan, model outputs given per step, steps chained
    plan = indices(1000, 6, "trailing").tolist()
    x = rnd()
    prev = None
    chain = []
    for k, t in enumerate(plan):
        tp = plan[k + 1] if k + 1 < len(plan) else -1
        out = rnd(0.8)
        y, x0 = dpmpp_2m(cos, "eps", out, x, t, tp, prev, False)
        chain.append({"t": t, "tPrev": tp, "x": fl(x), "modelOutput": fl(out), "prevSample": fl(y), "predX0": fl(x0)})
        prev = (x0, t)
        x = y
    add("dpmpp2m", "eps trailing 6-step chain", prediction="eps", clip=False, chain=chain)

    # qSample, training targets, conversions with per-example t
    x0, eps = rnd(), rnd()
    tq = [0, 250, 640, 999]
    ab = cos.ac[tq].reshape(-1, 1, 1)
    xt = (np.sqrt(ab).astype(f32) * x0 + np.sqrt(1 - ab).astype(f32) * eps).astype(f32)
    v = (np.sqrt(ab).astype(f32) * eps - np.sqrt(1 - ab).astype(f32) * x0).astype(f32)
    forward = {"shape": shape, "t": tq, "x0": fl(x0), "noise": fl(eps), "xt": fl(xt), "v": fl(v)}

    # guidance arithmetic
    u, c = rnd(), rnd()
    guidance = {"shape": shape, "uncond": fl(u), "cond": fl(c), "scale": 7.5, "guided": fl(u + f32(7.5) * (c - u))}

    # the whole official 50-step loop with a fake denoiser, x_T from SeededRandom(1234, 0)
    loop_shape = [3, 4, 5]
    x_T = seeded_normals(1234, 0, int(np.prod(loop_shape))).astype(f32).reshape(loop_shape)
    cond = (rng.standard_normal(loop_shape)).astype(f32)
    final, trace = official_loop(cos, x_T, cond)
    final32, _ = official_loop(cos, x_T, cond, coef64=False)
    print("official loop: float64-coefficient vs literal float32-coefficient reference, max abs diff",
          float(np.abs(final - final32).max()))
    loop = {"shape": loop_shape, "seed": 1234, "xT": fl(x_T), "cond": fl(cond), "final": fl(final), "finalTorchF32": fl(final32),
            "afterStep": {str(k): fl(trace[k]) for k in [0, 1, 24, 48, 49]},
            "timesteps": indices(1000, 50, "leading").tolist()}

    # Philox known answers + seeded normals
    ph = philox4x32([np.arange(5, dtype=np.uint64), np.full(5, 7, np.uint64), np.full(5, 3, np.uint64),
                     np.zeros(5, np.uint64)], (42, 0x5EED))
    random = {"philox_ctr_i_7_3_0_key_42_5eed": ph.astype(np.int64).tolist(),
              "normals_seed1234_stream0": seeded_normals(1234, 0, 11).tolist(),
              "normals_seed1234_stream5_block1000": seeded_normals(1234, 5, 8, first_block=1000).tolist()}

    with open(os.path.join(OUT, "steps.json"), "w") as f:
        json.dump({"cases": cases, "forward": forward, "guidance": guidance, "officialLoop": loop, "random": random}, f)
    print("wrote", len(cases), "step cases")


if __name__ == "__main__":
    main()
