/**
 * Our weight format: the safetensors layout (8-byte little-endian header length, a JSON header mapping each
 * tensor name to {dtype, shape, data_offsets}, an optional "__metadata__" string map, then the raw little-endian
 * bytes). Files we write are readable by the Python `safetensors` package and vice versa for F32/F16/I64/I32/U8.
 * Hand-written (about 150 lines) because the npm safetensors readers are Node-only or pull in large runtimes. One
 * header parser serves in-memory buffers and files read piece by piece (weights/files.ts).
 */
import { halfToFloat } from "./float16";

export type SafeDtype = "F32" | "F16" | "I64" | "I32" | "U8";

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

const BYTES: Record<SafeDtype, number> = { F32: 4, F16: 2, I64: 8, I32: 4, U8: 1 };

/** One tensor of a header: its bytes are [begin, end) after the header. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafeDtype;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Offset of the first data byte in the file: 8 + the header length. */
  dataStart: number;
}

/** The header length from a file's first 8 bytes, checked against the file size. */
export function safetensorsHeaderLength(first8: Uint8Array, fileSize: number): number {
  if (first8.length < 8 || fileSize < 8) throw new SafetensorsError("file too short for a safetensors header");
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) throw new SafetensorsError(`header length ${n} exceeds the file size ${fileSize}`);
  return Number(n);
}

const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses and checks a header's JSON (the `headerLength` bytes after the first 8) for a file of `fileSize` bytes:
 * known dtypes, whole-number shapes, offsets that match each shape and lie inside the file without overlapping.
 */
export function parseSafetensorsHeader(json: Uint8Array, fileSize: number): SafetensorsHeader {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(json));
  } catch (err) {
    throw new SafetensorsError(`malformed JSON header: ${(err as Error).message}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw new SafetensorsError("header is not a JSON object");
  const dataStart = 8 + json.length;
  const entries: SafetensorsEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = e?.dtype as SafeDtype;
    if (typeof dtype !== "string" || !(dtype in BYTES)) throw new SafetensorsError(`${name}: unsupported dtype ${String(e?.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isIndex)) throw new SafetensorsError(`${name}: shape ${JSON.stringify(e.shape)} is not a list of whole numbers`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
      throw new SafetensorsError(`${name}: data_offsets ${JSON.stringify(offsets)} are not two whole numbers`);
    }
    const [begin, end] = offsets as [number, number];
    const n = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== n * BYTES[dtype] || dataStart + end > fileSize) {
      throw new SafetensorsError(`${name}: data_offsets [${begin}, ${end}] do not match shape [${e.shape}] ${dtype} or the file size`);
    }
    entries.push({ name, dtype, shape: e.shape as number[], begin, end });
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < byOffset.length; i++) {
    if (byOffset[i]!.begin < byOffset[i - 1]!.end) throw new SafetensorsError(`${byOffset[i]!.name} overlaps ${byOffset[i - 1]!.name} in the data`);
  }
  return { entries, metadata, dataStart };
}

/**
 * A tensor from its raw bytes, copied into an aligned typed array unless `own` says they are a fresh buffer of their
 * own (as a file read returns); F16 is widened to F32.
 */
export function decodeSafetensor(entry: SafetensorsEntry, raw: Uint8Array, own = false): SafeTensor {
  // a copy is aligned and detached from the file's buffer (new Uint8Array copies; a Node Buffer's slice() would not)
  const bytes = own && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength ? raw : new Uint8Array(raw);
  const n = bytes.length / BYTES[entry.dtype];
  switch (entry.dtype) {
    case "F32":
      return { dtype: "F32", shape: entry.shape, data: new Float32Array(bytes.buffer) };
    case "I64":
      return { dtype: "I64", shape: entry.shape, data: new BigInt64Array(bytes.buffer) };
    case "I32":
      return { dtype: "I32", shape: entry.shape, data: new Int32Array(bytes.buffer) };
    case "U8":
      return { dtype: "U8", shape: entry.shape, data: bytes };
    case "F16": {
      const h = new Uint16Array(bytes.buffer);
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = halfToFloat(h[i]!);
      return { dtype: "F32", shape: entry.shape, data: f };
    }
  }
}

/** Header bytes (length prefix + JSON padded so the data starts 8-byte aligned, as the spec allows). */
function headerBytes(tensors: { name: string; dtype: SafeDtype; shape: number[] }[], metadata: Record<string, string>): { bytes: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, dtype, shape } of tensors) {
    const len = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += " ";
  const hb = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + hb.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(hb.length), true);
  bytes.set(hb, 8);
  return { bytes, dataBytes: offset };
}

/**
 * The header bytes for float32 tensors of the given shapes, in order: write these, then each tensor's raw
 * little-endian bytes, to stream a file without holding all tensors at once.
 */
export function safetensorsF32Header(entries: { name: string; shape: number[] }[], metadata: Record<string, string> = {}): Uint8Array {
  return headerBytes(entries.map((e) => ({ ...e, dtype: "F32" as const })), metadata).bytes;
}

/** Serialises tensors (in insertion order) with optional string metadata. */
export function serializeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const list = [...tensors].map(([name, t]) => {
    if (t.dtype === "F16") throw new SafetensorsError(`${name}: writing F16 is not supported; store F32`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new SafetensorsError(`${name}: shape [${t.shape}] holds ${n} elements but data has ${t.data.length}`);
    return { name, dtype: t.dtype, shape: t.shape, t };
  });
  const { bytes: head, dataBytes } = headerBytes(list, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let at = head.length;
  for (const { t } of list) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, at); // typed arrays are little-endian on every platform tfjs runs on
    at += src.byteLength;
  }
  return out;
}

/** Parses a safetensors buffer. Tensor data are copied into aligned typed arrays; F16 is widened to F32. */
export function parseSafetensors(bytes: Uint8Array): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const hlen = safetensorsHeaderLength(bytes.subarray(0, 8), bytes.length);
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes.subarray(8, 8 + hlen), bytes.length);
  const tensors = new Map<string, SafeTensor>();
  for (const e of entries) tensors.set(e.name, decodeSafetensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end)));
  return { tensors, metadata };
}
