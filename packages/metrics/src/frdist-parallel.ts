import { EmotionDtwKernel } from "./dtw-kernel";
import { frdistClipMinima, type FrdistWork } from "./frdist";
import type { PreparedInputs } from "./inputs";

/** Options of {@link frdistMinima}. */
export interface FrdistOptions {
  /** Worker threads (Node only). 0 or 1 computes in the calling thread. Default: 0. */
  workers?: number;
  /** Exact early abandoning (default true). False computes every distance in full. */
  pruning?: boolean;
  /** Called after each clip with the number of clips done. */
  onProgress?: (done: number, total: number) => void;
}

/** Per clip and prediction, the minimum weighted DTW over the clip's appropriate reactions: `[N, K]`, and the work. */
export interface FrdistMinima {
  minima: Float64Array;
  work: FrdistWork;
}

const isNode = typeof process !== "undefined" && !!process.versions?.node;

async function workerScript(): Promise<string> {
  const { existsSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  // dist/index.{js,cjs} sits beside dist/dtw-worker.cjs; tests that import src/ use the built worker in dist/.
  for (const rel of ["./dtw-worker.cjs", "../dist/dtw-worker.cjs"]) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error("dtw-worker.cjs not found next to @perfrdiff/metrics; run `pnpm build` first");
}

/**
 * FRdist's inner minima on the CPU (WebAssembly SIMD kernel), in this thread or across worker threads.
 * With workers the inputs must be prepared with `{ shared: true }` so that no worker copies them.
 */
export async function frdistMinima(p: PreparedInputs, options: FrdistOptions = {}): Promise<FrdistMinima> {
  const workers = Math.max(0, Math.floor(options.workers ?? 0));
  const pruning = options.pruning ?? true;
  const { n, k } = p;
  const minima = new Float64Array(n * k);
  const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
  const add = (w: FrdistWork) => {
    work.pairs += w.pairs;
    work.rows += w.rows;
    work.rowsWithoutPruning += w.rowsWithoutPruning;
  };
  if (workers <= 1 || !isNode || n === 1) {
    const kernel = new EmotionDtwKernel();
    for (let i = 0; i < n; i++) {
      minima.set(frdistClipMinima(p, i, p.neighbourLists[i], kernel, pruning, work), i * k);
      options.onProgress?.(i + 1, n);
    }
    return { minima, work };
  }
  if (!(p.predictions.buffer instanceof SharedArrayBuffer) || !(p.listener.buffer instanceof SharedArrayBuffer)) {
    throw new Error("frdistMinima with workers needs inputs prepared with { shared: true }");
  }
  const { Worker } = await import("node:worker_threads");
  const script = await workerScript();
  const pool = Array.from({ length: Math.min(workers, n) }, () => new Worker(script));
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: InstanceType<typeof Worker>) => {
        if (next >= n) return;
        const clip = next++;
        w.postMessage({ type: "clip", clip, neighbours: p.neighbourLists[clip] });
      };
      for (const w of pool) {
        w.on("error", reject);
        w.on("message", (msg: { type: string; clip: number; minima: Float64Array; work: FrdistWork; message?: string }) => {
          if (msg.type === "error") {
            reject(new Error(`FRdist worker failed on clip ${msg.clip}: ${msg.message}`));
            return;
          }
          minima.set(msg.minima, msg.clip * k);
          add(msg.work);
          done++;
          options.onProgress?.(done, n);
          if (done === n) resolve();
          else feed(w);
        });
        w.postMessage({ type: "init", predictions: p.predictions, listener: p.listener, k, t: p.t, pruning });
        feed(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  return { minima, work };
}
