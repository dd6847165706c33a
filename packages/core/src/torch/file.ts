/**
 * File-backed reading of `torch.save` checkpoints (Node): the zip's central directory is parsed from the end of the
 * file (zip64 included) and each storage is read only when its tensor is asked for, so multi-GB official
 * checkpoints (the full-rank PWSG is 6.5 GB) load without holding the archive in memory, past Node's 2 GiB
 * readFile limit. fflate cannot read zip entries by random access, hence this small reader; deflated entries are
 * inflated with fflate.
 */
import { inflateSync } from "fflate";
import { TorchCheckpointError, checkStorageSize, checkZipEntrySize, extractStateDict, isLazyTorchTensor, materialize, unpickleTorch } from "./checkpoint";
import type { LazyTorchTensor, TorchTensor } from "./checkpoint";
import { openFileAccess, type RandomAccess } from "../io/random-access";

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

/** A checkpoint whose tensors are read on demand. */
export interface TorchCheckpointFile {
  /** State dict entries (geometry only). */
  readonly tensors: Map<string, LazyTorchTensor>;
  /** Reads one tensor's data. */
  load(name: string): Promise<TorchTensor>;
  /** Reads every tensor. */
  loadAll(): Promise<Map<string, TorchTensor>>;
  close(): Promise<void>;
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16)) + b[o + 3] * 0x1000000;
const u64 = (b: Uint8Array, o: number) => {
  const v = u32(b, o) + u32(b, o + 4) * 0x100000000;
  if (!Number.isSafeInteger(v)) throw new TorchCheckpointError("zip64 field beyond 2^53");
  return v;
};

/** Lists a zip archive's entries from its central directory (zip64-aware). */
export async function listZipEntries(ra: RandomAccess, what: string): Promise<Map<string, ZipEntry>> {
  const tailLen = Math.min(ra.size, 65557 + 20);
  const tail = await ra.read(ra.size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new TorchCheckpointError(`${what}: no zip end-of-central-directory record (truncated or not a zip)`);
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(tail, loc) !== 0x07064b50) throw new TorchCheckpointError(`${what}: zip64 locator missing`);
    const rec = await ra.read(u64(tail, loc + 8), 56);
    if (u32(rec, 0) !== 0x06064b50) throw new TorchCheckpointError(`${what}: bad zip64 end-of-central-directory record`);
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
  }
  if (cdOffset + cdSize > ra.size) throw new TorchCheckpointError(`${what}: central directory lies beyond the end of the file (truncated?)`);
  // a central directory entry takes at least 46 bytes: a count beyond that is a lie, not a reason to loop
  if (count > cdSize / 46) throw new TorchCheckpointError(`${what}: the zip directory claims ${count} entries in ${cdSize} bytes (corrupt)`);
  const cd = await ra.read(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  const dec = new TextDecoder();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50) throw new TorchCheckpointError(`${what}: corrupt central directory entry ${i}`);
    const method = u16(cd, p + 10);
    let compressedSize = u32(cd, p + 20);
    let size = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let localOffset = u32(cd, p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new TorchCheckpointError(`${what}: corrupt central directory entry ${i}`);
    const name = dec.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: present fields follow the order size, compressed size, offset
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = u16(cd, e);
      const len = u16(cd, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) (size = u64(cd, q)), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = u64(cd, q)), (q += 8);
        if (localOffset === 0xffffffff) localOffset = u64(cd, q);
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, localOffset });
    p = end + commentLen;
  }
  return entries;
}

async function readEntry(ra: RandomAccess, e: ZipEntry, what: string): Promise<Uint8Array> {
  const head = await ra.read(e.localOffset, 30);
  if (u32(head, 0) !== 0x04034b50) throw new TorchCheckpointError(`${what}: bad local header for ${e.name}`);
  const start = e.localOffset + 30 + u16(head, 26) + u16(head, 28);
  if (start + e.compressedSize > ra.size) throw new TorchCheckpointError(`${what}: ${e.name} extends beyond the end of the file (truncated?)`);
  checkZipEntrySize({ name: e.name, compression: e.method, size: e.compressedSize, originalSize: e.size }, what);
  if (e.method === 0 && e.size !== e.compressedSize) throw new TorchCheckpointError(`${what}: ${e.name} is stored with ${e.compressedSize} bytes but declares ${e.size}`);
  const raw = await ra.read(start, e.compressedSize);
  if (e.method === 0) return raw;
  if (e.method === 8) return inflateSync(raw, { out: new Uint8Array(e.size) });
  throw new TorchCheckpointError(`${what}: ${e.name} uses unsupported zip compression method ${e.method}`);
}

/** Opens a torch.save archive given random access to its bytes. */
export async function openTorchArchive(ra: RandomAccess, what = "checkpoint"): Promise<TorchCheckpointFile> {
  const entries = await listZipEntries(ra, what);
  const pkl = [...entries.keys()].find((n) => n.endsWith("/data.pkl") || n === "data.pkl");
  if (!pkl) throw new TorchCheckpointError(`${what}: zip archive has no data.pkl (not a torch checkpoint)`);
  const prefix = pkl.slice(0, pkl.length - "data.pkl".length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && new TextDecoder().decode(await readEntry(ra, order, what)).trim() !== "little") {
    throw new TorchCheckpointError(`${what}: big-endian checkpoints are not supported`);
  }
  const obj = unpickleTorch(await readEntry(ra, entries.get(pkl)!, what), what, () => null, true, (k) => entries.has(`${prefix}data/${k}`));
  const tensors = extractStateDict<LazyTorchTensor>(obj, what, isLazyTorchTensor);
  // every storage's size against its declaration, before any is read
  for (const t of tensors.values()) {
    const e = entries.get(`${prefix}data/${t.storageKey}`)!;
    checkStorageSize({ key: t.storageKey, storageType: t.storageType, numel: t.storageNumel }, e.size, what);
    checkZipEntrySize({ name: e.name, compression: e.method, size: e.compressedSize, originalSize: e.size }, what);
  }
  const load = async (name: string): Promise<TorchTensor> => {
    const t = tensors.get(name);
    if (!t) throw new TorchCheckpointError(`${what}: no tensor '${name}'`);
    const bytes = await readEntry(ra, entries.get(`${prefix}data/${t.storageKey}`)!, what);
    return materialize(t, bytes);
  };
  return {
    tensors,
    load,
    async loadAll() {
      const out = new Map<string, TorchTensor>();
      for (const k of tensors.keys()) out.set(k, await load(k));
      return out;
    },
    close: async () => ra.close?.(),
  };
}

/** Opens a checkpoint file (Node) for on-demand reading. Close it when done. */
export async function openTorchCheckpoint(path: string): Promise<TorchCheckpointFile> {
  const ra = await openFileAccess(path, (m) => new TorchCheckpointError(m));
  try {
    const head = await ra.read(0, Math.min(2, ra.size));
    if (head[0] !== 0x50 || head[1] !== 0x4b) {
      throw new TorchCheckpointError(
        head[0] === 0x80
          ? `${path} is a legacy (pre-1.6, non-zip) torch file; re-save it with torch.save(obj, path) from PyTorch >= 1.6`
          : `${path} is not a torch.save zip archive (no PK signature)`,
      );
    }
    return await openTorchArchive(ra, path);
  } catch (err) {
    await ra.close?.();
    throw err;
  }
}

/** Reads a checkpoint file's whole state dict (Node), storage by storage. */
export async function readTorchStateDictFile(path: string): Promise<Map<string, TorchTensor>> {
  const f = await openTorchCheckpoint(path);
  try {
    return await f.loadAll();
  } finally {
    await f.close();
  }
}
