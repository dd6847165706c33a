#!/usr/bin/env bash
# How the bundled default model was made: a synthetic corpus, then every PerFRDiff stage of the small preset trained
# by our trainer on the CPU (wasm), then the held-out split scored against the REACT baselines. Rerun from the
# repository root after `pnpm build`; the same seeds give the same corpus and, on the same backend, the same weights.
#   bash packages/default-model/train.sh [WORK_DIR]      (about 40 minutes on 2 cores)
set -euo pipefail
work=${1:-/tmp/perfrdiff-default-model}
cli=(node apps/cli/dist/cli.js)
data=$work/data
run=$work/run
mkdir -p "$work"
[ -f "$data/train.csv" ] || "${cli[@]}" synth --out "$data" --speakers 16 --listeners 6 --clips 3 --reactions 3 --frames 751 --seed 1
"${cli[@]}" train embedder --data "$data" --out "$run" --preset small --seed 1 --steps "${EMBEDDER_STEPS:-300}" --val-every 100 --force
for stage in pssl:"${PSSL_STEPS:-600}" gafrg:"${GAFRG_STEPS:-3000}" pwsg:"${PWSG_STEPS:-900}"; do
  "${cli[@]}" train "${stage%%:*}" --data "$data" --out "$run" --steps "${stage##*:}" --val-every 300 --resume
done
