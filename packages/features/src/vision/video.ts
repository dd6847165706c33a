import { EMOTION_DIM, FACE_DIM, type FrameTrack } from "@perfrdiff/layout";
import { loadFaceAnalyzer, type FaceAnalyzerOptions, type RgbImage } from "./face-model";

let resolved: string | undefined;
/** The environment under which a binary was last found to run, so decoders do not re-check on every video. */
let foundFor: string | undefined;
const lookupKey = () => [process.env.PERFRDIFF_FFMPEG, process.env.FFMPEG_PATH, process.env.PATH].join("\0");

/**
 * The ffmpeg binary used to decode video: `$PERFRDIFF_FFMPEG`, else `$FFMPEG_PATH`, else `ffmpeg` on the PATH
 * (Debian: `apt-get install ffmpeg`), else the static build shipped by the optional `@ffmpeg-installer/ffmpeg`
 * dependency (installed with this package, so video works after a plain `pnpm install`). The fallback is found by
 * {@link hasFfmpeg} (and by the decoders, which call it).
 */
export function ffmpegCommand(): string {
  return process.env.PERFRDIFF_FFMPEG || process.env.FFMPEG_PATH || resolved || "ffmpeg";
}

/** Whether an ffmpeg binary runs (see {@link ffmpegCommand} for where it is looked for). */
export async function hasFfmpeg(): Promise<boolean> {
  if (foundFor === lookupKey()) return true;
  const found = await findFfmpeg();
  foundFor = found ? lookupKey() : undefined;
  return found;
}

async function findFfmpeg(): Promise<boolean> {
  const { spawnSync } = await import("node:child_process");
  const runs = (cmd: string) => spawnSync(cmd, ["-hide_banner", "-version"], { stdio: "ignore" }).status === 0;
  if (runs(ffmpegCommand())) return true;
  if (process.env.PERFRDIFF_FFMPEG || process.env.FFMPEG_PATH) return false; // an explicit choice is not overridden
  try {
    const mod = (await import("@ffmpeg-installer/ffmpeg" as string)) as { path?: string; default?: { path: string } };
    const path = mod.path ?? mod.default?.path;
    if (path && runs(path)) {
      resolved = path;
      return true;
    }
  } catch {
    // the optional dependency is not installed (e.g. an unsupported platform)
  }
  return false;
}

export interface EncodeOptions {
  /** frames per second (default 25, REACT's rate) */
  fps?: number;
  /** an audio file to mux in (e.g. the speaker's WAV); the video ends with the shorter of the two */
  audio?: string;
  /** overwrite an existing file (default false: an error) */
  overwrite?: boolean;
}

/**
 * Encodes RGB frames (all `width` x `height`) into an H.264 MP4 (yuv420p, plays everywhere) by piping them to ffmpeg,
 * one frame in memory at a time; written to a temporary name in the same folder and renamed when ffmpeg succeeds.
 * Returns the number of frames written.
 * @throws when ffmpeg is missing or fails (its last output in the message), or a frame has another size
 */
export async function encodeVideo(path: string, frames: Iterable<RgbImage> | AsyncIterable<RgbImage>, options: EncodeOptions = {}): Promise<number> {
  const { spawn } = await import("node:child_process");
  const { access, rename, rm } = await import("node:fs/promises");
  if (!(await hasFfmpeg())) throw new Error(`ffmpeg not found ('${ffmpegCommand()}'); install it (Debian: apt-get install ffmpeg) or set PERFRDIFF_FFMPEG`);
  if (!options.overwrite && (await access(path).then(() => true, () => false))) throw new Error(`${path} exists; pass overwrite to replace it`);
  const fps = options.fps ?? 25;
  const tmp = `${path}.${process.pid}.tmp.mp4`;
  let size: { width: number; height: number } | null = null;
  let child: ReturnType<typeof spawn> | null = null;
  let stderr = "";
  let exit: Promise<number | null> | null = null;
  let count = 0;
  try {
    for await (const frame of frames) {
      if (!size) {
        size = { width: frame.width, height: frame.height };
        const args = ["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", `${frame.width}x${frame.height}`, "-r", String(fps), "-i", "-"];
        if (options.audio) args.push("-i", options.audio, "-c:a", "aac", "-shortest");
        // even sizes for yuv420p
        args.push("-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", tmp);
        child = spawn(ffmpegCommand(), args, { stdio: ["pipe", "ignore", "pipe"] });
        child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
        const c = child;
        exit = new Promise((resolve, reject) => {
          c.on("error", reject);
          c.on("close", resolve);
        });
      }
      if (frame.width !== size.width || frame.height !== size.height) throw new Error(`frame ${count} is ${frame.width} x ${frame.height}; the video is ${size.width} x ${size.height}`);
      const stdin = child!.stdin!;
      if (!stdin.write(frame.data)) await new Promise<void>((resolve) => stdin.once("drain", resolve));
      count++;
    }
    if (!child) throw new Error(`${path}: no frames to encode`);
    child.stdin!.end();
    const code = await exit!;
    if (code !== 0) throw new Error(`${path}: ffmpeg failed (exit ${code}):\n${stderr.slice(-2000)}`);
    await rename(tmp, path);
    return count;
  } catch (err) {
    (child as ReturnType<typeof spawn> | null)?.kill();
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface DecodeOptions {
  /** Frames per second to sample (default 25, REACT's rate). */
  fps?: number;
  /** Frames are scaled down so the width is at most this (default 960). */
  maxWidth?: number;
  /** Stop after this many frames. */
  maxFrames?: number;
}

/**
 * Decodes a video file (anything ffmpeg reads: mp4, webm, ...) into RGB frames at a fixed rate, streaming: one frame
 * in memory at a time. Runs ffmpeg as a child process (`-vf fps=...,scale=...` to raw rgb24 on stdout).
 * @throws naming the file when it is missing or ffmpeg cannot decode it, and when ffmpeg is not installed
 */
export async function* decodeVideoFrames(path: string, options: DecodeOptions = {}): AsyncGenerator<RgbImage> {
  const { spawn } = await import("node:child_process");
  await hasFfmpeg(); // resolves the binary; a missing one is reported below with the command tried
  const { access } = await import("node:fs/promises");
  try {
    await access(path);
  } catch {
    throw new Error(`no such video file: ${path}`);
  }
  const fps = options.fps ?? 25;
  const maxWidth = options.maxWidth ?? 960;
  const args = ["-hide_banner", "-nostdin", "-i", path, "-an", "-vf", `fps=${fps},scale='min(${maxWidth},iw)':-2`];
  if (options.maxFrames !== undefined) args.push("-frames:v", String(options.maxFrames));
  args.push("-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1");
  const child = spawn(ffmpegCommand(), args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let size: [number, number] | undefined;
  const sizeKnown = new Promise<void>((resolve) => {
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
      if (!size) {
        // The output stream line: "Stream #0:0: Video: rawvideo (RGB[24] ...), rgb24, 640x360, ..."
        const m = /Output #0[\s\S]*?Video: rawvideo[^\n]*?, (\d+)x(\d+)/.exec(stderr);
        if (m) {
          size = [Number(m[1]), Number(m[2])];
          resolve();
        }
      }
    });
    child.stderr.on("end", () => resolve());
  });
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new Error(`ffmpeg not found ('${ffmpegCommand()}'); install it (Debian: apt-get install ffmpeg) or set PERFRDIFF_FFMPEG`)
          : err,
      ),
    );
    child.on("close", (code) => resolve(code ?? -1));
  });
  exited.catch(() => undefined);
  let pending: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      if (!size) await Promise.race([sizeKnown, exited]);
      if (!size) throw new Error(`${path}: ffmpeg did not report the frame size:\n${stderr.slice(-2000)}`);
      const frameBytes = size[0] * size[1] * 3;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= frameBytes) {
        const data = new Uint8Array(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
        yield { width: size[0], height: size[1], data };
      }
    }
    const code = await exited;
    if (code !== 0) throw new Error(`${path}: ffmpeg failed (exit ${code}):\n${stderr.slice(-2000)}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

/** Per-frame speaker features estimated from a video: REACT-layout tracks. */
export interface VideoFaceTracks {
  /** `[frames, 25]` */
  emotion: FrameTrack;
  /** `[frames, 58]` (see coefficientsFromFace: estimated blendshapes, pose in radians, image-plane translation) */
  coefficients: FrameTrack;
  /** `[frames]` 1 where a face was found; other frames repeat the last detected face (zeros before the first) */
  detected: Uint8Array;
  width: number;
  height: number;
}

/**
 * Extracts REACT-style per-frame features of the most prominent (largest) face of a video: decodes frames with
 * ffmpeg at `fps` and runs the face analyzer on each.
 * @param frames exact number of frames to return (missing frames at the end repeat the last one); default: all
 */
export async function extractVideoFaceTracks(
  path: string,
  options: DecodeOptions & FaceAnalyzerOptions & { frames?: number; onProgress?: (frames: number) => void } = {},
): Promise<VideoFaceTracks> {
  const analyzer = await loadFaceAnalyzer(options);
  const emo: Float32Array[] = [];
  const fv: Float32Array[] = [];
  const det: number[] = [];
  let last: { e: Float32Array; c: Float32Array } = { e: new Float32Array(EMOTION_DIM), c: new Float32Array(FACE_DIM) };
  let width = 0;
  let height = 0;
  for await (const frame of decodeVideoFrames(path, { ...options, maxFrames: options.frames ?? options.maxFrames })) {
    width = frame.width;
    height = frame.height;
    const faces = await analyzer.analyze(frame);
    if (faces.length > 0) last = { e: faces[0].emotion, c: faces[0].coefficients };
    emo.push(last.e);
    fv.push(last.c);
    det.push(faces.length > 0 ? 1 : 0);
    options.onProgress?.(det.length);
  }
  if (det.length === 0) throw new Error(`${path}: no video frames decoded`);
  const T = options.frames ?? det.length;
  while (emo.length < T) {
    emo.push(last.e);
    fv.push(last.c);
    det.push(0);
  }
  const pack = (rows: Float32Array[], dim: number): FrameTrack => {
    const data = new Float32Array(T * dim);
    for (let t = 0; t < T; t++) data.set(rows[t], t * dim);
    return { frames: T, dim, data };
  };
  return { emotion: pack(emo, EMOTION_DIM), coefficients: pack(fv, FACE_DIM), detected: Uint8Array.from(det.slice(0, T)), width, height };
}
