// Does personalisation work on a trained run? Two measurements on a REACT-layout corpus (real or from perfrdiff synth):
// 1. PSSL listener-identity retrieval: each validation listener clip's nearest training clip (cosine of PSSL
//    projections) is of the same person? Trained encoder against an untrained one of the same configuration.
// 2. PWSG style: for each validation item whose listener has training clips, K reactions generic and personalised
//    (from the listener's first training clip, as the official test-time history), and the distance of their style
//    statistics (reactionStyle) to that listener's real reactions in the training split; per listener.
//   node packages/eval/bench/personalisation.mjs --run RUN --data DIR [--k 5] [--steps 10] [--guidance 2] [--json]
import { parseArgs } from "node:util";
import { createReactionGenerator, loadModelConfig, tf, useBackend } from "@perfrdiff/core";
import { PersonSpecificEncoder } from "@perfrdiff/core/modules";
import { loadModuleWeights, randomWeights } from "@perfrdiff/core/weights";
import { ReactDataset, loadCorpus } from "@perfrdiff/features/dataset";
import { loadFaceStats } from "@perfrdiff/features/face";
import { listenerRetrieval, reactionStyle, styleDistance, STYLE_COLUMNS } from "@perfrdiff/eval";

// a failure is printed plainly (an error escaping the module would be rethrown by the wasm backend's handler,
// which prints a line of its minified source)
async function main() {
  const { values: a } = parseArgs({
    options: {
      run: { type: "string" }, data: { type: "string" }, k: { type: "string", default: "5" }, steps: { type: "string", default: "10" },
      guidance: { type: "string", default: "2" }, backend: { type: "string", default: "wasm" }, json: { type: "boolean", default: false },
    },
  });
  if (!a.run || !a.data) throw new Error("give --run RUN --data DIR");
  await useBackend(a.backend);
  const { config } = await loadModelConfig(a.run);
  const frames = config.training.clip_length;
  const faceStats = await loadFaceStats(`${a.data}/FaceVerse`);
  const load = async (split) => loadCorpus(await ReactDataset.open(a.data, split), { frames, faceStats });
  const [train, val] = [await load("train"), await load("val")];

  // one entry per distinct clip (a clip is the listener of several mirrored items)
  const listenerClips = (corpus) => {
    const seen = new Set();
    return corpus.items.filter((it) => !seen.has(it.listener3dmm) && seen.add(it.listener3dmm)).map((it) => ({ threeDmm: it.listener3dmm, listenerId: it.listenerId }));
  };
  const gallery = listenerClips(train);
  const known = new Set(gallery.map((c) => c.listenerId));
  const queries = listenerClips(val).filter((c) => known.has(c.listenerId));
  const ps = config.person_specific.args;
  const retrieval = {};
  for (const [name, weights] of [["trained", await loadModuleWeights(a.run, config, "pssl")], ["untrained", randomWeights(config, "pssl", 7)]]) {
    if (!weights) throw new Error(`${a.run} has no pssl weights`);
    retrieval[name] = await listenerRetrieval(new PersonSpecificEncoder(ps, weights), gallery, queries);
    weights.dispose();
  }

  // style: generated reactions of each val item whose listener has training clips, generic and personalised (when the
  // run has the generation modules)
  const k = Number(a.k);
  const canGenerate = (await Promise.all(["denoiser", "hypernet"].map((m) => loadModuleWeights(a.run, config, m)))).every((w) => w && (w.dispose(), true));
  const sampling = { k, steps: Number(a.steps), guidance: Number(a.guidance) };
  const gen = canGenerate ? await createReactionGenerator({ checkpoint: a.run, config, personalise: true }) : null;
  const target = new Map();
  for (const it of train.items) {
    if (!target.has(it.listenerId)) target.set(it.listenerId, { history: it.listener3dmm, emotion: [] });
    target.get(it.listenerId).emotion.push(it.listenerEmotion.data);
  }
  const concat = (parts) => {
    const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) (out.set(p, at), (at += p.length));
    return out;
  };
  const perListener = {};
  let index = 0;
  for (const it of gen ? val.items : []) {
    const t = target.get(it.listenerId);
    if (!t) continue;
    const clip = { audio: tf.tensor2d(it.speakerAudio.data, [frames, 78]), emotion: tf.tensor2d(it.speakerEmotion.data, [frames, 25]), threeDmm: tf.tensor2d(it.speaker3dmm.data, [frames, 58]) };
    const styles = {};
    for (const mode of ["generic", "personalised"]) {
      if (mode === "personalised") {
        const h = tf.tensor2d(t.history.data, [frames, 58]);
        gen.personalise(h);
        h.dispose();
      } else gen.resetPersonalisation();
      const r = await gen.generate(clip, { ...sampling, seed: index });
      styles[mode] = reactionStyle(await r.emotion.data());
      r.emotion.dispose();
    }
    gen.resetPersonalisation();
    tf.dispose(Object.values(clip));
    const real = reactionStyle(concat(t.emotion));
    const row = (perListener[it.listenerId] ??= { items: 0, generic: 0, personalised: 0, real });
    row.items++;
    row.generic += styleDistance(styles.generic, real);
    row.personalised += styleDistance(styles.personalised, real);
    index++;
  }
  gen?.dispose();
  for (const row of Object.values(perListener)) (row.generic /= row.items), (row.personalised /= row.items);
  const listeners = Object.values(perListener);
  const mean = (f) => listeners.reduce((s, r) => s + f(r), 0) / listeners.length;
  const summary = {
    retrieval: Object.fromEntries(Object.entries(retrieval).map(([n, r]) => [n, { accuracy: r.accuracy, chance: r.chance, margin: r.margin, queries: r.queries }])),
    style: { generic: mean((r) => r.generic), personalised: mean((r) => r.personalised), closer: listeners.filter((r) => r.personalised < r.generic).length, listeners: listeners.length },
    perListener,
  };
  if (a.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    const f = (x) => x.toFixed(3);
    console.log(`PSSL retrieval over ${queries.length} validation clips of ${known.size} training identities:`);
    for (const [n, r] of Object.entries(retrieval)) console.log(`  ${n.padEnd(9)} ${f(r.accuracy)} (chance ${f(r.chance)}), margin ${f(r.margin)}`);
    console.log(`style distance to the listener's real reactions (${Object.keys(STYLE_COLUMNS).join(", ")}), K ${k}:`);
    console.log(`  listener                      items  generic  personalised`);
    for (const [id, r] of Object.entries(perListener)) console.log(`  ${id.padEnd(29)} ${String(r.items).padStart(5)}  ${f(r.generic)}    ${f(r.personalised)}`);
    console.log(`  mean                                 ${f(summary.style.generic)}    ${f(summary.style.personalised)}  (closer for ${summary.style.closer} of ${listeners.length})`);
  }
}
main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
