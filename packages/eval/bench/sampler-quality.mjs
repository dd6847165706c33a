// Fast-sampler quality on a trained model: every metric of DDIM 50 steps (the official sampler) and of DPM-Solver++
// at 20 / 10 / 5 steps on one split, each compared with DDIM 50 by paired t-tests over the clips, and the generation
// time of each, measured side by side in this run.
//   node packages/eval/bench/sampler-quality.mjs --checkpoint RUN --data DIR [--split val] [--k 10] [--task mafrg]
//     [--frames N] [--guidance G] [--backend wasm] [--out FILE.md]
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { createReactionGenerator, loadModelConfig } from "@perfrdiff/core";
import { loadFaceStats } from "@perfrdiff/features/face";
import { clipRecords, compareRuns, evaluateModelOnSplit, openEvalSplit } from "@perfrdiff/eval";

const { values: a } = parseArgs({
  options: {
    checkpoint: { type: "string" }, data: { type: "string" }, split: { type: "string", default: "val" }, k: { type: "string", default: "10" },
    task: { type: "string", default: "mafrg" }, frames: { type: "string" }, guidance: { type: "string" }, backend: { type: "string", default: "wasm" },
    out: { type: "string" }, rows: { type: "string", default: "ddim:50,dpm-solver++:20,dpm-solver++:10,dpm-solver++:5" },
  },
});
if (!a.checkpoint || !a.data) throw new Error("give --checkpoint RUN --data DIR");
const k = Number(a.k);
const { config } = await loadModelConfig(a.checkpoint);
const frames = a.frames ? Number(a.frames) : config.training.clip_length;
let faceStats;
try {
  faceStats = await loadFaceStats(`${a.data}/FaceVerse`);
} catch {
  faceStats = undefined;
}
const split = await openEvalSplit(a.data, a.split, { task: a.task, frames, faceStats, missingHistory: "generic" });
const gen = await createReactionGenerator({ checkpoint: a.checkpoint, config, backend: a.backend, personalise: a.task === "pmafrg" });
const guidance = a.guidance === undefined ? undefined : Number(a.guidance);
const rows = [];
for (const spec of a.rows.split(",")) {
  const [sampler, steps] = [spec.split(":")[0], Number(spec.split(":")[1])];
  const t0 = performance.now();
  const r = await evaluateModelOnSplit(gen, split, { k, sampler, steps, guidance, seed: 0, metrics: { backend: "wasm", workers: 0 } });
  rows.push({ name: `${sampler} ${steps}`, ms: performance.now() - t0, metrics: r.metrics, records: clipRecords(split.clips, r.perClip) });
  process.stderr.write(`${sampler} ${steps}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
gen.dispose();
const keys = ["FRCorr", "FRdist", "FRDiv", "FRDvs", "FRVar", "FRSyn", "FRRea"];
const ref = rows[0];
const lines = [
  `${split.corpus.items.length} clips of ${a.data} ${a.split} (${a.task}), K ${k}, seed 0; marks: paired t-test against ${ref.name} (+/- better/worse, N.A. not significant at 95%)`,
  "",
  `| sampler | ${keys.join(" | ")} | time (s) | speed-up |`,
  `|---|${keys.map(() => "---").join("|")}|---|---|`,
];
for (const r of rows) {
  const t = r === ref ? {} : compareRuns(r.records, ref.records);
  const cell = (m) => `${r.metrics[m].toPrecision(4)}${t[m] ? ` ${t[m].mark}` : ""}`;
  lines.push(`| ${r.name} | ${keys.map(cell).join(" | ")} | ${(r.ms / 1000).toFixed(1)} | ${(ref.ms / r.ms).toFixed(2)}x |`);
}
const md = `${lines.join("\n")}\n`;
process.stdout.write(md);
if (a.out) await writeFile(a.out, md);
