"""Reference values for @perfrdiff/metrics, computed independently with numpy/scipy.

Run: python3 make_fixtures.py (numpy >= 1.24, scipy). Writes fixtures/small/*.npy (the inputs) and
fixtures/small/expected.json. Each metric follows the formulas of the official REACT code (metric/*.py of
baseline_react2024 / PerFRDiff), re-derived here in plain numpy: CCC with np.cov-based Pearson r, nan_to_num and
population variances; DTW as tslearn (sqrt of the minimal accumulated squared Euclidean cost, float64, full matrix);
S-MSE / FRDvs with squared pairwise distances; FRVar with the unbiased variance (torch.var); TLCC with np.corrcoef per
dimension, the float32 mean over dimensions, and torch.argmax's rule that NaN counts as the maximum. FRRea-feat uses
scipy.linalg.sqrtm as pytorch_fid does. The TypeScript code shares none of this code.
"""
import json
import os

import numpy as np
from scipy import linalg

rng = np.random.default_rng(20261124)
N, K, T, M, D = 4, 3, 120, 6, 25


def smooth(x, axis):
    k = np.ones(5) / 5
    return np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), axis, x)


def reactions(shape):
    """Emotion-like sequences: binary AUs (some always 0), smooth valence/arousal, softmax expressions."""
    x = np.zeros(shape + (D,), dtype=np.float32)
    x[..., :15] = (smooth(rng.standard_normal(shape + (15,)), -2) > 0.3).astype(np.float32)
    x[..., 3] = 0.0  # an AU that never fires: a constant dimension
    x[..., 15:17] = np.tanh(smooth(rng.standard_normal(shape + (2,)), -2))
    logits = smooth(rng.standard_normal(shape + (8,)), -2) * 3
    e = np.exp(logits - logits.max(-1, keepdims=True))
    x[..., 17:] = e / e.sum(-1, keepdims=True)
    return x.astype(np.float32)


pred = reactions((N, K, T))
speaker = reactions((N, T))
# Clip 1 has no constant dimension at all, so its TLCC offsets come from real correlation peaks (the others hit the
# official NaN rule and score 49).
speaker[1, :, :15] = smooth(rng.random((T, 15)), 0).astype(np.float32)
pred[1, :, :, :15] = smooth(rng.random((K, T, 15)), 1).astype(np.float32)
pred[1, 0] = np.roll(speaker[1], 7, axis=0) * 0.9 + 0.1 * pred[1, 0]  # follows the speaker 7 frames late
listener = reactions((M, T))
pred[2, 1] = listener[4]  # an exact copy: CCC <= 1 and DTW 0 for that pair
nb = np.zeros((N, M), dtype=np.float32)
nb[0, [0, 2, 5]] = 1
nb[1, [1]] = 1
nb[2, [3, 4]] = 1
nb[3, [0, 1, 2, 5]] = 1


def ccc_official(y_true, y_pred):
    vals = []
    for i in range(y_true.shape[1]):
        c = np.cov(y_true[:, i], y_pred[:, i])
        sd = np.sqrt(np.diag(c))
        with np.errstate(divide="ignore", invalid="ignore"):
            c = c / sd[:, None] / sd[None, :]
        cor = np.clip(np.nan_to_num(c), -1, 1)[0, 1]
        mt, mp = np.mean(y_true[:, i]), np.mean(y_pred[:, i])
        vt, vp = np.var(y_true[:, i]), np.var(y_pred[:, i])
        vals.append(2 * cor * np.std(y_true[:, i]) * np.std(y_pred[:, i]) / (vt + vp + (mt - mp) ** 2 + 1e-8))
    return float(np.mean(vals))


def dtw(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    cost = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    acc = np.full((len(a) + 1, len(b) + 1), np.inf)
    acc[0, 0] = 0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            acc[i, j] = cost[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
    return float(np.sqrt(acc[-1, -1]))


def frdist_pair(p, q):
    return sum(w * dtw(p[:, s:e], q[:, s:e]) for s, e, w in [(0, 15, 1 / 15), (15, 17, 1), (17, 25, 1 / 8)])


def tlcc_offset(p, s, max_lag=49):
    rs = []
    for lag in range(-max_lag, max_lag + 1):
        if lag > 0:
            x, y = p[lag:], s[:-lag]
        elif lag < 0:
            x, y = p[:lag], s[-lag:]
        else:
            x, y = p, s
        with np.errstate(divide="ignore", invalid="ignore"):
            pcc = [np.corrcoef(x[:, i], y[:, i])[0, 1] for i in range(D)]
        rs.append(np.float32(np.mean(np.array(pcc, dtype=np.float32))))
    rs = np.array(rs, dtype=np.float32)
    nan = np.flatnonzero(np.isnan(rs))
    arg = int(nan[0]) if len(nan) else int(np.argmax(rs))
    return abs(len(rs) // 2 - arg), [None if np.isnan(v) else float(v) for v in rs]


best_ccc = np.zeros((N, K))
best_dtw = np.zeros((N, K))
for n in range(N):
    idx = np.flatnonzero(nb[n] == 1)
    for k in range(K):
        best_ccc[n, k] = max(ccc_official(listener[j], pred[n, k]) for j in idx)
        best_dtw[n, k] = min(frdist_pair(pred[n, k], listener[j]) for j in idx)

offsets = np.array([[tlcc_offset(pred[n, k], speaker[n])[0] for k in range(K)] for n in range(N)])

p64 = pred.astype(np.float64)
flat = p64.reshape(N, K, -1)
smse = np.mean([((flat[n][:, None] - flat[n][None]) ** 2).sum() / (K * (K - 1) * flat.shape[-1]) for n in range(N)])
frdvs = sum(((flat[:, k][:, None] - flat[:, k][None]) ** 2).sum() for k in range(K)) / (N * (N - 1) * K) / flat.shape[-1]
frvar = np.var(p64, axis=2, ddof=1).mean()


def window_features(x, w=50):
    feats = []
    for seq in x.reshape(-1, T, D).astype(np.float64):
        for s in range(0, T - w + 1, w):
            win = seq[s:s + w]
            feats.append(np.concatenate([win.mean(0), win.std(0), np.abs(np.diff(win, axis=0)).mean(0)]))
    return np.array(feats)


def frechet(a, b):
    m1, m2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# FRRea-feat on a larger set so that the covariances are full rank (T = 300: 6 windows per sequence).
rea_gen = rng.standard_normal((20, 300, D)).astype(np.float32) * 0.5
rea_real = (rng.standard_normal((15, 300, D)) * 0.7 + 0.2).astype(np.float32)
T_saved = T
T = 300
frrea = frechet(window_features(rea_gen), window_features(rea_real))
T = T_saved

lag_seq, lag_rs = tlcc_offset(pred[1, 0], speaker[1])
expected = {
    "official": {
        "FRCorr": float(best_ccc.sum(1).mean()),
        "FRdist": float(best_dtw.sum(1).mean()),
        "FRSyn": float(offsets[:, 0].mean()),
    },
    "corrected": {
        "FRCorr": float(best_ccc.mean(1).mean()),
        "FRdist": float(best_dtw.mean(1).mean()),
        "FRSyn": float(offsets.mean()),
    },
    "FRDiv": float(smse),
    "FRDvs": float(frdvs),
    "FRVar": float(frvar),
    "bestCcc": best_ccc.ravel().tolist(),
    "bestDtw": best_dtw.ravel().tolist(),
    "offsets": offsets.ravel().tolist(),
    "laggedCorrelations_clip1_pred0": lag_rs,
    "frreaFeat": frrea,
    "dtw_pred00_listener0": {g: dtw(pred[0, 0][:, s:e], listener[0][:, s:e]) for g, (s, e) in
                             {"au": (0, 15), "va": (15, 17), "expr": (17, 25)}.items()},
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "small")
os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "pred.npy"), pred)
np.save(os.path.join(out, "speaker.npy"), speaker)
np.save(os.path.join(out, "listener.npy"), listener)
np.save(os.path.join(out, "neighbours.npy"), nb)
np.save(os.path.join(out, "rea_gen.npy"), rea_gen)
np.save(os.path.join(out, "rea_real.npy"), rea_real)
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
print(json.dumps({k: v for k, v in expected.items() if k in ("official", "corrected", "FRDiv", "FRDvs", "FRVar", "frreaFeat")}, indent=1))
