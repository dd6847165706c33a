/**
 * Reads PyTorch checkpoints written by `torch.save` (the zip format of PyTorch >= 1.6): a zip archive holding
 * `<name>/data.pkl` (the pickled object tree) and `<name>/data/<key>` (one raw little-endian storage per key).
 * Works in Node and the browser (input is bytes). The zip container is read with fflate (maintained, no deps).
 */
import { unzipSync } from "fflate";
import { PickleError, PickleGlobal, unpickle } from "./pickle";
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
  /** null while lazy (file-backed reading). */
  bytes: Uint8Array | null;
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

/** Geometry of `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`, checked. */
function tensorGeometry(args: unknown[]): { storage: StorageRef; offset: number; shape: number[]; strides: number[] } {
  const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
  if (!storage || (storage as StorageRef).kind !== "storage") {
    throw new TorchCheckpointError("_rebuild_tensor_v2 called without a storage (unsupported tensor subclass?)");
  }
  if (!Array.isArray(size) || !Array.isArray(stride) || size.length !== stride.length) {
    throw new TorchCheckpointError(`bad tensor geometry: size ${JSON.stringify(size)}, stride ${JSON.stringify(stride)}`);
  }
  return { storage, offset: Number(offset), shape: size.map(Number), strides: stride.map(Number) };
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
  const ref: StorageRef = { kind: "storage", storageType: g.storageType, key: g.storageKey, bytes };
  return { dtype: info.dtype, shape, data: readElements(ref, index, n) };
}

/** Builds a C-ordered tensor from (storage, offset, size, stride) as `torch._utils._rebuild_tensor_v2` does. */
function rebuildTensor(args: unknown[]): TorchTensor | LazyTorchTensor {
  const { storage, offset, shape, strides } = tensorGeometry(args);
  const g = { storageType: storage.storageType, storageKey: storage.key, offset, shape, strides };
  if (storage.bytes === null) return { lazy: true, dtype: STORAGE_TYPES[storage.storageType].dtype, ...g };
  return materialize(g, storage.bytes);
}

const callable = (fn: (args: unknown[]) => unknown): PickleCallable => ({ pickleCall: fn });

/**
 * Parses a `torch.save` file. Returns the unpickled object tree: dicts as Map, tensors as {@link TorchTensor}.
 * @throws TorchCheckpointError when the bytes are not a zip-format torch checkpoint or a storage is missing.
 */
export function readTorchFile(bytes: Uint8Array, what = "checkpoint"): unknown {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    if (bytes[0] === 0x80) {
      throw new TorchCheckpointError(
        `${what} is a legacy (pre-1.6, non-zip) torch file; re-save it with torch.save(obj, path) from PyTorch >= 1.6`,
      );
    }
    throw new TorchCheckpointError(`${what} is not a torch.save zip archive (no PK signature)`);
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    throw new TorchCheckpointError(`${what}: cannot read the zip archive: ${(err as Error).message}`);
  }
  const pklName = Object.keys(files).find((n) => n.endsWith("/data.pkl") || n === "data.pkl");
  if (!pklName) throw new TorchCheckpointError(`${what}: zip archive has no data.pkl (not a torch checkpoint)`);
  const prefix = pklName.slice(0, pklName.length - "data.pkl".length);
  const order = files[`${prefix}byteorder`];
  if (order && new TextDecoder().decode(order).trim() !== "little") {
    throw new TorchCheckpointError(`${what}: big-endian checkpoints are not supported`);
  }

  return unpickleTorch(files[pklName], what, (key) => files[`${prefix}data/${key}`] ?? null, false);
}

/**
 * Unpickles torch's data.pkl. `storage(key)` returns a storage's bytes (null if missing); with `lazy`, tensors come
 * back as {@link LazyTorchTensor} descriptors and no storage is read.
 */
export function unpickleTorch(
  pkl: Uint8Array,
  what: string,
  storage: (key: string) => Uint8Array | null,
  lazy: boolean,
  hasStorage: (key: string) => boolean = (k) => storage(k) !== null,
): unknown {
  const findClass = (module: string, name: string): unknown => {
    if (module === "collections" && name === "OrderedDict") return callable(() => new Map());
    if (module === "torch._utils" && name === "_rebuild_tensor_v2") return callable(rebuildTensor);
    if (module === "torch._utils" && name === "_rebuild_parameter") return callable((a) => a[0]);
    if (module === "torch._utils" && name === "_rebuild_parameter_with_state") return callable((a) => a[0]);
    if (module === "torch" && name in STORAGE_TYPES) return { storageType: name };
    if (module === "torch" && name in DTYPE_NAMES) return { storageType: DTYPE_NAMES[name] };
    if (module === "torch" && name === "Size") return callable((a) => a[0]);
    return undefined;
  };
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== "storage") {
      throw new TorchCheckpointError(`${what}: unsupported persistent id ${JSON.stringify(pid)}`);
    }
    const type = pid[1] as { storageType?: string } | PickleGlobal;
    const storageType = type instanceof PickleGlobal ? undefined : type?.storageType;
    if (!storageType) {
      throw new TorchCheckpointError(`${what}: unsupported storage type ${String(type)} (supported: ${Object.keys(STORAGE_TYPES).join(", ")})`);
    }
    const key = String(pid[2]);
    if (!hasStorage(key)) throw new TorchCheckpointError(`${what}: storage data/${key} is missing from the archive`);
    return { kind: "storage", storageType, key, bytes: lazy ? null : storage(key) };
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
    if (typeof k !== "string") throw new TorchCheckpointError(`${what}: state dict key ${String(k)} is not a string`);
    if (!isTensor(v)) throw new TorchCheckpointError(`${what}: state dict entry '${k}' is not a tensor`);
    out.set(k.startsWith("module.") ? k.slice(7) : k, v as T);
  }
  if (out.size === 0) throw new TorchCheckpointError(`${what}: state dict is empty`);
  return out;
}

/** Reads a checkpoint's bytes and returns its state dict. */
export function readTorchStateDict(bytes: Uint8Array, what = "checkpoint"): Map<string, TorchTensor> {
  return extractStateDict(readTorchFile(bytes, what), what);
}
