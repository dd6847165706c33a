/**
 * The bundled default model (@perfrdiff/default-model) as a checkpoint: what a generator loads when it is given no
 * checkpoint, or the name `"default"`. Its folder in Node; its files, fetched, elsewhere.
 */
import { parseConfig } from "../config";
import type { PerFRDiffConfig } from "../config";
import type { CheckpointSource } from "./loader";

/** The checkpoint name that means the bundled default model (a folder called so is `./default`). */
export const DEFAULT_CHECKPOINT = "default";

/** Whether a checkpoint option asks for the default model: none given, or the name {@link DEFAULT_CHECKPOINT}. */
export function isDefaultCheckpoint(source: CheckpointSource | undefined): boolean {
  return source === undefined || source === DEFAULT_CHECKPOINT;
}

/** The default model as a checkpoint source (and, outside Node, its configuration), with its name for messages. */
export async function defaultCheckpoint(): Promise<{ checkpoint: CheckpointSource; config?: PerFRDiffConfig; name: string }> {
  const dm = await import("@perfrdiff/default-model");
  const node = typeof process !== "undefined" && !!process.versions?.node && typeof window === "undefined";
  if (node) return { checkpoint: await dm.defaultModelDir(), name: dm.DEFAULT_MODEL_NAME };
  const files = await dm.defaultModelFiles();
  return { checkpoint: files.weights, config: parseConfig(files.config), name: dm.DEFAULT_MODEL_NAME };
}
