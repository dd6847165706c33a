import { DTW_WASM_BASE64 } from "./generated/dtw-wasm";
import { EMOTION_DIM, FRDIST_GROUPS } from "@perfrdiff/layout";

/** Predictions handled together by one kernel call (the 4 float32 lanes of a WebAssembly SIMD vector). */
export const DTW_LANES = 4;

/** Byte pointers and sizes shared by both kernels (see asm/dtw.ts). */
type LaneArgs = [
  row: number,
  rows: number,
  cols: number,
  ncols: number,
  work: number,
  out: number,
  thr: number,
  checkEvery: number,
  splat: number,
];

interface DtwExports {
  memory: WebAssembly.Memory;
  dtwLanes(...args: LaneArgs): number;
  dtwLanesBinaryAu(...args: [...LaneArgs, colsA: number, colsB: number, active: number]): number;
}

let compiled: WebAssembly.Module | undefined;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  if (typeof Buffer !== "undefined") return Uint8Array.from(Buffer.from(text, "base64"));
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The compiled kernel module, compiled once per thread. */
function dtwModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(decodeBase64(DTW_WASM_BASE64));
  return compiled;
}

/** True where this JavaScript engine runs WebAssembly SIMD (Node >= 16, current browsers). */
export function wasmSimdSupported(): boolean {
  try {
    dtwModule();
    return true;
  } catch {
    return false;
  }
}

/** A fresh instance of the kernel module (each with its own memory); shared by both kernel classes. */
export function instantiateDtwModule(): WebAssembly.Instance {
  return new WebAssembly.Instance(dtwModule(), {
    env: {
      abort: () => {
        throw new Error("DTW kernel aborted");
      },
    },
  });
}

/** First byte free for kernel buffers: the first page is left to the module's own static data. */
export const DTW_MEMORY_BASE = 65536;

/**
 * The FRdist DTW kernel (WebAssembly SIMD): one real reaction against up to 4 predictions at a time, for the three
 * emotion groups at once, with exact early abandoning. A real reaction whose AUs are all exactly 0 or 1 (REACT's AU
 * occurrence labels are) takes a faster kernel that needs one add per active AU instead of 15 squared differences.
 * One instance owns one WebAssembly memory; it is not shared between threads (each worker makes its own).
 */
export class EmotionDtwKernel {
  private readonly ex: DtwExports;
  private t = 0;
  private colsPtr = 0;
  private rowPtr = 0;
  private workPtr = 0;
  private outPtr = 0;
  private thrPtr = 0;
  private splatPtr = 0;
  private colsAPtr = 0;
  private colsBPtr = 0;
  private activePtr = 0;
  /** Rows whose AUs were all 0/1 and so took the binary-AU kernel, over all {@link run} calls (for statistics). */
  binaryAuRuns = 0;
  /** Cost rows computed by the last {@link run} (for statistics on early abandoning). */
  rowsComputed = 0;

  constructor() {
    this.ex = instantiateDtwModule().exports as unknown as DtwExports;
  }

  private layout(t: number): void {
    if (t === this.t) return;
    const d = EMOTION_DIM;
    this.colsPtr = DTW_MEMORY_BASE;
    this.rowPtr = this.colsPtr + t * d * 16;
    this.workPtr = this.rowPtr + t * d * 4;
    this.outPtr = this.workPtr + 2 * (t + 1) * 96;
    this.thrPtr = this.outPtr + 96;
    this.splatPtr = this.thrPtr + 32;
    this.colsAPtr = this.splatPtr + d * 16;
    this.colsBPtr = this.colsAPtr + t * 16;
    this.activePtr = this.colsBPtr + t * 15 * 16;
    const need = this.activePtr + 15 * 4;
    const have = this.ex.memory.buffer.byteLength;
    if (need > have) this.ex.memory.grow(Math.ceil((need - have) / 65536));
    this.t = t;
  }

  /**
   * Loads up to 4 predictions (each `[T, 25]` float32 at the given offsets of `data`) into the lanes.
   * Missing lanes repeat the last prediction; their results are to be ignored.
   */
  setPredictions(data: Float32Array, offsets: readonly number[], t: number): void {
    if (offsets.length < 1 || offsets.length > DTW_LANES) throw new RangeError("1 to 4 predictions per call");
    this.layout(t);
    const d = EMOTION_DIM;
    const mem = this.ex.memory.buffer;
    const cols = new Float32Array(mem, this.colsPtr, t * d * DTW_LANES);
    const colsA = new Float32Array(mem, this.colsAPtr, t * DTW_LANES);
    const colsB = new Float32Array(mem, this.colsBPtr, t * 15 * DTW_LANES);
    for (let lane = 0; lane < DTW_LANES; lane++) {
      const off = offsets[Math.min(lane, offsets.length - 1)];
      for (let i = 0; i < t * d; i++) cols[i * DTW_LANES + lane] = data[off + i];
      // Terms of the binary-AU kernel (see asm/dtw.ts), in float32 as the kernel's other squared differences.
      for (let i = 0; i < t; i++) {
        let sumSq = 0;
        for (let au = 0; au < 15; au++) {
          const a = data[off + i * d + au];
          sumSq = Math.fround(sumSq + Math.fround(a * a));
          colsB[(i * 15 + au) * DTW_LANES + lane] = 1 - 2 * a;
        }
        colsA[i * DTW_LANES + lane] = sumSq;
      }
    }
  }

  /**
   * Runs DTW of one real reaction (`[T, 25]` float32 at `offset` in `data`) against the 4 loaded predictions.
   * @param thresholds per lane: stop early once every lane's lower bound on the weighted distance exceeds its
   *   threshold (pass Infinity to never stop).
   * @returns per lane the weighted FRdist distance `sum_g w_g sqrt(dtw2_g)`, or null when abandoned.
   */
  run(data: Float32Array, offset: number, thresholds: ArrayLike<number>, checkEvery = 25): Float64Array | null {
    const t = this.t;
    const d = EMOTION_DIM;
    const mem = this.ex.memory.buffer;
    new Float32Array(mem, this.rowPtr, t * d).set(data.subarray(offset, offset + t * d));
    const thr = new Float64Array(mem, this.thrPtr, DTW_LANES);
    for (let l = 0; l < DTW_LANES; l++) thr[l] = thresholds[l];
    let binaryAu = true;
    for (let i = 0; i < t && binaryAu; i++) {
      for (let au = 0; au < 15; au++) {
        const x = data[offset + i * d + au];
        if (x !== 0 && x !== 1) {
          binaryAu = false;
          break;
        }
      }
    }
    if (binaryAu) this.binaryAuRuns++;
    const args: LaneArgs = [this.rowPtr, t, this.colsPtr, t, this.workPtr, this.outPtr, this.thrPtr, checkEvery, this.splatPtr];
    const done = binaryAu
      ? this.ex.dtwLanesBinaryAu(...args, this.colsAPtr, this.colsBPtr, this.activePtr)
      : this.ex.dtwLanes(...args);
    this.rowsComputed = Math.abs(done);
    if (done < 0) return null;
    const out = new Float64Array(mem, this.outPtr, 3 * DTW_LANES);
    const res = new Float64Array(DTW_LANES);
    for (let l = 0; l < DTW_LANES; l++) {
      // Same order of operations as the official loop: res += w * dtw, group by group.
      let r = 0;
      for (let g = 0; g < FRDIST_GROUPS.length; g++) r += FRDIST_GROUPS[g][2] * Math.sqrt(out[g * DTW_LANES + l]);
      res[l] = r;
    }
    return res;
  }
}
