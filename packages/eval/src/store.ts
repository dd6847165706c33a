/**
 * Generated reactions saved clip by clip into a folder, so that a killed evaluation continues where it stopped:
 * `settings.json` (everything that decides the reactions: model, split, task, sampler, seed ...) and one
 * `item-<index>.npy` `[K, T, 25]` float32 per speaker clip, each written to a temporary name and renamed, so a file
 * that exists is complete. A folder made with other settings is refused, never mixed or overwritten.
 */
import { EMOTION_DIM } from "@perfrdiff/layout";

const SETTINGS_FILE = "settings.json";

/** Everything that decides a run's reactions, as JSON values (compared key by key when a run is resumed). */
export type PredictionSettings = Record<string, string | number | boolean | null>;

const itemFile = (item: number) => `item-${String(item).padStart(5, "0")}.npy`;

export class PredictionStore {
  private constructor(
    readonly dir: string,
    readonly settings: PredictionSettings,
    private readonly shape: [number, number, number],
    private readonly saved: Set<number>,
  ) {}

  /**
   * Opens (or creates) the folder for reactions of `k` x `frames` frames per item.
   * @throws when the folder holds a run with other settings (naming the settings that differ), or is a file
   */
  static async open(dir: string, settings: PredictionSettings, k: number, frames: number): Promise<PredictionStore> {
    const { mkdir, readFile, readdir, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    await mkdir(dir, { recursive: true });
    const path = join(dir, SETTINGS_FILE);
    const full: PredictionSettings = { ...settings, k, frames };
    let old: PredictionSettings | null = null;
    try {
      old = JSON.parse(await readFile(path, "utf8")) as PredictionSettings;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`${path}: ${(err as Error).message}`);
    }
    const files = await readdir(dir);
    if (old) {
      const keys = [...new Set([...Object.keys(old), ...Object.keys(full)])];
      const differ = keys.filter((key) => JSON.stringify(old![key]) !== JSON.stringify(full[key]));
      if (differ.length) {
        const what = differ.map((key) => `${key}: ${JSON.stringify(old![key])} there, ${JSON.stringify(full[key])} now`).join("; ");
        throw new Error(`${dir} holds reactions made with other settings (${what}); give another folder to keep both`);
      }
    } else {
      if (files.some((f) => /^item-\d+\.npy$/.test(f))) throw new Error(`${dir} holds reaction files but no ${SETTINGS_FILE}; give an empty or new folder`);
      await writeFile(path, `${JSON.stringify(full, null, 2)}\n`, { flag: "wx" });
    }
    const saved = new Set(files.filter((f) => /^item-\d+\.npy$/.test(f)).map((f) => Number(f.slice(5, -4))));
    return new PredictionStore(dir, full, [k, frames, EMOTION_DIM], saved);
  }

  /** How many items are saved. */
  get count(): number {
    return this.saved.size;
  }

  /** Item `item`'s saved reactions `[K, T, 25]`, or null when it has none. */
  async load(item: number): Promise<Float32Array | null> {
    if (!this.saved.has(item)) return null;
    const { readNpy, toFloat32 } = await import("@perfrdiff/npy");
    const { join } = await import("node:path");
    const path = join(this.dir, itemFile(item));
    const a = await readNpy(path);
    if (a.shape.join() !== this.shape.join()) throw new Error(`${path}: shape [${a.shape.join(", ")}]; this run's reactions are [${this.shape.join(", ")}]`);
    return toFloat32(a.data);
  }

  /** Saves item `item`'s reactions `[K, T, 25]` (atomically: a temporary file renamed). */
  async save(item: number, reactions: Float32Array): Promise<void> {
    const { serializeNpy } = await import("@perfrdiff/npy");
    const { rename, writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const path = join(this.dir, itemFile(item));
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, serializeNpy({ data: reactions, shape: this.shape }));
    await rename(tmp, path);
    this.saved.add(item);
  }
}
