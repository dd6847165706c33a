"""Times the official REACT metric code on the inputs written by `frdist-bench.mjs --write-inputs DIR`.

  python3 official_reference.py --official-dir PATH/TO/PerFRDiff --inputs DIR --processes 2 --out timings.json

PATH/TO/PerFRDiff is a checkout of the official xk0720/PerFRDiff repository (its metric/ package is imported as is);
tslearn, numba, numpy, scipy, pandas and torch must be importable. Writes the time and value of FRdist (compute_FRD_mp),
FRCorr (compute_FRC_mp) and FRSyn (compute_TLCC_mp), each with the given number of processes, and of the cheap
metrics (S-MSE, FRDvs, FRVar), as JSON for `frdist-bench.mjs --official-json`.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--official-dir", required=True)
parser.add_argument("--inputs", required=True)
parser.add_argument("--processes", type=int, default=2)
parser.add_argument("--out", required=True)
args = parser.parse_args()
sys.path.insert(0, args.official_dir)
from metric import (compute_FRC_mp, compute_FRD_mp, compute_FRDvs, compute_FRVar,  # noqa: E402
                    compute_s_mse, compute_TLCC_mp)

pred = torch.from_numpy(np.load(os.path.join(args.inputs, "pred.npy")))
speaker = torch.from_numpy(np.load(os.path.join(args.inputs, "speaker.npy")))
listener = torch.from_numpy(np.load(os.path.join(args.inputs, "listener.npy")))
# The official functions read the neighbour matrix from <dataset_path>/person_specific_masked_neighbour_emotion_*.npy.
data_dir = tempfile.mkdtemp()
shutil.copy(os.path.join(args.inputs, "neighbours.npy"), os.path.join(data_dir, "person_specific_masked_neighbour_emotion_test.npy"))
cfg = argparse.Namespace(dataset_path=data_dir)
p = args.processes
res = {"processes": p, "n": int(pred.shape[0])}

t0 = time.perf_counter()
res["FRSyn"] = float(compute_TLCC_mp(pred, speaker, p=p))
res["FRSyn_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
res["FRCorr"] = float(compute_FRC_mp(cfg, pred, listener, val_test="test", p=p))
res["FRCorr_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
res["FRdist"] = float(compute_FRD_mp(cfg, pred, listener, val_test="test", p=p))
res["FRdist_s"] = time.perf_counter() - t0
t0 = time.perf_counter()
res["FRDiv"] = float(compute_s_mse(pred))
res["FRDvs"] = float(compute_FRDvs(pred))
res["FRVar"] = float(compute_FRVar(pred))
res["other_s"] = time.perf_counter() - t0
print(json.dumps(res, indent=1))
with open(args.out, "w") as f:
    json.dump(res, f)
