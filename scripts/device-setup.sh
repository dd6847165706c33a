# Sourced by the device scripts: Vulkan loader + glvnd from .gl/*.deb, the node binary and Dawn from .device/metrics.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -x /tmp/node ] || { xz -dc .device/metrics/node.xz > /tmp/node && chmod +x /tmp/node; }
xz -dc .device/metrics/dawn.node.xz > .device/metrics/node_modules/webgpu/dist/linux-x64/dawn.node
