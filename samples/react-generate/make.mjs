// Writes the bundled generation sample: one synthetic speaker clip (751 frames at 25 fps) and one listener's 3DMM
// history, cut from a tiny synthetic corpus (no real REACT data can ship), plus that corpus' FaceVerse statistics.
// Run from the repo root after `pnpm build`: node samples/react-generate/make.mjs
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serializeNpy } from "../../packages/npy/dist/index.js";
import { generateSynthCorpus, ReactDataset } from "../../packages/features/dist/index.js";

const dir = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, ".");
const tmp = mkdtempSync(join(tmpdir(), "react-generate-"));
try {
  // 2 speakers x 2 clips, every clip answered by the one listener: the listener has other clips to serve as history.
  await generateSynthCorpus(tmp, { speakers: 2, listeners: 1, seed: 11, clipsPerSpeaker: 2, reactionsPerClip: 1, trainFraction: 1 });
  const ds = await ReactDataset.open(tmp, "train");
  const item = 0; // the first speaker clip and the listener who answered it
  const s = await ds.sample(item, { clipFrames: 751 });
  const [other] = ds.history(item); // the same listener reacting to another clip
  const h = await ds.sample(other, { audio: false, emotion: false, clipFrames: 751 });
  const save = (name, t) => writeFileSync(join(dir, name), serializeNpy({ data: t.data, shape: [t.frames, t.dim] }));
  save("speaker_audio.npy", s.speakerAudio);
  save("speaker_emotion.npy", s.speakerEmotion);
  save("speaker_3dmm.npy", s.speaker3dmm);
  save("listener_history.npy", h.listener3dmm);
  mkdirSync(join(dir, "FaceVerse"), { recursive: true });
  for (const f of ["mean_face.npy", "std_face.npy"]) copyFileSync(join(tmp, "FaceVerse", f), join(dir, "FaceVerse", f));
  const about = { speakerClip: ds.items[item].speaker, listener: ds.items[item].listenerId, historyClip: ds.items[other].listener, seed: 11 };
  writeFileSync(join(dir, "source.json"), `${JSON.stringify(about, null, 2)}\n`);
  console.log(`wrote the speaker clip ${about.speakerClip} and the history ${about.historyClip} of ${about.listener} to ${dir}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
