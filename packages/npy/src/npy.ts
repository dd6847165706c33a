/**
 * The NumPy `.npy` format (versions 1.0, 2.0 and 3.0), read and written from typed arrays.
 *
 * Written here rather than taken from npm: the maintained readers (npyjs) only read, fetch over HTTP and do not
 * validate headers; we need writing, exact error messages and byte-order handling in both Node and the browser.
 */

/** NumPy dtypes we read and write, as the little-endian `descr` strings NumPy writes. */
export type NpyDtype = "<f4" | "<f8" | "|i1" | "|u1" | "|b1" | "<i2" | "<u2" | "<i4" | "<u4" | "<i8" | "<u8";

/** The typed array used for each dtype (`|b1` is stored as bytes 0/1). */
export type NpyTypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A dense, C-ordered n-d array. `data.length` equals the product of `shape`. */
export interface NpyArray<T extends NpyTypedArray = NpyTypedArray> {
  dtype: NpyDtype;
  shape: number[];
  data: T;
}

/** Raised for anything that is not a valid, supported `.npy` payload. The message names the problem. */
export class NpyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NpyFormatError";
  }
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

interface DtypeInfo {
  bytes: number;
  make: (buf: ArrayBuffer, offset: number, length: number) => NpyTypedArray;
}

const DTYPES: Record<string, DtypeInfo> = {
  f4: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  f8: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  i1: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
  u1: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  b1: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  i2: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
  u2: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
  i4: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  u4: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
  i8: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  u8: { bytes: 8, make: (b, o, n) => new BigUint64Array(b, o, n) },
};

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function parseHeaderDict(header: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) {
    throw new NpyFormatError(`malformed .npy header: ${JSON.stringify(header.trim())}`);
  }
  const dims = shape[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isInteger(n) || n < 0) throw new NpyFormatError(`bad dimension '${s}' in .npy shape`);
      return n;
    });
  return { descr: descr[1], fortran: fortran[1] === "True", shape: dims };
}

/**
 * Parses the bytes of a `.npy` file.
 * @throws NpyFormatError on a bad magic string, a malformed header, Fortran order, an unsupported dtype
 *   (structured, complex, strings, float16, objects) or a payload shorter than the shape needs.
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new NpyFormatError("not a .npy file (missing the \\x93NUMPY magic string)");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new NpyFormatError("truncated .npy header");
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyFormatError(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) throw new NpyFormatError("truncated .npy header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortran, shape } = parseHeaderDict(header);
  if (fortran) {
    throw new NpyFormatError("Fortran-ordered .npy arrays are not supported; save with np.ascontiguousarray first");
  }
  const order = descr[0];
  const kind = descr.slice(1);
  const info = DTYPES[kind];
  if (!info || !["<", ">", "|", "="].includes(order)) {
    throw new NpyFormatError(
      `unsupported .npy dtype '${descr}' (supported: float32, float64, bool, int8/16/32/64, uint8/16/32/64)`,
    );
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const byteLength = count * info.bytes;
  if (bytes.length - dataStart < byteLength) {
    throw new NpyFormatError(
      `.npy payload has ${bytes.length - dataStart} bytes but shape [${shape.join(", ")}] of '${descr}' needs ${byteLength}`,
    );
  }
  // Copy into a fresh, aligned buffer: file buffers are rarely aligned for 8-byte views.
  const copy = new Uint8Array(byteLength);
  copy.set(bytes.subarray(dataStart, dataStart + byteLength));
  const bigEndian = order === ">" || (order === "=" && !HOST_LITTLE_ENDIAN);
  if (bigEndian && info.bytes > 1) {
    for (let i = 0; i < byteLength; i += info.bytes) copy.subarray(i, i + info.bytes).reverse();
  }
  const dtype = (info.bytes === 1 ? `|${kind}` : `<${kind}`) as NpyDtype;
  return { dtype, shape, data: info.make(copy.buffer, 0, count) };
}

function dtypeOf(data: NpyTypedArray): NpyDtype {
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  if (data instanceof Int8Array) return "|i1";
  if (data instanceof Uint8Array) return "|u1";
  if (data instanceof Int16Array) return "<i2";
  if (data instanceof Uint16Array) return "<u2";
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof Uint32Array) return "<u4";
  if (data instanceof BigInt64Array) return "<i8";
  if (data instanceof BigUint64Array) return "<u8";
  throw new NpyFormatError("unsupported typed array for .npy");
}

/**
 * Serialises a C-ordered array to `.npy` bytes (version 1.0, or 2.0 when the header needs it).
 * `dtype` may be given as `|b1` to write a `Uint8Array` of 0/1 as booleans.
 */
export function serializeNpy(array: { data: NpyTypedArray; shape: readonly number[]; dtype?: NpyDtype }): Uint8Array {
  const { data, shape } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new NpyFormatError(`bad shape [${shape.join(", ")}]`);
  }
  if (count !== data.length) {
    throw new NpyFormatError(`shape [${shape.join(", ")}] holds ${count} values but the data has ${data.length}`);
  }
  const natural = dtypeOf(data);
  const dtype = array.dtype ?? natural;
  if (dtype !== natural && !(dtype === "|b1" && natural === "|u1")) {
    throw new NpyFormatError(`dtype '${dtype}' does not match the ${data.constructor.name} given`);
  }
  if (!HOST_LITTLE_ENDIAN) throw new NpyFormatError("writing .npy on a big-endian host is not supported");
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 65535) {
    major = 2;
    prefix = 12;
  }
  const pad = (64 - ((prefix + dict.length + 1) % 64)) % 64;
  dict = dict + " ".repeat(pad) + "\n";
  const out = new Uint8Array(prefix + dict.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, dict.length, true);
  else view.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + dict.length);
  return out;
}

/** Converts any numeric array to a Float64Array (BigInt values through Number). */
export function toFloat64(data: NpyTypedArray): Float64Array {
  if (data instanceof Float64Array) return data;
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

/** Converts any numeric array to a Float32Array (rounding float64 values to float32). */
export function toFloat32(data: NpyTypedArray): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}
