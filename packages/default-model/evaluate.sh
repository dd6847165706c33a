#!/usr/bin/env bash
# Scores the default model on the held-out (val) split of its corpus: MAFRG, PMAFRG, an untrained model and the REACT
# baselines, each as every REACT metric and per-clip values, then paired t-tests (perfrdiff compare). From the
# repository root, after train.sh (which leaves the corpus in WORK_DIR/data):
#   bash packages/default-model/evaluate.sh [WORK_DIR]
# Environment: BACKEND (wasm; webgpu on a GPU machine), K (5), MODEL (the packaged model/: its config.yaml holds the
# guidance scale used), CLI (the command to run, default node apps/cli/dist/cli.js; device.sh passes its bundle),
# SAMPLERS (the MAFRG rows, sampler:steps; the first is the reference of the t-tests; default dpm-solver++:10, on a
# GPU "ddim:50 dpm-solver++:20 dpm-solver++:10 dpm-solver++:5"), MAIN (the row PMAFRG, the untrained model and the
# baselines are compared with; default the first of SAMPLERS).
# Writes WORK_DIR/eval/<row>.json, <row>.jsonl (per clip), compare-<a>-<b>.json and times.txt.
set -euo pipefail
work=${1:-/tmp/perfrdiff-default-model}
read -r -a cli <<< "${CLI:-node apps/cli/dist/cli.js}"
backend=${BACKEND:-wasm}
model=${MODEL:-packages/default-model/model}
out=$work/eval
mkdir -p "$out"
[ -d "$work/untrained" ] || node packages/eval/bench/untrained-run.mjs "$model" "$work/untrained"
ev=("${cli[@]}" eval --data "$work/data" --split val --k "${K:-5}" --backend "$backend" --json --force)
timed() { local name=$1 t=$SECONDS; shift; "$@" > "$out/$name.json"; echo "$name: $((SECONDS - t)) s" | tee -a "$out/times.txt"; }
read -r -a samplers <<< "${SAMPLERS:-dpm-solver++:10}"
main=${MAIN:-${samplers[0]}}
tag() { echo "${1/:/-}"; }
for row in "${samplers[@]}"; do
  name=mafrg-$(tag "$row")
  timed "$name" "${ev[@]}" --checkpoint "$model" --sampler "${row%%:*}" --steps "${row##*:}" --per-clip "$out/$name.jsonl"
done
m=$(tag "$main")
at() { echo --sampler "${main%%:*}" --steps "${main##*:}"; }
timed "pmafrg-$m" "${ev[@]}" --checkpoint "$model" --task pmafrg $(at) --per-clip "$out/pmafrg-$m.jsonl"
timed "untrained-$m" "${ev[@]}" --checkpoint "$work/untrained" $(at) --per-clip "$out/untrained-$m.jsonl"
for b in random mime meanseq meanfr gt; do timed "$b" "${ev[@]}" --baseline "$b" --per-clip "$out/$b.jsonl"; done
compare() { "${cli[@]}" compare "$out/$1.jsonl" "$out/$2.jsonl" --json > "$out/compare-$1-$2.json"; }
ref=mafrg-$(tag "${samplers[0]}")
for row in "${samplers[@]:1}"; do compare "mafrg-$(tag "$row")" "$ref"; done
compare "pmafrg-$m" "mafrg-$m"
for b in "untrained-$m" random mime meanseq meanfr; do compare "mafrg-$m" "$b"; done
echo "results in $out"
