// worker_threads entry for FRdist: each worker owns one WebAssembly DTW kernel and computes whole clips on request.
import { parentPort } from "node:worker_threads";
import { EmotionDtwKernel } from "./dtw-kernel";
import { frdistClipMinima, type FrdistData, type FrdistWork } from "./frdist";

interface InitMessage {
  type: "init";
  predictions: Float32Array;
  listener: Float32Array;
  k: number;
  t: number;
  pruning: boolean;
}
interface ClipMessage {
  type: "clip";
  clip: number;
  neighbours: Int32Array;
}

const port = parentPort;
if (!port) throw new Error("dtw-worker must run in a worker thread");
const kernel = new EmotionDtwKernel();
let data: FrdistData | undefined;
let pruning = true;

port.on("message", (msg: InitMessage | ClipMessage) => {
  if (msg.type === "init") {
    data = { predictions: msg.predictions, listener: msg.listener, k: msg.k, t: msg.t };
    pruning = msg.pruning;
    return;
  }
  try {
    if (!data) throw new Error("dtw-worker: clip before init");
    const work: FrdistWork = { pairs: 0, rows: 0, rowsWithoutPruning: 0 };
    const minima = frdistClipMinima(data, msg.clip, msg.neighbours, kernel, pruning, work);
    port.postMessage({ type: "result", clip: msg.clip, minima, work });
  } catch (err) {
    port.postMessage({ type: "error", clip: msg.clip, message: (err as Error).message });
  }
});
