import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_MODEL_MODULES, SAMPLE_LISTENERS, SAMPLE_SPEAKERS, defaultModelDir, defaultModelFiles, defaultSamplePath, sampleSpeakerFiles } from "./index";

/** The JSON header of a safetensors file (8-byte little-endian length, then the JSON). */
const header = (bytes: Uint8Array) => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
};

describe("the default model's files", () => {
  it("holds a configuration and a weight file per module, each a whole safetensors file", async () => {
    const files = await defaultModelFiles();
    expect(files.config).toMatch(/^person_specific:/m);
    expect(files.config).toMatch(/rank: 4/);
    for (const m of DEFAULT_MODEL_MODULES) {
      const h = header(files.weights[m]);
      const tensors = Object.entries(h).filter(([k]) => k !== "__metadata__");
      expect(tensors.length, m).toBeGreaterThan(3);
      const end = Math.max(...tensors.map(([, t]) => t.data_offsets[1]));
      const headerLength = Number(new DataView(files.weights[m].buffer, files.weights[m].byteOffset).getBigUint64(0, true));
      expect(8 + headerLength + end, `${m}: the header's tensors end where the file does`).toBe(files.weights[m].length);
    }
    const dir = await defaultModelDir();
    expect(readFileSync(join(dir, "config.yaml"), "utf8")).toBe(files.config);
    expect(existsSync(join(dir, "FaceVerse", "mean_face.npy"))).toBe(true);
  });

  it("ships its sample: the speaker clips and one history per listener that sample.json names", async () => {
    const manifest = JSON.parse(readFileSync(await defaultSamplePath("sample.json"), "utf8"));
    expect(manifest.speakers.map((s: { name: string }) => s.name)).toEqual([...SAMPLE_SPEAKERS]);
    expect(manifest.listeners.map((l: { name: string }) => l.name)).toEqual([...SAMPLE_LISTENERS]);
    for (const s of SAMPLE_SPEAKERS) for (const f of Object.values(sampleSpeakerFiles(s))) expect(existsSync(await defaultSamplePath(f)), f).toBe(true);
    for (const l of SAMPLE_LISTENERS) {
      const npy = readFileSync(await defaultSamplePath(`listeners/${l}.npy`));
      expect(npy.subarray(1, 6).toString()).toBe("NUMPY");
      expect(npy.toString("latin1", 10, 80)).toMatch(/'shape': \(751, 58\)/);
    }
  });

  it("names a file it cannot read", async () => {
    await expect(defaultModelFiles({ baseUrl: "file:///nonexistent/model/" })).rejects.toThrow(/cannot read the default model's config\.yaml \(file:\/\/\/nonexistent\/model\/config\.yaml\)/);
  });
});
