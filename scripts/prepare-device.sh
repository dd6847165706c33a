#!/usr/bin/env bash
# Packs what the GPU device needs to run our metrics benchmark (it has no npm): an xz-compressed node binary, an
# esbuild bundle of the benchmark with the FRdist worker beside it, and the webgpu package (Dawn) for linux-x64.
set -euo pipefail
cd "$(dirname "$0")/.."
D=.device/metrics
mkdir -p "$D/node_modules/webgpu/dist/linux-x64"
rm -f "$D/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$D/node.xz" ] || xz -T0 -c "$(command -v node)" > "$D/node.xz"
pnpm turbo run build --filter=@perfrdiff/metrics >/dev/null
pnpm exec esbuild packages/metrics/bench/frdist-bench.mjs --bundle --platform=node --format=esm \
  --external:webgpu --outfile="$D/bench.mjs" --log-level=warning
pnpm exec esbuild packages/metrics/bench/gpu-check.mjs --bundle --platform=node --format=esm \
  --external:webgpu --outfile="$D/gpu-check.mjs" --log-level=warning
pnpm exec esbuild packages/metrics/src/dtw-worker.ts --bundle --platform=node --format=cjs --outfile="$D/dtw-worker.cjs" --log-level=warning
W=packages/metrics/node_modules/webgpu
cp "$W/index.js" "$W/package.json" "$D/node_modules/webgpu/"
xz -T0 -c "$W/dist/linux-x64/dawn.node" > "$D/dawn.node.xz"
du -sh "$D"
