#!/usr/bin/env bash
# evaluate.sh on the GPU machine (no npm there): the CLI bundled by packages/core/bench/device.sh prepare, WebGPU
# through Dawn. The corpus is made again there (perfrdiff synth is deterministic: the same seed and options as train.sh
# give the same files). Here, after `pnpm build` and `bash packages/core/bench/device.sh prepare`:
#   node packages/eval/bench/untrained-run.mjs packages/default-model/model .device/dm/untrained
#   mkdir -p .device/dm && cp .device/core/device/{perfrdiff.mjs,node.xz,dawn.node.xz} .device/dm/
# then on the device, carrying .device/dm and .gl:
#   bash packages/default-model/device.sh        (results in $OUT/eval.tar)
set -euo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
xz -dc .device/dm/node.xz > /tmp/node && chmod +x /tmp/node
xz -dc .device/dm/dawn.node.xz > /tmp/dawn.node
export DAWN_NODE=/tmp/dawn.node
cli="/tmp/node .device/dm/perfrdiff.mjs"
work=/tmp/dm
$cli synth --out $work/data --speakers 16 --listeners 6 --clips 3 --reactions 3 --frames 751 --seed 1
cp -r .device/dm/untrained $work/untrained
# stopped after BUDGET seconds (default 540: a device call lasts at most 600), so what is done still comes back
CLI=$cli BACKEND=webgpu K=10 SAMPLERS="ddim:50 dpm-solver++:20 dpm-solver++:10 dpm-solver++:5" timeout "${BUDGET:-540}" bash packages/default-model/evaluate.sh $work || echo "evaluate.sh stopped: $?"
tar -C $work -cf "${OUT:-/tmp}/eval.tar" eval
