#!/usr/bin/env bash
# Runs on the GPU device (no npm, no network; `device` runs of this repo): the metrics benchmark on WebGPU and 2 CPU workers beside the official
# Python metric code on the same inputs, and the parity check of the test fixtures against the official functions.
# Carried folders (git-ignored, made by scripts/prepare-device.sh and by hand):
#   .device/metrics  node.xz, the bundled benchmark + worker, the webgpu package
#   .device/official a checkout of the official PerFRDiff code (metric/) and tslearn (python package)
#   .gl              Vulkan loader .debs
set -uo pipefail
OUT=${OUT:-/tmp/out}
source scripts/device-setup.sh
export PYTHONPATH=$PWD/.device/official/py
nvidia-smi --query-gpu=name --format=csv,noheader; lscpu | grep -E "Model name|^CPU\(s\)"
python3 -c "import sklearn, numba, tslearn; print('python ok', numba.__version__, tslearn.__version__)"
/tmp/node .device/metrics/gpu-check.mjs packages/metrics/test/fixtures/small 2>&1 | tee "$OUT/gpu-check.txt"
[ "${SKIP_OFFICIAL:-0}" = 1 ] && { /tmp/node .device/metrics/bench.mjs --n "${N:-100}" --workers 2 \
  --official-json .device/metrics/official.json --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"; exit; }
mkdir -p /tmp/bench-in
(cd packages/metrics/test && python3 check_against_official.py --official-dir "$PWD/../../../.device/official/PerFRDiff") 2>&1 | tee "$OUT/parity.txt"
/tmp/node .device/metrics/bench.mjs --n "${N:-100}" --write-inputs /tmp/bench-in --inputs-only
PYTHONUNBUFFERED=1 python3 packages/metrics/bench/official_reference.py --official-dir "$PWD/.device/official/PerFRDiff" \
  --inputs /tmp/bench-in --processes 2 --out "$OUT/official.json" 2>&1 | tail -20
/tmp/node .device/metrics/bench.mjs --n "${N:-100}" --workers 2 --official-json "$OUT/official.json" --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt"
