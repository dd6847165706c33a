/**
 * Writing files so that a failure never loses the previous good one (Node): the data go to a temporary file in the
 * same folder, renamed over the target only when complete (a rename is atomic on one file system).
 */

/** A file being written: `commit` puts it in place, `abort` removes it and leaves the target as it was. */
export interface AtomicFile {
  write(bytes: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * Opens `file` for an atomic write. Without `overwrite`, an existing `file` is refused at once (before any work),
 * with `exists` as the message.
 */
export async function openAtomicFile(file: string, options: { overwrite?: boolean; exists?: string } = {}): Promise<AtomicFile> {
  const { access, open, rename, rm } = await import("node:fs/promises");
  if (!options.overwrite && (await access(file).then(() => true, () => false))) {
    throw new Error(options.exists ?? `${file} exists; pass overwrite to replace it`);
  }
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, "w");
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await fh.close();
  };
  return {
    async write(bytes) {
      // Node writes at most 2 GiB per call: larger buffers go in pieces
      for (let at = 0; at < bytes.length; at += 1 << 30) await fh.write(bytes.subarray(at, Math.min(bytes.length, at + (1 << 30))));
    },
    async commit() {
      await close();
      await rename(tmp, file);
    },
    async abort() {
      await close().catch(() => undefined);
      await rm(tmp, { force: true });
    },
  };
}

/** Writes `data` to `file` through a temporary file in the same folder and a rename. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const f = await openAtomicFile(file, { overwrite: true });
  try {
    await f.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
    await f.commit();
  } catch (err) {
    await f.abort();
    throw err;
  }
}

/** Copies `from` to `to` through a temporary file beside `to` and a rename: `to` is never seen half-copied. */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const { copyFile, rename, rm } = await import("node:fs/promises");
  const tmp = `${to}.${process.pid}.tmp`;
  try {
    await copyFile(from, tmp);
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
