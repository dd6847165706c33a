// The WebGPU checks of test/webgpu-checks.ts on the GPU machine (bundled by `device.sh prepare`, run by
// `device.sh checks`), all of them, official size included; src/webgpu.test.ts runs the same list as vitest cases
// (on SwiftShader in CI).
// usage: node device-webgpu.mjs FIXTURE_DIR DAWN_NODE_PATH; exits 1 when a check is out of its limit.
import { exposeWebGPU, nodeWebGPU } from "@perfrdiff/platform";
import { webgpuChecks } from "../test/webgpu-checks.ts";

const [fixtures, dawn] = process.argv.slice(2);
const api = await nodeWebGPU({ dawn });
if (!api) throw new Error(`cannot load Dawn from ${dawn}`);
exposeWebGPU(api); // tfjs-webgpu registers only when navigator.gpu exists as it loads
await import("@tensorflow/tfjs-backend-webgpu"); // bundled here (useBackend imports it out of bundlers' sight)
const core = await import("../src/index.ts");
console.log("backend", await core.useBackend("webgpu"));
let failed = 0;
for (const check of webgpuChecks(fixtures)) {
  const r = await check.run();
  const ok = r.value <= r.limit;
  if (!ok) failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${check.name}: ${r.detail}`);
}
console.log(failed ? `${failed} check(s) out of their limits` : "all WebGPU checks within their limits");
process.exit(failed ? 1 : 0);
