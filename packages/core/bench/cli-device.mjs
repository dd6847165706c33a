// The perfrdiff CLI as device.sh bundles it for the GPU machine, which has no node_modules: core finds
// tfjs-webgpu by a runtime import that a bundle cannot follow, so this entry registers the backend first (Dawn from
// $DAWN_NODE), and `--backend webgpu` then finds it registered.
import { exposeWebGPU, nodeWebGPU } from "@perfrdiff/platform";

if (process.env.DAWN_NODE) {
  exposeWebGPU(await nodeWebGPU({ dawn: process.env.DAWN_NODE }));
  await import("@tensorflow/tfjs-backend-webgpu");
}
await import("../../../apps/cli/dist/cli.js");
