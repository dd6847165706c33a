/**
 * Our weight format: the safetensors layout (8-byte little-endian header length, a JSON header mapping each
 * tensor name to {dtype, shape, data_offsets}, an optional "__metadata__" string map, then the raw little-endian
 * bytes). Files we write are readable by the Python `safetensors` package and vice versa for F32/F16/I64/I32.
 * Hand-written (about 100 lines) because the npm safetensors readers are Node-only or pull in large runtimes.
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

/**
 * The header bytes (length prefix + padded JSON) for float32 tensors of the given shapes, in order: write these,
 * then each tensor's raw little-endian bytes, to stream a file without holding all tensors at once.
 */
export function safetensorsF32Header(entries: { name: string; shape: number[] }[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const { name, shape } of entries) {
    const len = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  return out;
}

/** Serialises tensors (in insertion order) with optional string metadata. */
export function serializeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (t.dtype === "F16") throw new SafetensorsError(`${name}: writing F16 is not supported; store F32`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) {
      throw new SafetensorsError(`${name}: shape [${t.shape}] holds ${n} elements but data has ${t.data.length}`);
    }
    const len = n * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned (the spec allows trailing whitespace).
  while ((8 + new TextEncoder().encode(json).length) % 8 !== 0) json += " ";
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const t of tensors.values()) {
    const src = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(src, at); // typed arrays are little-endian on every platform tfjs runs on
    at += src.byteLength;
  }
  return out;
}

/** Parses a safetensors buffer. Tensor data are copied into aligned typed arrays; F16 is widened to F32. */
export function parseSafetensors(bytes: Uint8Array): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError("file too short for a safetensors header");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > bytes.length - 8) throw new SafetensorsError(`header length ${hlen} exceeds the file size ${bytes.length}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hlen)));
  } catch (err) {
    throw new SafetensorsError(`malformed JSON header: ${(err as Error).message}`);
  }
  const base = 8 + hlen;
  const tensors = new Map<string, SafeTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const dtype = e.dtype as SafeDtype;
    if (!(dtype in BYTES)) throw new SafetensorsError(`${name}: unsupported dtype ${e.dtype}`);
    const n = e.shape.reduce((a, b) => a * b, 1);
    const [b0, b1] = e.data_offsets;
    if (b1 - b0 !== n * BYTES[dtype] || base + b1 > bytes.length) {
      throw new SafetensorsError(`${name}: data_offsets [${b0}, ${b1}] do not match shape [${e.shape}] ${dtype} or the file size`);
    }
    const raw = bytes.slice(base + b0, base + b1); // copy: aligned and detached from the file buffer
    let data: SafeTensor["data"];
    let outDtype = dtype;
    if (dtype === "F32") data = new Float32Array(raw.buffer);
    else if (dtype === "I64") data = new BigInt64Array(raw.buffer);
    else if (dtype === "I32") data = new Int32Array(raw.buffer);
    else if (dtype === "U8") data = raw;
    else {
      const h = new Uint16Array(raw.buffer);
      const f = new Float32Array(n);
      for (let i = 0; i < n; i++) f[i] = halfToFloat(h[i]);
      data = f;
      outDtype = "F32";
    }
    tensors.set(name, { dtype: outDtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

