// An untrained counterpart of a run (packages/default-model/evaluate.sh uses it): the run's configuration and emotion VAE with a denoiser
// initialised as training initialises one (the official modules' initialisers), never trained, in OUT. Run from the repository root after `pnpm build`:
//   node packages/eval/bench/untrained-run.mjs RUN OUT
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModelConfig } from "@perfrdiff/core";
import { randomWeights, saveWeightFile } from "@perfrdiff/core/weights";

const [run, out] = process.argv.slice(2);
if (!run || !out) throw new Error("usage: node packages/eval/bench/untrained-run.mjs RUN OUT");
const { config } = await loadModelConfig(run);
mkdirSync(join(out, "FaceVerse"), { recursive: true });
for (const f of ["config.yaml", "emotion_vae.safetensors", "FaceVerse/mean_face.npy", "FaceVerse/std_face.npy"]) copyFileSync(join(run, f), join(out, f));
const weights = randomWeights(config, "denoiser", 7);
writeFileSync(join(out, "denoiser.safetensors"), await saveWeightFile("denoiser", weights));
console.log(`an untrained denoiser and the run's emotion VAE in ${out}`);
