// Writes the bundled evaluation sample (synthetic, emotion-like REACT data; no real data can be shipped):
// pred [6, 5, 750, 25], speaker [6, 750, 25], listener [6, 750, 25], neighbours [6, 6] with 3 ones per row.
// Run from the repo root after `pnpm build`: node samples/react-eval/make.mjs
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { serializeNpy } from "../../packages/npy/dist/index.js";
import { syntheticReactInputs } from "../../packages/metrics/dist/index.js";

const dir = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, ".");
const inputs = syntheticReactInputs({ n: 6, k: 5, t: 750, nb: 3, seed: 7 });
const files = { pred: inputs.predictions, speaker: inputs.speaker, listener: inputs.listener, neighbours: inputs.neighbours };
for (const [name, a] of Object.entries(files)) writeFileSync(join(dir, `${name}.npy`), serializeNpy(a));
console.log(`wrote ${Object.keys(files).join(", ")} to ${dir}`);
