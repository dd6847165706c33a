"""Reference values of PSSL's supervised contrastive loss for src/training/losses.test.ts.

The official utils/losses.py SupConLoss (PerFRDiff) is written in torch; this is the same computation step by step in
float64 NumPy (torch is not needed): logits = f f^T / T minus the row max, self-pairs masked out of the denominator and
the positives, the mean log-probability of each anchor's positives (divided by max(#positives, 1)), times
-(T / base_T), averaged. Writes test/fixtures/supcon/supcon.json.

usage: python3 test/supcon_reference.py
"""
import json
import os

import numpy as np


def supcon(feature, label, temperature, base_temperature):
    n = feature.shape[0]
    label = label.reshape(-1, 1)
    mask = (label == label.T).astype(np.float64)
    anchor_dot_contrast = feature @ feature.T / temperature
    logits = anchor_dot_contrast - anchor_dot_contrast.max(axis=1, keepdims=True)
    logits_mask = np.ones_like(mask)
    logits_mask[np.arange(n), np.arange(n)] = 0
    mask = mask * logits_mask
    exp_logits = np.exp(logits) * logits_mask
    log_prob = logits - np.log(exp_logits.sum(1, keepdims=True))
    pos = mask.sum(1)
    pos = np.where(pos < 1e-6, 1, pos)
    mean_log_prob_pos = (mask * log_prob).sum(1) / pos
    return float((-(temperature / base_temperature) * mean_log_prob_pos).mean())


rng = np.random.default_rng(2024)
cases = []
for n, d, labels, t, bt in [
    (6, 8, [0, 0, 1, 1, 2, 2], 0.07, 0.07),
    (7, 5, [3, 1, 3, 3, 0, 1, 2], 0.07, 0.07),  # label 0 and 2 have no positive
    (5, 4, [1, 1, 1, 1, 1], 0.5, 0.07),
]:
    f = rng.standard_normal((n, d)).astype(np.float32)
    f /= np.linalg.norm(f, axis=1, keepdims=True)
    cases.append({
        "features": f.astype(np.float64).tolist(),
        "labels": labels,
        "temperature": t,
        "base_temperature": bt,
        "loss": supcon(f.astype(np.float64), np.array(labels), t, bt),
    })
out = os.path.join(os.path.dirname(__file__), "fixtures", "supcon", "supcon.json")
with open(out, "w") as fh:
    json.dump({"made_by": "test/supcon_reference.py (NumPy, float64)", "cases": cases}, fh, indent=1)
print(out)
