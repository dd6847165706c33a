"""Runs the official REACT metric functions on test/fixtures/small and compares them with expected.json.

  python3 check_against_official.py --official-dir PATH/TO/PerFRDiff

Needs torch, tslearn, numba, pandas, scipy. This is how the numpy re-derivation in make_fixtures.py (and so the
TypeScript tests) was checked against the official code itself, on the GPU machine where those packages exist.
Also checks the torch.argmax rule for NaN that FRSyn relies on.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--official-dir", required=True)
args = parser.parse_args()
sys.path.insert(0, args.official_dir)
from metric import (compute_FRC_mp, compute_FRD_mp, compute_FRDvs, compute_FRVar,  # noqa: E402
                    compute_s_mse, compute_TLCC_mp)

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "small")
exp = json.load(open(os.path.join(here, "expected.json")))
pred = torch.from_numpy(np.load(os.path.join(here, "pred.npy")))
speaker = torch.from_numpy(np.load(os.path.join(here, "speaker.npy")))
listener = torch.from_numpy(np.load(os.path.join(here, "listener.npy")))
d = tempfile.mkdtemp()
shutil.copy(os.path.join(here, "neighbours.npy"), os.path.join(d, "person_specific_masked_neighbour_emotion_test.npy"))
cfg = argparse.Namespace(dataset_path=d)
got = {
    "FRCorr": float(compute_FRC_mp(cfg, pred, listener, val_test="test", p=1)),
    "FRdist": float(compute_FRD_mp(cfg, pred, listener, val_test="test", p=1)),
    "FRSyn": float(compute_TLCC_mp(pred, speaker, p=1)),
    "FRDiv": float(compute_s_mse(pred)),
    "FRDvs": float(compute_FRDvs(pred)),
    "FRVar": float(compute_FRVar(pred)),
}
want = dict(exp["official"], FRDiv=exp["FRDiv"], FRDvs=exp["FRDvs"], FRVar=exp["FRVar"])
worst = 0.0
for k, v in got.items():
    rel = abs(v - want[k]) / max(abs(want[k]), 1e-12)
    worst = max(worst, rel)
    print(f"{k:7s} official {v:.10f}  reference {want[k]:.10f}  relative difference {rel:.2e}")
print("torch.argmax([1, nan, 2]) =", int(torch.argmax(torch.tensor([1.0, float("nan"), 2.0]))),
      "(1 means NaN counts as the maximum)")
print("worst relative difference", worst)
