import type { Command } from "commander";
import { StageProgress } from "../progress";
import { extractReactAudioFeatures, readWav, samplesPerVideoFrame, toMono } from "@perfrdiff/features/audio";
import { ReactDataset, type ReactModality } from "@perfrdiff/features/dataset";
import { write3dmm, writeEmotionCsv } from "@perfrdiff/features/face";
import { extractVideoFaceTracks } from "@perfrdiff/features/vision";
import { writeNpy } from "@perfrdiff/npy";

interface AudioOptions {
  wav: string;
  fps: string;
  frames?: string;
  out: string;
  force?: boolean;
}

/** Video frame rates the audio features may be aligned to (below 1 fps a "frame" would be seconds of audio). */
const MIN_FPS = 1;
const MAX_FPS = 120;

function positive(value: string, flag: string, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) {
    throw new Error(`${flag} must be a positive ${integer ? "whole number" : "number"}, got '${value}'`);
  }
  return n;
}

export function registerFeatures(program: Command): void {
  const features = program
    .command("features")
    .description("Extract model input features from raw recordings: audio (official 78-d) and face video (estimated stand-ins)");

  features
    .command("audio")
    .description(
      "Official PerFRDiff/REACT audio features: per video frame, Kaldi MFCC (13, c0 = log energy) + deltas + delta-deltas of that frame's samples",
    )
    .requiredOption("--wav <file>", "input WAV (8/16/24/32-bit PCM or 32/64-bit float, mono or multi-channel: averaged)")
    .option("--fps <n>", "video frame rate the features are aligned to", "25")
    .option(
      "--frames <n>",
      "number of video frames; the audio is cut or zero-padded to frames x int(sr/fps) samples (default: enough to cover the audio; the official loader uses 751)",
    )
    .requiredOption("--out <file>", "output .npy, float32 [frames, 78] (78 = 3 x 13 x 2 MFCC frames per video frame at 25 fps)")
    .option("--force", "overwrite --out if it exists")
    .addHelpText(
      "after",
      `
Example:
  pnpm perfrdiff features audio --wav speaker.wav --fps 25 --frames 751 --out speaker_audio.npy`,
    )
    .action(async (opts: AudioOptions) => {
      const fps = positive(opts.fps, "--fps", false);
      if (fps < MIN_FPS || fps > MAX_FPS) throw new Error(`--fps must be a video frame rate in [${MIN_FPS}, ${MAX_FPS}] (REACT: 25), got '${opts.fps}'`);
      const frames = opts.frames === undefined ? undefined : positive(opts.frames, "--frames", true);
      const { resolve } = await import("node:path");
      if (resolve(opts.out) === resolve(opts.wav)) throw new Error(`--out ${opts.out} is the input WAV; never written over, --force or not`);
      const audio = await readWav(opts.wav);
      const mono = toMono(audio);
      if (mono.length === 0) throw new Error(`${opts.wav} holds no audio samples`);
      if (audio.truncated) {
        process.stderr.write(
          `warning: ${opts.wav} is cut off: its data chunk declares ${audio.truncated.declaredBytes} bytes, the file holds ${audio.truncated.presentBytes}; the features cover the samples present\n`,
        );
      }
      const feats = extractReactAudioFeatures(mono, audio.sampleRate, fps, frames);
      await writeNpy(opts.out, { data: feats.data, shape: [feats.frames, feats.dim] }, { overwrite: opts.force ?? false });
      const per = samplesPerVideoFrame(audio.sampleRate, fps);
      const covered = Math.min(mono.length, feats.frames * per);
      process.stderr.write(
        `${opts.wav}: ${audio.sampleRate} Hz, ${audio.channels.length} channel(s), ${audio.bitDepth === "32f" ? "32-bit float" : audio.bitDepth === "64" ? "64-bit float" : `${audio.bitDepth}-bit PCM`}, ${(mono.length / audio.sampleRate).toFixed(2)} s -> ` +
          `${opts.out} [${feats.frames}, ${feats.dim}] (${per} samples per frame; ${feats.frames * per - covered} zero-padded, ${mono.length - covered} cut)\n`,
      );
    });

  features
    .command("check")
    .description("Validate a REACT-layout dataset split: report every missing or malformed file with its path")
    .requiredOption("--data <dir>", "dataset root (holding <split>.csv, neighbour_emotion_<split>.npy and <split>/)")
    .option("--split <name>", "train, val or test", "val")
    .option("--person-specific", "use PerFRDiff's person_specific_<split>.csv and its masked neighbour matrix")
    .option("--frames <n>", "minimum frames per emotion/3DMM file", "751")
    .option("--modalities <list>", "comma-separated: audio,emotion,3dmm,video", "audio,emotion,3dmm")
    .option("--shallow", "only check that files exist (do not parse them)")
    .addHelpText("after", "\nExample:\n  pnpm perfrdiff features check --data data --split val")
    .action(async (opts: { data: string; split: string; personSpecific?: boolean; frames: string; modalities: string; shallow?: boolean }) => {
      const frames = positive(opts.frames, "--frames", true);
      const known = ["audio", "emotion", "3dmm", "video"];
      const modalities = opts.modalities.split(",").map((m) => m.trim());
      for (const m of modalities) if (!known.includes(m)) throw new Error(`--modalities: unknown '${m}'; expected ${known.join(", ")}`);
      const ds = await ReactDataset.open(opts.data, opts.split, { list: opts.personSpecific ? "person_specific" : "standard" });
      const progress = new StageProgress();
      let problems;
      try {
        problems = await ds.validate({
          modalities: modalities as ReactModality[],
          frames,
          deep: !opts.shallow,
          onProgress: (done, total) => progress.update("check", done, total, "clips"),
        });
      } finally {
        progress.stop();
      }
      for (const p of problems) process.stdout.write(`${p.path}: ${p.problem}\n`);
      process.stderr.write(`${opts.data} ${opts.split}: ${ds.rows.length} pairs (${ds.length} items), ${ds.listenerIds().length} listeners, ${problems.length} problem(s)\n`);
      if (problems.length > 0) process.exitCode = 1;
    });

  features
    .command("face")
    .description(
      "Per-frame speaker features from a face video (mp4/webm, decoded by ffmpeg): REACT emotion CSV [frames, 25] and FaceVerse-layout coefficients [frames, 58], estimated with face-api (landmarks + expressions); stand-ins for GraphAU/FaceVerse, see the @perfrdiff/features README",
    )
    .requiredOption("--video <file>", "input video (anything ffmpeg decodes; set PERFRDIFF_FFMPEG if ffmpeg is not on the PATH)")
    .option("--fps <n>", "frame rate to sample", "25")
    .option("--frames <n>", "exact number of frames to write (missing frames repeat the last face)")
    .option("--emotion <file>", "output emotion CSV (25 columns, REACT order)")
    .option("--coeffs <file>", "output .npy float32 [frames, 58]")
    .option("--force", "overwrite existing outputs")
    .addHelpText("after", "\nExample:\n  pnpm perfrdiff features face --video speaker.mp4 --frames 751 --emotion speaker.csv --coeffs speaker.npy")
    .action(async (opts: { video: string; fps: string; frames?: string; emotion?: string; coeffs?: string; force?: boolean }) => {
      if (!opts.emotion && !opts.coeffs) throw new Error("give --emotion and/or --coeffs");
      const fps = positive(opts.fps, "--fps", false);
      const frames = opts.frames === undefined ? undefined : positive(opts.frames, "--frames", true);
      const progress = new StageProgress();
      let tracks;
      try {
        tracks = await extractVideoFaceTracks(opts.video, {
          fps,
          frames,
          onProgress: (n) => progress.update("face", n, frames ?? n, "frames"),
        });
      } finally {
        progress.stop();
      }
      const overwrite = opts.force ?? false;
      if (opts.emotion) await writeEmotionCsv(opts.emotion, tracks.emotion, { overwrite });
      if (opts.coeffs) await write3dmm(opts.coeffs, tracks.coefficients, { overwrite });
      const found = tracks.detected.reduce((a, b) => a + b, 0);
      process.stderr.write(
        `${opts.video}: ${tracks.emotion.frames} frames at ${fps} fps (${tracks.width}x${tracks.height}), a face in ${found}` +
          `${opts.emotion ? ` -> ${opts.emotion}` : ""}${opts.coeffs ? ` -> ${opts.coeffs}` : ""}\n`,
      );
    });
}
