// Fills model/ and sample/ of @perfrdiff/default-model from a finished run of train.sh: the run's configuration,
// weights, loss plot and 3DMM statistics; three held-out (val) speaker clips of its corpus (of three speakers) and one 3DMM history per
// synthetic listener (their first training clip), as the dataset stores them; sample.json naming where each came from
// and every listener's style. Run from the repository root after `pnpm build`:
//   node packages/default-model/make-sample.mjs WORK_DIR
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serializeNpy } from "@perfrdiff/npy";
import { ReactDataset } from "@perfrdiff/features/dataset";

const work = process.argv[2];
if (!work) throw new Error("usage: node packages/default-model/make-sample.mjs WORK_DIR (train.sh's)");
const here = dirname(fileURLToPath(import.meta.url));
const [data, run] = [join(work, "data"), join(work, "run")];
const model = join(here, "model");
const sample = join(here, "sample");

// ---- the model: what generate and createReactionGenerator read
rmSync(model, { recursive: true, force: true });
mkdirSync(join(model, "FaceVerse"), { recursive: true });
for (const f of ["config.yaml", "emotion_vae.safetensors", "pssl.safetensors", "denoiser.safetensors", "hypernet.safetensors", "loss.svg"]) copyFileSync(join(run, f), join(model, f));
for (const f of ["mean_face.npy", "std_face.npy"]) copyFileSync(join(data, "FaceVerse", f), join(model, "FaceVerse", f));

// ---- the sample inputs
rmSync(sample, { recursive: true, force: true });
const meta = JSON.parse(readFileSync(join(data, "synth_meta.json"), "utf8"));
const save = (file, t) => {
  mkdirSync(dirname(join(sample, file)), { recursive: true });
  writeFileSync(join(sample, file), serializeNpy({ data: t.data, shape: [t.frames, t.dim] }));
};
const val = await ReactDataset.open(data, "val");
const speakers = [];
// the first clip of each of three speakers
const bySpeaker = new Map();
for (const it of val.items.slice(0, val.rows.length)) if (!bySpeaker.has(it.speaker.split("/")[1])) bySpeaker.set(it.speaker.split("/")[1], it.speaker);
const clips = [...bySpeaker.values()].slice(0, 3);
for (const [i, clip] of clips.entries()) {
  const item = val.items.findIndex((it) => it.speaker === clip);
  const s = await val.sample(item, { clipFrames: 751 });
  const dir = `speakers/${i + 1}`;
  save(`${dir}/audio.npy`, s.speakerAudio);
  save(`${dir}/emotion.npy`, s.speakerEmotion);
  save(`${dir}/3dmm.npy`, s.speaker3dmm);
  copyFileSync(await val.filePath(clip, "audio"), join(sample, dir, "speech.wav"));
  speakers.push({ name: String(i + 1), clip, split: "val" });
}
const train = await ReactDataset.open(data, "train");
const listeners = [];
for (const l of meta.listeners) {
  const name = `L${String(l.index + 1).padStart(2, "0")}`;
  const [item] = train.itemsOfListener(l.id);
  const s = await train.sample(item, { audio: false, emotion: false, clipFrames: 751 });
  save(`listeners/${name}.npy`, s.listener3dmm);
  listeners.push({ name, id: l.id, historyClip: train.items[item].listener, split: "train", style: l.style });
}
writeFileSync(
  join(sample, "sample.json"),
  `${JSON.stringify({ corpus: { generator: meta.generator, seed: meta.seed, options: meta.options }, speakers, listeners }, null, 1)}\n`,
);
console.log(`model/ and sample/ (${speakers.length} speaker clips, ${listeners.length} listeners) written from ${work}`);
