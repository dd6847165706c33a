import { describe, expect, it } from "vitest";
import { ffmpegCommand, hasFfmpeg } from "./video";

// The optional @ffmpeg-installer/ffmpeg dependency ships a static ffmpeg for these platforms.
const shipped = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "win32-x64"].includes(`${process.platform}-${process.arch}`);

describe.runIf(shipped)("ffmpeg lookup", () => {
  it("falls back to the ffmpeg shipped with the package when none is on the PATH", async () => {
    const path = process.env.PATH;
    const explicit = process.env.PERFRDIFF_FFMPEG;
    process.env.PATH = "/nonexistent";
    delete process.env.PERFRDIFF_FFMPEG;
    try {
      expect(await hasFfmpeg()).toBe(true);
      expect(ffmpegCommand()).toContain("@ffmpeg-installer");
    } finally {
      process.env.PATH = path;
      if (explicit !== undefined) process.env.PERFRDIFF_FFMPEG = explicit;
    }
  });
  it("does not override an explicit PERFRDIFF_FFMPEG", async () => {
    process.env.PERFRDIFF_FFMPEG = "/nonexistent/ffmpeg";
    try {
      expect(await hasFfmpeg()).toBe(false);
      expect(ffmpegCommand()).toBe("/nonexistent/ffmpeg");
    } finally {
      delete process.env.PERFRDIFF_FFMPEG;
    }
  });
});
