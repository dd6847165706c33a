import type { Command } from "commander";
import { checkOutputFolder, wholeNumber } from "../inputs";
import { StageProgress } from "../progress";
import { generateSynthCorpus } from "@perfrdiff/features";

interface SynthCliOptions {
  out: string;
  speakers: string;
  listeners: string;
  seed: string;
  clips: string;
  reactions?: string;
  frames: string;
  sampleRate: string;
  trainFraction: string;
  force?: boolean;
}

export function registerSynth(program: Command): void {
  program
    .command("synth")
    .description(
      "Generate a synthetic dyadic corpus in the REACT layout: formant-synthesised speaker speech with face/emotion tracks, and listener reactions driven by documented listening rules and per-listener styles",
    )
    .requiredOption("--out <dir>", "output folder (REACT layout: train.csv, val.csv, neighbour_emotion_*.npy, train/, val/, synth_meta.json)")
    .requiredOption("--speakers <n>", "number of synthetic speakers")
    .requiredOption("--listeners <n>", "number of synthetic listeners (each with its own style)")
    .option("--seed <n>", "random seed; the same seed gives byte-identical output", "0")
    .option("--clips <n>", "different clips per speaker", "2")
    .option("--reactions <n>", "listeners reacting to each speaker clip (appropriate reactions per clip; default min(3, listeners))")
    .option("--frames <n>", "frames per clip at 25 fps (751 = 30 s, as REACT)", "751")
    .option("--sample-rate <hz>", "audio sample rate", "16000")
    .option("--train-fraction <x>", "fraction of speakers in the train split (the rest in val)", "0.8")
    .option("--force", "write into a non-empty --out")
    .addHelpText(
      "after",
      `
Example:
  pnpm perfrdiff synth --out data/synth --speakers 8 --listeners 4 --seed 1
  pnpm perfrdiff eval ...   # every tool reads the folder like the real REACT data`,
    )
    .action(async (opts: SynthCliOptions) => {
      const { readdir } = await import("node:fs/promises");
      const existing = await readdir(opts.out).catch(() => [] as string[]);
      if (existing.length > 0 && !opts.force) throw new Error(`${opts.out} is not empty; pass --force to write into it`);
      await checkOutputFolder(opts.out);
      const trainFraction = Number(opts.trainFraction);
      const progress = new StageProgress();
      const t0 = Date.now();
      try {
        const m = await generateSynthCorpus(opts.out, {
          speakers: wholeNumber(opts.speakers, "--speakers", 1),
          listeners: wholeNumber(opts.listeners, "--listeners", 1),
          seed: wholeNumber(opts.seed, "--seed", 0),
          clipsPerSpeaker: wholeNumber(opts.clips, "--clips", 1),
          reactionsPerClip: opts.reactions === undefined ? undefined : wholeNumber(opts.reactions, "--reactions", 1),
          frames: wholeNumber(opts.frames, "--frames", 1),
          sampleRate: wholeNumber(opts.sampleRate, "--sample-rate", 8000),
          trainFraction,
          onProgress: (done, total) => progress.update("synth", done, total, "pairs"),
        });
        progress.stop();
        const counts = Object.entries(m.splits).map(([s, v]) => `${s}: ${v.pairs.length} pairs`).join(", ");
        process.stderr.write(`wrote ${opts.out} (${counts}; ${m.listeners.length} listeners) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      } finally {
        progress.stop();
      }
    });
}
