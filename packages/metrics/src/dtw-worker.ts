// worker_threads entry: each worker owns a ClipTaskRunner (its own WebAssembly DTW kernels and CCC cache) over inputs
// shared with the main thread through SharedArrayBuffers, and computes whole clips on request.
import { parentPort } from "node:worker_threads";
import { ClipTaskRunner, type ClipTask } from "./clip-tasks";
import type { PreparedInputs } from "./inputs";

const port = parentPort;
if (!port) throw new Error("dtw-worker must run in a worker thread");
let runner: ClipTaskRunner | undefined;

port.on("message", (msg: { type: "init"; inputs: PreparedInputs } | { type: "task"; id: number; task: ClipTask }) => {
  if (msg.type === "init") {
    runner = new ClipTaskRunner(msg.inputs);
    return;
  }
  try {
    if (!runner) throw new Error("worker: task before init");
    port.postMessage({ type: "result", id: msg.id, result: runner.run(msg.task) });
  } catch (err) {
    port.postMessage({ type: "error", id: msg.id, message: (err as Error).message });
  }
});
