/**
 * Reads PyTorch checkpoints written by `torch.save` (the zip format of PyTorch >= 1.6): a zip archive holding
 * `<name>/data.pkl` (the pickled object tree) and `<name>/data/<key>` (one raw little-endian storage per key).
 * Works in Node and the browser (input is bytes). The zip container is read with fflate (maintained, no deps).
 */
import { unzipSync } from "fflate";
import { PickleError, PickleGlobal, PickleObject, describePickleValue, unpickle } from "./pickle";
import type { PickleCallable } from "./pickle";
import { halfToFloat } from "../weights/float16";

/** Element types of torch storages that we read. */
export type TorchDtype = "float32" | "float16" | "bfloat16" | "float64" | "int64" | "int32" | "int16" | "int8" | "uint8" | "bool";

/** A dense, C-ordered tensor copied out of a checkpoint. Floating tensors are widened/narrowed to Float32Array. */
export interface TorchTensor {
  /** The dtype stored in the checkpoint. */
  dtype: TorchDtype;
  shape: number[];
  /** float* -> Float32Array; int64 -> BigInt64Array; int32/16/8 -> Int32Array; uint8/bool -> Uint8Array. */
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

/** A tensor whose data have not been read yet (file-backed checkpoints): geometry plus its storage's key. */
export interface LazyTorchTensor {
  lazy: true;
  dtype: TorchDtype;
  shape: number[];
  strides: number[];
  offset: number;
  storageKey: string;
  storageType: string;
  /** Elements in the storage, as the checkpoint declares them. */
  storageNumel: number;
}

/** Raised for anything that is not a readable torch checkpoint; the message says what and where. */
export class TorchCheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TorchCheckpointError";
  }
}

const STORAGE_TYPES: Record<string, { dtype: TorchDtype; bytes: number }> = {
  FloatStorage: { dtype: "float32", bytes: 4 },
  HalfStorage: { dtype: "float16", bytes: 2 },
  BFloat16Storage: { dtype: "bfloat16", bytes: 2 },
  DoubleStorage: { dtype: "float64", bytes: 8 },
  LongStorage: { dtype: "int64", bytes: 8 },
  IntStorage: { dtype: "int32", bytes: 4 },
  ShortStorage: { dtype: "int16", bytes: 2 },
  CharStorage: { dtype: "int8", bytes: 1 },
  ByteStorage: { dtype: "uint8", bytes: 1 },
  BoolStorage: { dtype: "bool", bytes: 1 },
};
/** torch >= 2 pickles dtypes (`torch.float32`) for UntypedStorage-based tensors. */
const DTYPE_NAMES: Record<string, string> = {
  float32: "FloatStorage",
  float: "FloatStorage",
  float16: "HalfStorage",
  half: "HalfStorage",
  bfloat16: "BFloat16Storage",
  float64: "DoubleStorage",
  double: "DoubleStorage",
  int64: "LongStorage",
  long: "LongStorage",
  int32: "IntStorage",
  int: "IntStorage",
  int16: "ShortStorage",
  int8: "CharStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

interface StorageRef {
  kind: "storage";
  storageType: string;
  key: string;
  /** Elements, as declared in the persistent id. */
  numel: number;
  /** null while lazy (file-backed reading). */
  bytes: Uint8Array | null;
}

/**
 * A deflated zip entry may inflate to at most this many times its compressed size. torch.save stores entries
 * uncompressed; float data deflates by ~1.1x, while a "zip bomb" of zeros inflates ~1000x.
 */
export const MAX_DEFLATE_RATIO = 32;

/** Refuses a zip entry whose declared sizes are not believable (see {@link MAX_DEFLATE_RATIO}). */
export function checkZipEntrySize(e: { name: string; compression: number; size: number; originalSize: number }, what: string): void {
  if (e.compression === 8 && e.originalSize > MAX_DEFLATE_RATIO * e.size + 65536) {
    throw new TorchCheckpointError(
      `${what}: zip entry ${e.name} claims to inflate from ${e.size} to ${e.originalSize} bytes, more than ${MAX_DEFLATE_RATIO}x (a zip bomb?)`,
    );
  }
}

/** Refuses a storage entry whose size is not what the checkpoint declares for it. */
export function checkStorageSize(ref: { key: string; storageType: string; numel: number }, entryBytes: number, what: string): void {
  const want = ref.numel * STORAGE_TYPES[ref.storageType].bytes;
  if (entryBytes !== want) {
    throw new TorchCheckpointError(`${what}: storage data/${ref.key} holds ${entryBytes} bytes, but the checkpoint declares ${ref.numel} ${STORAGE_TYPES[ref.storageType].dtype} elements (${want} bytes)`);
  }
}


function readElements(ref: StorageRef, index: (i: number) => number, n: number): TorchTensor["data"] {
  const info = STORAGE_TYPES[ref.storageType];
  const b = ref.bytes!;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = Math.floor(b.byteLength / info.bytes);
  const check = (j: number) => {
    if (j < 0 || j >= count) {
      throw new TorchCheckpointError(
        `tensor reads element ${j} of storage data/${ref.key}, which holds only ${count} ${info.dtype} elements`,
      );
    }
    return j;
  };
  switch (info.dtype) {
    case "float32": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(check(index(i)) * 4, true);
      return out;
    }
    case "float64": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(check(index(i)) * 8, true);
      return out;
    }
    case "float16": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(check(index(i)) * 2, true));
      return out;
    }
    case "bfloat16": {
      const out = new Float32Array(n);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < n; i++) {
        tmp.setUint32(0, dv.getUint16(check(index(i)) * 2, true) << 16, true);
        out[i] = tmp.getFloat32(0, true);
      }
      return out;
    }
    case "int64": {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(check(index(i)) * 8, true);
      return out;
    }
    case "int32":
    case "int16":
    case "int8": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const j = check(index(i));
        out[i] = info.bytes === 4 ? dv.getInt32(j * 4, true) : info.bytes === 2 ? dv.getInt16(j * 2, true) : dv.getInt8(j);
      }
      return out;
    }
    default: {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = b[check(index(i))];
      return out;
    }
  }
}

/** Most dimensions of a tensor we accept (torch allows 64; model weights have at most 4). */
const MAX_DIMS = 16;

const isIndex = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;

/**
 * Geometry of `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`, every field type-checked and
 * the tensor checked to lie inside its storage before anything is read: a NaN or fractional offset, a negative
 * stride or a shape whose elements the storage cannot hold is an error, not a silently wrong tensor.
 */
function tensorGeometry(args: unknown[]): { storage: StorageRef; offset: number; shape: number[]; strides: number[] } {
  const [storage, offset, size, stride] = args as [StorageRef, unknown, unknown, unknown];
  if (!storage || (storage as StorageRef).kind !== "storage") {
    throw new TorchCheckpointError("_rebuild_tensor_v2 called without a storage (unsupported tensor subclass?)");
  }
  const where = `a tensor in storage data/${storage.key}`;
  if (!isIndex(offset)) throw new TorchCheckpointError(`${where}: storage offset is ${describePickleValue(offset)}, not a non-negative integer`);
  const dims = (x: unknown, name: string): number[] => {
    if (!Array.isArray(x) || x.length > MAX_DIMS) throw new TorchCheckpointError(`${where}: ${name} is ${describePickleValue(x)}, not a tuple of at most ${MAX_DIMS} integers`);
    for (const v of x) if (!isIndex(v)) throw new TorchCheckpointError(`${where}: ${name} holds ${describePickleValue(v)}, not a non-negative integer`);
    return x as number[];
  };
  const shape = dims(size, "size");
  const strides = dims(stride, "stride");
  if (shape.length !== strides.length) throw new TorchCheckpointError(`${where}: size has ${shape.length} dimensions, stride ${strides.length}`);
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel > 0) {
    const last = shape.reduce((a, s, d) => a + (s - 1) * strides[d], offset);
    if (last >= storage.numel) {
      throw new TorchCheckpointError(`${where}: size [${shape}], stride [${strides}] and offset ${offset} reach element ${last}, but the storage holds ${storage.numel}`);
    }
    if (numel > storage.numel) {
      // only stride-0 (broadcast) tensors can have more elements than their storage: reading them would multiply memory
      throw new TorchCheckpointError(`${where}: ${numel} elements from a storage of ${storage.numel} (a broadcast tensor; save t.contiguous() instead)`);
    }
  }
  return { storage, offset, shape, strides };
}

/** Copies (or, for aligned contiguous float32, views) a tensor out of its storage bytes as a C-ordered array. */
export function materialize(
  g: { storageType: string; storageKey: string; offset: number; shape: number[]; strides: number[] },
  bytes: Uint8Array,
): TorchTensor {
  const info = STORAGE_TYPES[g.storageType];
  const { shape, strides, offset } = g;
  const n = shape.reduce((a, b) => a * b, 1);
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  const byteStart = bytes.byteOffset + offset * 4;
  if (info.dtype === "float32" && contiguous && byteStart % 4 === 0 && (offset + n) * 4 <= bytes.byteLength) {
    // zero-copy: multi-GB official weights (the PWSG branches) must not be duplicated
    return { dtype: "float32", shape, data: new Float32Array(bytes.buffer, byteStart, n) };
  }
  const index = (flat: number) => {
    // Walk the C-order index into a storage index through the (possibly non-contiguous) strides.
    let j = offset;
    for (let d = shape.length - 1; d >= 0; d--) {
      const s = shape[d];
      j += (flat % s) * strides[d];
      flat = Math.floor(flat / s);
    }
    return j;
  };
  const ref: StorageRef = { kind: "storage", storageType: g.storageType, key: g.storageKey, numel: Math.floor(bytes.length / info.bytes), bytes };
  return { dtype: info.dtype, shape, data: readElements(ref, index, n) };
}

/**
 * Builds a C-ordered tensor from (storage, offset, size, stride) as `torch._utils._rebuild_tensor_v2` does. `budget`
 * counts the elements read: many tensors over one storage must not multiply memory (see {@link unpickleTorch}).
 */
function rebuildTensor(args: unknown[], budget: { read: number; stored: number }, what: string): TorchTensor | LazyTorchTensor {
  const { storage, offset, shape, strides } = tensorGeometry(args);
  const g = { storageType: storage.storageType, storageKey: storage.key, storageNumel: storage.numel, offset, shape, strides };
  if (storage.bytes === null) return { lazy: true, dtype: STORAGE_TYPES[storage.storageType].dtype, ...g };
  budget.read += shape.reduce((a, b) => a * b, 1);
  if (budget.read > 2 * budget.stored + (1 << 20)) {
    throw new TorchCheckpointError(`${what}: its tensors read ${budget.read} elements from storages holding ${budget.stored} (many tensors over one storage?)`);
  }
  return materialize(g, storage.bytes);
}

const callable = (fn: (args: unknown[]) => unknown): PickleCallable => ({ pickleCall: fn });

/** An in-memory archive after its first pass: data.pkl unpickled lazily, storages inflated on demand. */
interface TorchBytes {
  /** The object tree with {@link LazyTorchTensor} in place of tensors. */
  lazyTree: unknown;
  /** The object tree with its tensors read. */
  read(): unknown;
  /** One storage's bytes, checked against its declared size. */
  storage(key: string): Uint8Array;
}

function openTorchBytes(bytes: Uint8Array, what: string): TorchBytes {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    if (bytes[0] === 0x80) {
      throw new TorchCheckpointError(
        `${what} is a legacy (pre-1.6, non-zip) torch file; re-save it with torch.save(obj, path) from PyTorch >= 1.6`,
      );
    }
    throw new TorchCheckpointError(`${what} is not a torch.save zip archive (no PK signature)`);
  }
  // Two passes over the zip: data.pkl first (lazily, to learn which storages the tensors use and their sizes), then
  // only those storages, each checked against its declared size before it is inflated.
  const entries = new Map<string, { name: string; compression: number; size: number; originalSize: number }>();
  const unzip = (want: (f: { name: string; originalSize: number }) => boolean) => {
    try {
      return unzipSync(bytes, {
        filter: (f) => {
          entries.set(f.name, f);
          if (!want(f)) return false;
          checkZipEntrySize(f, what);
          return true;
        },
      });
    } catch (err) {
      if (err instanceof TorchCheckpointError) throw err;
      throw new TorchCheckpointError(`${what}: cannot read the zip archive: ${(err as Error).message}`);
    }
  };
  const meta = unzip((f) => f.name.endsWith("data.pkl") || f.name.endsWith("byteorder"));
  const pklName = Object.keys(meta).find((n) => n.endsWith("/data.pkl") || n === "data.pkl");
  if (!pklName) throw new TorchCheckpointError(`${what}: zip archive has no data.pkl (not a torch checkpoint)`);
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const order = meta[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== "little") {
    throw new TorchCheckpointError(`${what}: big-endian checkpoints are not supported`);
  }
  const used = new Map<string, { key: string; storageType: string; numel: number }>();
  const lazyTree = unpickleTorch(meta[pklName], what, () => null, true, (k) => entries.has(`${prefix}data/${k}`), (ref) => void used.set(`${prefix}data/${ref.key}`, ref));
  for (const [name, ref] of used) {
    // from the zip directory, before any storage is inflated
    checkZipEntrySize(entries.get(name)!, what);
    checkStorageSize(ref, entries.get(name)!.originalSize, what);
  }
  let storages: Record<string, Uint8Array> | undefined;
  const storage = (key: string) => {
    storages ??= unzip((f) => used.has(f.name));
    const b = storages[`${prefix}data/${key}`];
    if (!b) throw new TorchCheckpointError(`${what}: storage data/${key} is missing from the archive`);
    return b;
  };
  return { lazyTree, storage, read: () => unpickleTorch(meta[pklName], what, storage, false) };
}

/**
 * Parses a `torch.save` file. Returns the unpickled object tree: dicts as Map, tensors as {@link TorchTensor}.
 * Only the storages that tensors use are inflated, each after its size is checked against the checkpoint's
 * declaration; every tensor's geometry is checked against its storage before it is read.
 * @throws TorchCheckpointError when the bytes are not a zip-format torch checkpoint or a storage is missing.
 */
export function readTorchFile(bytes: Uint8Array, what = "checkpoint"): unknown {
  return openTorchBytes(bytes, what).read();
}

/** A checkpoint's state dict before its tensors are read: names, geometry, and a reader per tensor. */
export interface TorchStateDict {
  readonly tensors: Map<string, LazyTorchTensor>;
  load(name: string): TorchTensor;
}

/** Opens a checkpoint's bytes for checking names and shapes before any tensor is read. */
export function openTorchStateDict(bytes: Uint8Array, what = "checkpoint"): TorchStateDict {
  const archive = openTorchBytes(bytes, what);
  const tensors = extractStateDict<LazyTorchTensor>(archive.lazyTree, what, isLazyTorchTensor);
  return {
    tensors,
    load(name) {
      const t = tensors.get(name);
      if (!t) throw new TorchCheckpointError(`${what}: no tensor '${name}'`);
      return materialize(t, archive.storage(t.storageKey));
    },
  };
}

/**
 * Unpickles torch's data.pkl. `storage(key)` returns a storage's bytes (null if missing); with `lazy`, tensors come
 * back as {@link LazyTorchTensor} descriptors and no storage is read. Every persistent id and tensor geometry is
 * type-checked and bounded by its storage before anything is read; the tensors together may read at most twice the
 * elements their storages hold (plus 2^20), so a small file cannot make many copies of one storage.
 * `onStorage` sees each storage reference (the in-memory reader inflates only those).
 */
export function unpickleTorch(
  pkl: Uint8Array,
  what: string,
  storage: (key: string) => Uint8Array | null,
  lazy: boolean,
  hasStorage: (key: string) => boolean = (k) => storage(k) !== null,
  onStorage?: (ref: { key: string; storageType: string; numel: number }) => void,
): unknown {
  const budget = { read: 0, stored: 0 };
  const seen = new Set<string>();
  const findClass = (module: string, name: string): unknown => {
    if (module === "collections" && name === "OrderedDict") return callable(() => new Map());
    if (module === "torch._utils" && name === "_rebuild_tensor_v2") return callable((a) => rebuildTensor(a, budget, what));
    if (module === "torch._utils" && name === "_rebuild_parameter") return callable((a) => a[0]);
    if (module === "torch._utils" && name === "_rebuild_parameter_with_state") return callable((a) => a[0]);
    if (module === "torch" && name in STORAGE_TYPES) return { storageType: name };
    if (module === "torch" && name in DTYPE_NAMES) return { storageType: DTYPE_NAMES[name] };
    if (module === "torch" && name === "Size") return callable((a) => a[0]);
    return undefined;
  };
  const persistentLoad = (pid: unknown): StorageRef => {
    // ('storage', storage type, key, location, numel): each field type-checked, never formatted whole (a hostile
    // pid may share sub-objects exponentially)
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== "storage") {
      throw new TorchCheckpointError(`${what}: unsupported persistent id (${describePickleValue(pid)}; torch writes ('storage', type, key, location, size))`);
    }
    const type = pid[1] as { storageType?: string } | PickleGlobal;
    const storageType = type instanceof PickleGlobal || typeof type !== "object" ? undefined : type?.storageType;
    if (!storageType) {
      throw new TorchCheckpointError(`${what}: unsupported storage type ${type instanceof PickleGlobal ? type.toString() : describePickleValue(type)} (supported: ${Object.keys(STORAGE_TYPES).join(", ")})`);
    }
    const key = pid[2];
    if (typeof key !== "string" || !/^[\w.-]{1,64}$/.test(key)) throw new TorchCheckpointError(`${what}: storage key is ${describePickleValue(key)}, not a short name`);
    const numel = pid[4];
    if (!isIndex(numel)) throw new TorchCheckpointError(`${what}: storage data/${key} declares ${describePickleValue(numel)} elements, not a non-negative integer`);
    if (!hasStorage(key)) throw new TorchCheckpointError(`${what}: storage data/${key} is missing from the archive`);
    const ref: StorageRef = { kind: "storage", storageType, key, numel, bytes: null };
    onStorage?.(ref);
    if (!seen.has(key)) {
      seen.add(key);
      budget.stored += numel;
    }
    if (!lazy) {
      const bytes = storage(key);
      if (!bytes) throw new TorchCheckpointError(`${what}: storage data/${key} is missing from the archive`);
      checkStorageSize(ref, bytes.length, what);
      ref.bytes = bytes;
    }
    return ref;
  };
  try {
    return unpickle(pkl, { findClass, persistentLoad });
  } catch (err) {
    if (err instanceof PickleError) throw new TorchCheckpointError(`${what}: ${err.message}`);
    throw err;
  }
}

export function isTorchTensor(x: unknown): x is TorchTensor {
  return typeof x === "object" && x !== null && "dtype" in x && "shape" in x && "data" in x && !(x instanceof Map);
}

export function isLazyTorchTensor(x: unknown): x is LazyTorchTensor {
  return typeof x === "object" && x !== null && (x as LazyTorchTensor).lazy === true;
}

/**
 * Extracts the flat `name -> tensor` state dict of a checkpoint: the object itself when it is a state dict, or its
 * `state_dict` / `model` / `model_state_dict` entry (the official code saves `{"state_dict": ..., "epoch": ...}`).
 */
export function extractStateDict<T = TorchTensor>(obj: unknown, what = "checkpoint", isTensor: (x: unknown) => boolean = isTorchTensor): Map<string, T> {
  let sd: unknown = obj;
  if (sd instanceof Map) {
    for (const k of ["state_dict", "model_state_dict", "model"]) {
      if (sd.has(k) && sd.get(k) instanceof Map) {
        sd = sd.get(k);
        break;
      }
    }
  }
  if (!(sd instanceof Map)) throw new TorchCheckpointError(`${what}: top-level object is not a dict`);
  const out = new Map<string, T>();
  for (const [k, v] of sd) {
    if (typeof k !== "string") throw new TorchCheckpointError(`${what}: a state dict key is ${describePickleValue(k)}, not a string`);
    if (!isTensor(v)) {
      const built = v instanceof PickleObject ? `: it is built by ${v.cls.toString()}, a callable this reader does not run (it only rebuilds torch tensors)` : ` (${describePickleValue(v)})`;
      throw new TorchCheckpointError(`${what}: state dict entry '${k}' is not a tensor${built}`);
    }
    out.set(k.startsWith("module.") ? k.slice(7) : k, v as T);
  }
  if (out.size === 0) throw new TorchCheckpointError(`${what}: state dict is empty`);
  return out;
}

/** Reads a checkpoint's bytes and returns its state dict. */
export function readTorchStateDict(bytes: Uint8Array, what = "checkpoint"): Map<string, TorchTensor> {
  return extractStateDict(readTorchFile(bytes, what), what);
}
