import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type ModuleName } from "@perfrdiff/core";
import { convertTorchCheckpoint } from "@perfrdiff/core/torch";
import { randomWeights, saveWeightFile } from "@perfrdiff/core/weights";
import { encodeWav } from "@perfrdiff/features/audio";
import { ReactLayoutWriter } from "@perfrdiff/features/dataset";
import { parseNpy, serializeNpy } from "@perfrdiff/npy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGenerate, type GenerateCliOptions } from "./commands/generate";
import type { StageProgress } from "./progress";

// A reduced-size model (window 10, width 32; the layout of the official rewrite_weight.yaml) with random weights:
// these tests check the command's plumbing, not reaction quality. Its official-layout PyTorch checkpoints (made by
// the official code) live beside the YAML in core's parity fixtures.
const parityDir = join(__dirname, "..", "..", "..", "packages", "core", "test", "fixtures", "parity");
const yaml = readFileSync(join(parityDir, "parity.yaml"), "utf8");
const cfg = parseConfig(yaml);
const T = 40; // 4 windows of 10 frames

const tmp = mkdtempSync(join(tmpdir(), "perfrdiff-generate-"));
const weightsDir = join(tmp, "weights");
const inputs = join(tmp, "inputs");

/** Deterministic pseudo-random values (a small LCG), so inputs need no tfjs. */
function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 2 * scale;
  });
}
const saveNpy = (name: string, data: Float32Array, shape: number[]) => {
  const p = join(inputs, name);
  writeFileSync(p, serializeNpy({ data, shape }));
  return p;
};

let speaker: Pick<GenerateCliOptions, "speakerAudio" | "speakerEmotion" | "speaker3dmm">;
let history: string;

beforeAll(async () => {
  mkdirSync(weightsDir, { recursive: true });
  mkdirSync(inputs, { recursive: true });
  for (const [i, m] of (["denoiser", "emotion_vae", "pssl", "hypernet"] as ModuleName[]).entries()) {
    const w = randomWeights(cfg, m, 100 * (i + 1));
    writeFileSync(join(weightsDir, `${m}.safetensors`), await saveWeightFile(m, w));
    w.dispose();
  }
  writeFileSync(join(weightsDir, "config.yaml"), yaml);
  speaker = {
    speakerAudio: saveNpy("audio.npy", values(T * 78, 1), [T, 78]),
    speakerEmotion: saveNpy("emotion.npy", values(T * 25, 2).map(Math.abs), [T, 25]),
    speaker3dmm: saveNpy("3dmm.npy", values(T * 58, 3, 0.3), [T, 58]),
  };
  history = saveNpy("history.npy", values(20 * 58, 4, 0.3), [20, 58]);
});

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = (out: string, extra: Partial<GenerateCliOptions> = {}): GenerateCliOptions => ({
  weights: weightsDir,
  ...speaker,
  k: "3",
  steps: "3",
  seed: "1",
  out: join(tmp, out),
  video: false, // one test below makes the video
  ...extra,
});
const read = (out: string, file: string) => readFileSync(join(tmp, out, file));
const npyOf = (out: string, file: string) => parseNpy(new Uint8Array(read(out, file)));

describe("perfrdiff generate", () => {
  it("writes reactions [K, T, 25], coefficients [K, T, 58] and meta.json", async () => {
    const seen: string[] = [];
    const progress = { update: (stage: string, done: number, total: number) => seen.push(`${stage} ${done}/${total}`), stop: () => {} };
    const s = await runGenerate(base("generic"), progress as unknown as StageProgress);
    expect(seen).toEqual(["load 0/2", "load 1/2", "load 2/2", "sampling 0/3", "sampling 1/3", "sampling 2/3", "sampling 3/3"]);
    const r = npyOf("generic", "reactions.npy");
    expect(r.dtype).toBe("<f4");
    expect(r.shape).toEqual([3, T, 25]);
    expect(npyOf("generic", "coefficients.npy").shape).toEqual([3, T, 58]);
    expect(Array.from(r.data as Float32Array).every(Number.isFinite)).toBe(true);
    const meta = JSON.parse(read("generic", "meta.json").toString());
    expect(meta).toMatchObject({
      k: 3,
      frames: T,
      seed: 1,
      sampler: "ddim",
      steps: 3,
      guidance: 7.5,
      backend: "wasm", // the default
      personalised: false,
      listenerHistory: null,
      weights: { source: "converted", modules: ["denoiser", "emotion_vae"], config: join(weightsDir, "config.yaml") },
    });
    expect(meta.timingMs.total).toBeGreaterThan(0);
    expect(s.files.map((p) => p.split(/[\\/]/).pop())).toEqual(["reactions.npy", "coefficients.npy", "reactions.svg", "meta.json"]);
    // the picture: the speaker's valence and one line per reaction, in each panel
    const svg = read("generic", "reactions.svg").toString();
    expect(svg.match(/class="reaction" data-series="valence"/g)?.length).toBe(3);
  });

  it("same seed gives identical bytes; another seed other reactions", async () => {
    await runGenerate(base("again"));
    expect(read("again", "reactions.npy").equals(read("generic", "reactions.npy"))).toBe(true);
    expect(read("again", "coefficients.npy").equals(read("generic", "coefficients.npy"))).toBe(true);
    await runGenerate(base("seed2", { seed: "2" }));
    const a = npyOf("generic", "reactions.npy").data as Float32Array;
    const b = npyOf("seed2", "reactions.npy").data as Float32Array;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-2);
  });

  it("a listener history personalises the model (PSSL + PWSG): other reactions for the same seed", async () => {
    const s = await runGenerate(base("personal", { listenerHistory: history }));
    expect(s.personalised).toBe(true);
    expect(s.weights.modules).toEqual(["denoiser", "emotion_vae", "pssl", "hypernet"]);
    const g = npyOf("generic", "reactions.npy").data as Float32Array;
    const p = npyOf("personal", "reactions.npy").data as Float32Array;
    expect(Math.max(...g.map((v, i) => Math.abs(v - p[i])))).toBeGreaterThan(1e-3);
    expect(JSON.parse(read("personal", "meta.json").toString()).listenerHistory).toBe(history);
  });

  it("refuses to overwrite outputs unless --force", async () => {
    const before = read("generic", "reactions.npy");
    await expect(runGenerate(base("generic", { seed: "5" }))).rejects.toThrow(`${join(tmp, "generic", "reactions.npy")} exists; pass --force to overwrite`);
    expect(read("generic", "reactions.npy").equals(before)).toBe(true);
    await runGenerate(base("generic", { seed: "5", force: true }));
    expect(read("generic", "reactions.npy").equals(before)).toBe(false);
  });

  it("checks --out before any work: a file of that name, or a folder below a file, is refused in words", async () => {
    const file = join(tmp, "a-file");
    writeFileSync(file, "x");
    const opts = (out: string) => ({ ...base("unused"), out });
    await expect(runGenerate(opts(file))).rejects.toThrow(`--out ${file} is a file, not a folder`);
    await expect(runGenerate(opts(join(file, "below")))).rejects.toThrow(`cannot create the --out folder ${join(file, "below")} (${file} is a file)`);
  });

  it("names the file and the shape of a wrong input, and a missing file", async () => {
    const bad = saveNpy("audio77.npy", values(T * 77, 5), [T, 77]);
    await expect(runGenerate(base("bad", { speakerAudio: bad }))).rejects.toThrow(`speaker audio ${bad} has shape [${T}, 77]; expected [frames, 78]`);
    const nan = values(20 * 58, 6);
    nan[3 * 58 + 7] = Number.NaN;
    const nanPath = saveNpy("nan.npy", nan, [20, 58]);
    await expect(runGenerate(base("bad", { listenerHistory: nanPath }))).rejects.toThrow(`listener history ${nanPath} [20, 58]: frame 3, column 7 is NaN`);
    const short = saveNpy("short.npy", values(30 * 25, 7), [30, 25]);
    await expect(runGenerate(base("bad", { speakerEmotion: short }))).rejects.toThrow(/speaker tracks differ in length: .* emotion .*short\.npy 30/);
    await expect(runGenerate(base("bad", { speaker3dmm: "/nonexistent/3dmm.npy" }))).rejects.toThrow("speaker 3DMM: no such file: /nonexistent/3dmm.npy");
    await expect(runGenerate(base("bad", { weights: inputs, config: join(parityDir, "parity.yaml") }))).rejects.toThrow(/has no denoiser\.safetensors/);
    await expect(runGenerate(base("bad", { sampler: "euler" }))).rejects.toThrow("--sampler must be one of ddim, ddpm, dpm-solver++, got 'euler'");
    expect(existsSync(join(tmp, "bad"))).toBe(false);
  });

  it("loads official PyTorch checkpoints from their layout exactly as their import-torch conversion", async () => {
    const converted = join(tmp, "converted");
    mkdirSync(converted);
    const files: Record<string, string> = {
      denoiser: "checkpoints/rewrite_weight/TransformerDenoiser/checkpoint.pth",
      emotion_vae: "checkpoints/embedder_latent/checkpoint.pth",
      pssl: "checkpoints/person_specific/checkpoint.pth",
      hypernet: "checkpoints/rewrite_weight/ModifierNetwork/checkpoint.pth",
    };
    for (const [m, f] of Object.entries(files)) {
      writeFileSync(join(converted, `${m}.safetensors`), convertTorchCheckpoint(cfg, new Uint8Array(readFileSync(join(parityDir, f)))).bytes);
    }
    const config = join(parityDir, "parity.yaml");
    const a = await runGenerate(base("torch", { weights: undefined, checkpointDir: parityDir, config, listenerHistory: history, sampler: "dpm-solver++", steps: "4" }));
    expect(a.weights.source).toBe("torch-checkpoints");
    expect(a.sampler).toBe("dpm-solver++");
    await runGenerate(base("torch-converted", { weights: converted, config, listenerHistory: history, sampler: "dpm-solver++", steps: "4" }));
    expect(read("torch", "reactions.npy").equals(read("torch-converted", "reactions.npy"))).toBe(true);
  });

  it("reads a speaker clip and a listener history from the REACT layout, with the FaceVerse mean face", async () => {
    const data = join(tmp, "react");
    const w = new ReactLayoutWriter(data);
    const clip = "NoXI/001_2016-03-17_Paris/Expert_video/1";
    const listener = "NoXI/001_2016-03-17_Paris/Novice_video/2";
    const frames = T + 1; // like the 751-frame files: the command uses the first 40
    const wav = encodeWav([values(16000 * (frames / 25), 8, 0.5)], 16000);
    const emotion = { frames, dim: 25, data: values(frames * 25, 9).map(Math.abs) };
    const threeDmm = { frames, dim: 58, data: values(frames * 58, 10, 0.3) };
    await w.writeClip("val", clip, { wav, emotion, threeDmm });
    await w.writeClip("val", listener, { threeDmm: { frames: 20, dim: 58, data: values(20 * 58, 11, 0.3) } });
    const mean = values(58, 12, 0.1);
    await w.writeFile("FaceVerse/mean_face.npy", serializeNpy({ data: mean, shape: [58] }));
    await w.writeFile("FaceVerse/std_face.npy", serializeNpy({ data: new Float32Array(58).fill(1), shape: [58] }));

    const speakerless = { speakerAudio: undefined, speakerEmotion: undefined, speaker3dmm: undefined };
    const s = await runGenerate(base("react", { ...speakerless, data, clip, listenerClip: listener }));
    expect(s.frames).toBe(T);
    expect(s.personalised).toBe(true);
    expect(s.faceStats).toBe(join(data, "FaceVerse"));
    expect(s.speaker.emotion).toBe(join(data, "val", "Emotion", "NoXI/001_2016-03-17_Paris/P1/1.csv"));
    // The same files given explicitly, with the same statistics, give the same bytes.
    const f = (m: string, c: string, ext: string) => join(data, "val", m, `${c}.${ext}`);
    await runGenerate(
      base("react-explicit", {
        speakerAudio: f("Audio_files", clip, "wav"),
        speakerEmotion: f("Emotion", "NoXI/001_2016-03-17_Paris/P1/1", "csv"),
        speaker3dmm: f("3D_FV_files", clip, "npy"),
        listenerHistory: f("3D_FV_files", listener, "npy"),
        faceStats: join(data, "FaceVerse"),
        frames: String(T),
      }),
    );
    expect(read("react", "reactions.npy").equals(read("react-explicit", "reactions.npy"))).toBe(true);
    // Without the statistics the 3DMM inputs are taken as given: other reactions, coefficients without the mean.
    await runGenerate(base("react-raw", { ...speakerless, data, clip, listenerClip: listener, faceStats: false }));
    expect(read("react", "reactions.npy").equals(read("react-raw", "reactions.npy"))).toBe(false);
    expect(JSON.parse(read("react", "meta.json").toString()).coefficients.meanFaceAdded).toBe(true);
    expect(JSON.parse(read("react-raw", "meta.json").toString()).coefficients.meanFaceAdded).toBe(false);
  });

  it("needs nothing but --out: the default model answers its sample clip, personalised with --listener, and a video is made", async () => {
    const fast = { k: "2", steps: "2", frames: "100", out: join(tmp, "default") };
    const s = await runGenerate({ ...fast, video: true });
    expect(s.weights.source).toBe("default");
    expect(s.weights.modules).toEqual(["denoiser", "emotion_vae"]);
    expect(s.speaker.threeDmm).toMatch(/default-model[\\/]sample[\\/]speakers[\\/]1[\\/]3dmm\.npy$/);
    expect(s.faceStats).toMatch(/default-model[\\/]model[\\/]FaceVerse$/);
    expect(npyOf("default", "reactions.npy").shape).toEqual([2, 100, 25]);
    const { hasFfmpeg, decodeVideoFrames } = await import("@perfrdiff/features/vision");
    if (await hasFfmpeg()) {
      expect(s.video).toBe("reactions.mp4");
      let frames = 0;
      let width = 0;
      for await (const img of decodeVideoFrames(join(tmp, "default", "reactions.mp4"))) [frames, width] = [frames + 1, img.width];
      expect(frames).toBe(100);
      expect(width).toBe(3 * 192); // the speaker and the 2 reactions
    }
    const personal = await runGenerate({ ...fast, out: join(tmp, "default-L03"), listener: "L03", video: false });
    expect(personal.personalised).toBe(true);
    expect(personal.listenerHistory).toMatch(/listeners[\\/]L03\.npy$/);
    const g = npyOf("default", "reactions.npy").data as Float32Array;
    const p = npyOf("default-L03", "reactions.npy").data as Float32Array;
    expect(Math.max(...g.map((v, i) => Math.abs(v - p[i])))).toBeGreaterThan(1e-3);
    await expect(runGenerate({ ...fast, out: join(tmp, "bad"), listener: "L99" })).rejects.toThrow("--listener must be one of the sample's listeners L01, L02, L03, L04, L05, L06, got 'L99'");
    await expect(runGenerate({ ...fast, out: join(tmp, "bad"), listener: "L01", listenerHistory: history })).rejects.toThrow("give one of --listener-history, --listener-clip or --listener");
  });

  it("is wired into the CLI: listed in --help, --json prints the summary on stdout", () => {
    // the built CLI (turbo builds it before the tests), as a user runs it
    const cli = join(__dirname, "..", "dist", "cli.js");
    const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" });
    expect(help.stdout).toMatch(/^\s+generate \[options\]/m);
    const args = ["--weights", weightsDir, "--speaker-audio", speaker.speakerAudio!, "--speaker-emotion", speaker.speakerEmotion!];
    args.push("--speaker-3dmm", speaker.speaker3dmm!, "--k", "3", "--steps", "3", "--seed", "1", "--out", join(tmp, "cli"), "--json");
    const r = spawnSync(process.execPath, [cli, "generate", ...args], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.reactions).toEqual({ file: "reactions.npy", shape: [3, T, 25] });
    expect(read("cli", "reactions.npy").equals(read("again", "reactions.npy"))).toBe(true);
  });
});
