import { ClipTaskRunner, type ClipResult, type ClipTask, type FrdistMethod } from "./clip-tasks";
import type { FrdistWork } from "./frdist";
import type { PreparedInputs } from "./inputs";
import { isNode } from "@perfrdiff/platform";

/** Options of {@link frdistMinima}. */
export interface FrdistOptions {
  /** Worker threads (Node only). 0 or 1 computes in the calling thread. Default: 0. */
  workers?: number;
  /**
   * `screen` (default): every pair in SIMD lanes of its own, float32 screening with rigorous error bounds and an exact
   * re-check of the pairs that may be the minimum. `lanes`: the 4-prediction lane kernel (EmotionDtwKernel), with
   * early abandoning as `pruning` says. Both give the same minima.
   */
  method?: FrdistMethod;
  /**
   * Method `lanes` only: exact early abandoning (default true). False computes every distance in full; `auto` stops abandoning on a thread
   * once it has saved under 5% of the work on its first 3 clips.
   */
  pruning?: boolean | "auto";
  /** Called after each clip with the number of clips done. */
  onProgress?: (done: number, total: number) => void;
}

/** Per clip and prediction, the minimum weighted DTW over the clip's appropriate reactions: `[N, K]`, and the work. */
export interface FrdistMinima {
  minima: Float64Array;
  work: FrdistWork;
}

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

interface WorkerLike {
  postMessage(msg: unknown): void;
  on(event: "message", cb: (msg: { type: string; id: number; result: ClipResult; message?: string }) => void): void;
  on(event: "error", cb: (err: Error) => void): void;
  on(event: "exit", cb: (code: number) => void): void;
  terminate(): Promise<number>;
}

/** Tasks queued at each worker at once: a worker goes on with the next while this thread is busy elsewhere. */
const IN_FLIGHT = 3;

/**
 * Runs per-clip tasks in worker threads (Node) or in this thread. Tasks are handed out a few clips at a time, so a
 * slow clip never holds the others back. Worker threads need inputs prepared with `{ shared: true }`.
 */
export class ClipPool {
  private readonly queue: { id: number; task: ClipTask; done: (r: ClipResult) => void; fail: (e: Error) => void }[] = [];
  private readonly pending = new Map<number, { done: (r: ClipResult) => void; fail: (e: Error) => void }>();
  private nextId = 0;
  private local: ClipTaskRunner | undefined;
  private readonly inFlight = new Map<WorkerLike, number>();
  private closing = false;

  private constructor(
    private readonly p: PreparedInputs,
    private readonly workers: WorkerLike[],
  ) {
    for (const w of workers) {
      this.inFlight.set(w, 0);
      w.on("message", (msg) => {
        const job = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        this.inFlight.set(w, this.inFlight.get(w)! - 1);
        if (msg.type === "error") job?.fail(new Error(msg.message));
        else job?.done(msg.result);
        this.feed(w);
      });
      const failAll = (err: Error) => {
        for (const job of [...this.pending.values(), ...this.queue]) job.fail(err);
        this.pending.clear();
        this.queue.length = 0;
      };
      w.on("error", failAll);
      // A worker that dies without an error event (killed, out of memory) must not leave the evaluation waiting.
      w.on("exit", (code) => {
        if (!this.closing) failAll(new Error(`an FRdist worker thread exited (code ${code})`));
      });
      w.postMessage({ type: "init", inputs: p });
    }
  }

  /** A pool of `workers` threads, or an in-thread runner when workers <= 1 or outside Node. */
  static async start(p: PreparedInputs, workers: number): Promise<ClipPool> {
    if (workers <= 1 || !isNode) return new ClipPool(p, []);
    if (!(p.predictions.buffer instanceof SharedArrayBuffer)) {
      throw new Error("worker threads need inputs prepared with { shared: true }");
    }
    const { Worker } = await import("node:worker_threads");
    const script = await workerScript();
    return new ClipPool(p, Array.from({ length: Math.min(workers, p.n) }, () => new Worker(script) as unknown as WorkerLike));
  }

  private feed(w: WorkerLike): void {
    while (this.inFlight.get(w)! < IN_FLIGHT) {
      const job = this.queue.shift();
      if (!job) return;
      this.pending.set(job.id, job);
      this.inFlight.set(w, this.inFlight.get(w)! + 1);
      w.postMessage({ type: "task", id: job.id, task: job.task });
    }
  }

  /** Runs one task in the calling thread (e.g. while the workers are busy with others). */
  runHere(task: ClipTask): ClipResult {
    this.local ??= new ClipTaskRunner(this.p);
    return this.local.run(task);
  }

  /** Runs one task per clip; `onClip` sees each result as it arrives. */
  async run(tasks: ClipTask[], onClip?: (r: ClipResult, done: number) => void): Promise<ClipResult[]> {
    const results: ClipResult[] = [];
    if (this.workers.length === 0) {
      for (const task of tasks) {
        const r = this.runHere(task);
        results.push(r);
        onClip?.(r, results.length);
        // Yield between clips so progress callbacks and other promises get a turn.
        await new Promise((res) => (typeof setImmediate === "function" ? setImmediate(res) : setTimeout(res, 0)));
      }
      return results;
    }
    await Promise.all(
      tasks.map(
        (task) =>
          new Promise<void>((resolve, reject) => {
            this.queue.push({
              id: this.nextId++,
              task,
              done: (r) => {
                results.push(r);
                onClip?.(r, results.length);
                resolve();
              },
              fail: reject,
            });
            // Hand it to the least busy worker if one has room.
            let best: WorkerLike | undefined;
            for (const w of this.workers) if (!best || this.inFlight.get(w)! < this.inFlight.get(best)!) best = w;
            if (best) this.feed(best);
          }),
      ),
    );
    return results;
  }

  /** Worker threads in the pool (0: tasks run in the calling thread). */
  get threads(): number {
    return this.workers.length;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * FRdist's inner minima on the CPU (WebAssembly SIMD kernel), in this thread or across worker threads.
 * With workers the inputs must be prepared with `{ shared: true }` so that no worker copies them.
 */
export async function frdistMinima(p: PreparedInputs, options: FrdistOptions = {}): Promise<FrdistMinima> {
  const pool = await ClipPool.start(p, Math.max(0, Math.floor(options.workers ?? 0)));
  try {
    const pruning = options.pruning ?? true;
    const method = options.method ?? "screen";
    const minima = new Float64Array(p.n * p.k);
    const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
    const tasks: ClipTask[] = Array.from({ length: p.n }, (_, clip) => ({ kind: "frdist", clip, method, pruning }));
    await pool.run(tasks, (r, done) => {
      minima.set(r.values, r.clip * p.k);
      work.pairs += r.work!.pairs;
      work.rows += r.work!.rows;
      work.rowsWithoutPruning += r.work!.rowsWithoutPruning;
      if (r.work!.exprPairs !== undefined) work.exprPairs = (work.exprPairs ?? 0) + r.work!.exprPairs;
      if (r.work!.exactPairs !== undefined) work.exactPairs = (work.exactPairs ?? 0) + r.work!.exactPairs;
      options.onProgress?.(done, p.n);
    });
    return { minima, work };
  } finally {
    await pool.close();
  }
}
