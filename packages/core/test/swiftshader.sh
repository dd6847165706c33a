#!/bin/bash
# Fetches SwiftShader, Chromium's CPU implementation of Vulkan, and the Vulkan loader from Debian into DIR (default
# <repo>/.swiftshader, git-ignored), so that Dawn (the `webgpu` package) gives tfjs-webgpu a WebGPU adapter on a
# machine without a GPU: src/webgpu.test.ts then runs the WebGPU kernel checks. Needs apt-get (Debian or Ubuntu,
# amd64) and network access to the Debian archive; no root (apt's lists go to a temporary folder). Idempotent.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
dir=${1:-$repo/.swiftshader}
if [ -f "$dir/usr/lib/chromium/vk_swiftshader_icd.json" ] && ls "$dir"/usr/lib/x86_64-linux-gnu/libvulkan.so.1 >/dev/null 2>&1; then
  echo "SwiftShader already in $dir"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$dir"
o="-oDir::State::Lists=$tmp/lists -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDebug::NoLocking=1 -oAPT::Sandbox::User=root"
apt-get $o update >/dev/null
(cd "$tmp" && apt-get $o download chromium-common libvulkan1 >/dev/null)
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dir"; done
test -f "$dir/usr/lib/chromium/vk_swiftshader_icd.json" || { echo "no SwiftShader ICD in chromium-common" >&2; exit 1; }
echo "SwiftShader in $dir: $(ls "$tmp"/*.deb | xargs -n1 basename | tr '\n' ' ')"
