// WebGPU test, run on a GPU machine (scripts/device-metrics.sh): FRdist minima on the GPU against the numpy reference
// values of test/fixtures/small and against the CPU kernel on larger random inputs. Exits 1 on a mismatch.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseNpy } from "@perfrdiff/npy";
import { frdistMinima, frdistMinimaWebGPU, prepareInputs, requestWebGPUDevice, syntheticReactInputs } from "../dist/index.js";


const dir = process.argv[2] ?? "packages/metrics/test/fixtures/small";
const t0 = performance.now();
const step = (what) => console.log(`gpu-check: ${what} (${((performance.now() - t0) / 1000).toFixed(2)} s)`);
step("requesting a device");
const device = await requestWebGPUDevice();
if (!device) {
  console.error("gpu-check: no WebGPU adapter");
  process.exit(1);
}
step("device ready");
device.addEventListener?.("uncapturederror", (e) => console.error("gpu-check: uncaptured WebGPU error:", e.error?.message));
device.lost.then((info) => console.error("gpu-check: device lost:", info.message));
const load = (f) => parseNpy(readFileSync(join(dir, `${f}.npy`)));
const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8"));
const small = prepareInputs({ predictions: load("pred"), speaker: load("speaker"), listener: load("listener"), neighbours: load("neighbours") });
const gpu = await frdistMinimaWebGPU(small, device);
step("fixture done");
let worst = 0;
gpu.forEach((v, i) => {
  const ref = expected.bestDtw[i];
  worst = Math.max(worst, ref === 0 ? Math.abs(v) : Math.abs(v - ref) / ref);
});
const big = prepareInputs(syntheticReactInputs({ n: 8, k: 10, t: 750, nb: 10, seed: 3 }));
const g = await frdistMinimaWebGPU(big, device);
step("T=750 on the GPU done");
const c = (await frdistMinima(big)).minima;
step("T=750 on the CPU done");
let worstBig = 0;
g.forEach((v, i) => (worstBig = Math.max(worstBig, Math.abs(v - c[i]) / c[i])));
const ok = worst < 1e-5 && worstBig < 1e-5;
console.log(`gpu-check: fixture max rel. error ${worst.toExponential(2)}, T=750 vs CPU ${worstBig.toExponential(2)}: ${ok ? "PASS" : "FAIL"}`);
process.exit(ok ? 0 : 1);
