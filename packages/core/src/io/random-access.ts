/** Random access to the bytes of a large file, so multi-GB checkpoints are read piece by piece (Node's readFile stops at 2 GiB). */

/** Random access to bytes (a file handle in Node, or an in-memory buffer). */
export interface RandomAccess {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** fs reads are capped at 2 GiB per call: larger reads are made of these. */
const READ_CHUNK = 1 << 30;

/** In-memory bytes as {@link RandomAccess}. */
export function bufferAccess(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.length,
    read: async (offset, length) => {
      if (offset < 0 || offset + length > bytes.length) throw new RangeError(`read of ${length} bytes at ${offset} is outside the ${bytes.length} bytes`);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/**
 * Opens a file (Node) for random access; `fail` makes the error thrown when it cannot be opened or ends early (each
 * reader has its own error class).
 */
export async function openFileAccess(path: string, fail: (message: string) => Error): Promise<RandomAccess> {
  const { open } = await import("node:fs/promises");
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === "ENOENT" ? `no such file: ${path}` : `cannot open ${path} (${code ?? (err as Error).message})`);
  }
  const size = (await fh.stat()).size;
  return {
    size,
    async read(offset, length) {
      const out = new Uint8Array(length);
      for (let done = 0; done < length; ) {
        const { bytesRead } = await fh.read(out, done, Math.min(length - done, READ_CHUNK), offset + done);
        if (bytesRead === 0) throw fail(`${path}: unexpected end of file`);
        done += bytesRead;
      }
      return out;
    },
    close: () => fh.close(),
  };
}
