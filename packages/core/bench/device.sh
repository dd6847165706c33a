#!/bin/bash
# The GPU variant of `pnpm bench`: our WebGPU side (tfjs-webgpu through Dawn) and the official PyTorch code on CUDA,
# measured in one run on the device machine, printed as the same side-by-side table as bench.mjs.
#
#   packages/core/bench/device.sh prepare   here, from the repo root, after `cd packages/core && pnpm build`:
#       bundles bench.mjs (esbuild, dist included), compresses node and dawn.node, fills .device/core/official from
#       the official mirror (OFFICIAL_REPO) and .gl/ with the Vulkan loader debs when missing; prints what to carry.
#   packages/core/bench/device.sh run       on the device (no npm, no network), from the repo root, carrying
#       .device/core/device, .device/core/official and .gl. Env passes through to bench.mjs (REPS, TRAIN_BATCH,
#       FUSED, SUBMIT_BATCH, ...).
#   packages/core/bench/device.sh checks    on the device: the WebGPU checks (device-webgpu.mjs: parity against the
#       official fixtures, fused kernels against composed ops); exits 1 when one is out of tolerance.
#   packages/core/bench/device.sh profile   on the device: GPU time of one guided step by kernel (profile-webgpu.mjs).
#   packages/core/bench/device.sh train     on the device: training. Our GAFRG step at the official preset
#       (bench/train.mjs: WebGPU, 4 speakers x k=10, prior + decoder + the frozen VAE's encodes, AdamW) beside the
#       official LatentMatcher step in PyTorch (bench_official.py --only-train); then the CLI (bundled from apps/cli)
#       trains the official-size GAFRG on a synthetic corpus for TRAIN_STEPS steps (default 300) after a short embedder
#       stage (its metrics.jsonl and loss.svg copied to $OUT when set); and test/sgd_reference.py writes the SGD
#       fixture ($OUT/sgd.json).
#   packages/core/bench/device.sh compare DIR   on the device: our side of bench.mjs for another build (DIR/bench.mjs,
#       bundled the same way from, say, a worktree of an earlier commit) and for this one, alternating, twice each:
#       whether a change made our numbers worse, on one machine instance (the PyTorch side is not run).
#   packages/core/bench/device.sh samplers  on the device: the CLI trains the small preset on a synthetic corpus
#       (WebGPU; GAFRG_STEPS, default 3000), then evaluates its val split with DDIM 50 (official) and DPM-Solver++
#       20 / 10 / 5 steps (K 10), the REACT baselines and PMAFRG, and t-tests each against DDIM 50 / MAFRG
#       (perfrdiff compare --json); per-clip files and results in $OUT.
set -euo pipefail
D=.device/core/device
case "${1:-}" in
prepare)
  mkdir -p "$D"
  test -f packages/core/dist/index.js || { echo "build first: cd packages/core && pnpm build" >&2; exit 1; }
  esbuild=$(ls -d node_modules/.pnpm/esbuild@0.25.*/node_modules/esbuild/bin/esbuild | head -1)
  for f in bench train device-webgpu profile-webgpu; do
    "$esbuild" "packages/core/bench/$f.mjs" --bundle --platform=node --format=esm --main-fields=main,module \
      --outfile="$D/$f.mjs" --log-level=error \
      --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  done
  # the CLI, for training on a synthetic corpus (needs apps/cli built: pnpm build); cli-device.mjs registers WebGPU
  "$esbuild" packages/core/bench/cli-device.mjs --bundle --platform=node --format=esm --main-fields=main,module \
    --outfile="$D/perfrdiff.mjs" --log-level=error \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
  test -f "$D/node.xz" || xz -T2 -c "$(command -v node)" > "$D/node.xz"
  dawn=$(ls node_modules/.pnpm/webgpu@*/node_modules/webgpu/dist/linux-x64/dawn.node | head -1)
  test -f "$D/dawn.node.xz" || xz -T2 -c "$dawn" > "$D/dawn.node.xz"
  test -f .device/core/official/configs/diffusion_model.yaml ||
    bash packages/core/test/prepare_official.sh "${OFFICIAL_REPO:-/work/.mirror/xk0720+PerFRDiff/repo}"
  if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
    mkdir -p .gl /tmp/amd64/partial
    o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    apt-get $o update >/dev/null
    (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
  fi
  du -sh "$D" .device/core/official .gl
  echo "carry: $D .device/core/official .gl"
  ;;
run | checks | profile | compare | train | samplers)
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  # The NVIDIA driver's Vulkan ICD lives under /usr/local/nvidia on the device.
  if [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
  xz -dc "$D/node.xz" > /tmp/node && chmod +x /tmp/node
  xz -dc "$D/dawn.node.xz" > /tmp/dawn.node
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
  if [ "$1" = checks ]; then
    exec /tmp/node "$D/device-webgpu.mjs" packages/core/test/fixtures/parity /tmp/dawn.node
  elif [ "$1" = profile ]; then
    exec /tmp/node "$D/profile-webgpu.mjs" /tmp/dawn.node
  elif [ "$1" = train ]; then
    echo "## our GAFRG training step, official preset (WebGPU)"
    BACKEND=webgpu DAWN_NODE=/tmp/dawn.node PRESET=official STAGES=gafrg STEPS="${STEPS:-20}" /tmp/node "$D/train.mjs"
    echo "## the official LatentMatcher training step (PyTorch, ${TORCH_DEVICE:-cuda})"
    PYTHONPATH="${PYDEPS:-}" python3 packages/core/test/bench_official.py .device/core/official --device "${TORCH_DEVICE:-cuda}" --only-train
    out=${OUT:-/tmp}
    python3 packages/core/test/sgd_reference.py "$out/sgd.json" && echo "wrote $out/sgd.json"
    echo "## the CLI: official-size GAFRG on a synthetic corpus, ${TRAIN_STEPS:-300} steps"
    cli=(env DAWN_NODE=/tmp/dawn.node /tmp/node "$D/perfrdiff.mjs")
    "${cli[@]}" synth --out /tmp/synth --speakers "${SYNTH_SPEAKERS:-10}" --listeners 4 --seed 1
    run=/tmp/train-run # its checkpoints are large: only the metrics and the plot are copied to $out
    "${cli[@]}" train embedder --data /tmp/synth --out "$run" --preset official --backend webgpu --steps "${EMBEDDER_STEPS:-100}" \
      --dawn /tmp/dawn.node --force --json
    "${cli[@]}" train gafrg --data /tmp/synth --out "$run" --resume --backend webgpu --steps "${TRAIN_STEPS:-300}" \
      --dawn /tmp/dawn.node --val-every 50 --json
    cp "$run/metrics.jsonl" "$run/loss.svg" "$out/" && echo "copied metrics.jsonl, loss.svg to $out"
    exit 0
  elif [ "$1" = samplers ]; then
    out=${OUT:-/tmp/samplers}
    mkdir -p "$out"
    cli=(env DAWN_NODE=/tmp/dawn.node /tmp/node "$D/perfrdiff.mjs")
    timed() { local what=$1 t=$SECONDS; shift; "$@"; echo "$what: $((SECONDS - t)) s" | tee -a "$out/times.txt" >&2; }
    "${cli[@]}" synth --out /tmp/synth --speakers 10 --listeners 4 --seed 1
    run=/tmp/small-run
    for st in embedder:"${EMBEDDER_STEPS:-300}" pssl:"${PSSL_STEPS:-300}" gafrg:"${GAFRG_STEPS:-3000}" pwsg:"${PWSG_STEPS:-300}"; do
      s=${st%%:*}
      flags=(--preset small --force)
      [ "$s" = embedder ] || flags=(--resume)
      timed "train $s" "${cli[@]}" train "$s" --data /tmp/synth --out "$run" "${flags[@]}" --backend webgpu --steps "${st##*:}" --json >> "$out/train.jsonl"
    done
    cp "$run/metrics.jsonl" "$run/loss.svg" "$out/"
    ev=("${cli[@]}" eval --data /tmp/synth --split val --k 10 --json)
    for row in ddim:50 dpm-solver++:20 dpm-solver++:10 dpm-solver++:5; do
      name=${row/:/-}
      timed "eval $name" "${ev[@]}" --checkpoint "$run" --backend webgpu --sampler "${row%%:*}" --steps "${row##*:}" --per-clip "$out/$name.jsonl" | tee "$out/$name.json"
    done
    timed "eval pmafrg dpm-solver++-20" "${ev[@]}" --checkpoint "$run" --backend webgpu --task pmafrg --missing-history generic \
      --sampler dpm-solver++ --steps 20 --per-clip "$out/pmafrg-dpm-solver++-20.jsonl" | tee "$out/pmafrg-dpm-solver++-20.json"
    for b in random mime meanseq meanfr gt; do "${ev[@]}" --baseline "$b" --per-clip "$out/$b.jsonl" | tee "$out/$b.json"; done
    for name in dpm-solver++-20 dpm-solver++-10 dpm-solver++-5 random mime meanseq meanfr; do
      echo "## compare $name vs ddim-50"
      "${cli[@]}" compare "$out/$name.jsonl" "$out/ddim-50.jsonl" --json | tee "$out/compare-$name.json"
    done
    echo "## compare pmafrg vs mafrg (dpm-solver++ 20)"
    "${cli[@]}" compare "$out/pmafrg-dpm-solver++-20.jsonl" "$out/dpm-solver++-20.jsonl" --json | tee "$out/compare-pmafrg.json"
    exit 0
  elif [ "$1" = compare ]; then
    for round in 1 2; do
      for build in "$2" "$D"; do
        echo "## $build/bench.mjs (round $round)"
        BACKEND=webgpu DAWN_NODE=/tmp/dawn.node OFFICIAL_BENCH=/nonexistent /tmp/node "$build/bench.mjs"
      done
    done
    exit 0
  fi
  python3 -c 'import torch, einops, yaml; print("python3 torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
  BACKEND=webgpu DAWN_NODE=/tmp/dawn.node PYTHON="${PYTHON:-python3}" OFFICIAL_DIR="$PWD/.device/core/official" \
    OFFICIAL_BENCH="$PWD/packages/core/test/bench_official.py" TORCH_DEVICE="${TORCH_DEVICE:-cuda}" \
    /tmp/node "$D/bench.mjs"
  ;;
*)
  echo "usage: $0 prepare|run|checks|profile|train|samplers|compare DIR" >&2
  exit 2
  ;;
esac
