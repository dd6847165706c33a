/**
 * tfjs backend selection: `wasm` is the Node default (measured ~30x faster than `cpu` on our 2-core machines; it ships
 * inside its npm package), `webgpu` when asked or when the browser has an adapter, `cpu` as the fallback,
 * `tensorflow` when the user installed @tensorflow/tfjs-node. Optional backends are imported lazily so nothing is
 * loaded unless used. Choosing a backend also registers core's kernels for it (kernels/registry.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { exposeWebGPU, isNode, nodeWebGPU } from "@perfrdiff/platform";
import { registerKernels } from "./kernels/registry";

export type BackendName = "wasm" | "cpu" | "webgpu" | "tensorflow";
export const BACKEND_NAMES: readonly BackendName[] = ["wasm", "cpu", "webgpu", "tensorflow"];

export interface BackendOptions {
  /**
   * wasm in Node: threads for the products (XNNPACK), default the number of CPU cores (at most 8, the package's
   * worker pool); 1 selects the package's single-threaded build. Applies when the wasm backend starts: a wasm
   * backend that is already running keeps its threads.
   */
  threads?: number;
  /** webgpu in Node: a `dawn.node` binary to use instead of the `webgpu` package's. */
  dawn?: string;
}

type WasmPackage = typeof import("@tensorflow/tfjs-backend-wasm");
type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** The wasm package's own factory (single-threaded in Node), kept when ours replaces it. */
let stockWasmFactory: BackendFactory | null = null;
const threadedFactories = new WeakSet<BackendFactory>();

/**
 * Starts the package's threaded SIMD build (emscripten pthreads) in Node. The package only starts it in browsers
 * (its WASM_HAS_MULTITHREAD_SUPPORT flag is false in Node, tfjs issue 3830), and its loader hands emscripten a
 * Blob URL for the pthread worker script, which Node's worker_threads cannot load. Node 20 runs the same build
 * given file paths: the worker script (shipped as a string in the package) written to a temporary file, and the
 * glue file itself for the workers to evaluate. tfjs caps its threads at half the logical cores (it assumes
 * hyper-threading), so the core count it reads is set to twice the threads wanted.
 */
async function startThreadedWasm(pkg: WasmPackage, threads: number): Promise<tf.KernelBackend> {
  const [{ createRequire }, fs, os, path, crypto] = await Promise.all([
    import("node:module"),
    import("node:fs"),
    import("node:os"),
    import("node:path"),
    import("node:crypto"),
  ]);
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out");
  const glue = path.join(dir, "tfjs-backend-wasm-threaded-simd.js");
  const factory = require(glue) as (config: object) => Promise<ThreadedModule>;
  // the string came from a template literal, so its "\\n" escapes are real newlines now: escape them again, as the
  // package does for its Blob
  const worker = (require(path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.js")) as { wasmWorkerContents: string }).wasmWorkerContents.replace(/\n/g, "\\n");
  const hash = crypto.createHash("sha256").update(worker).digest("hex").slice(0, 16);
  const workerFile = path.join(os.tmpdir(), `tfjs-backend-wasm-threaded-simd-${hash}.worker.cjs`);
  if (!fs.existsSync(workerFile)) {
    const tmp = `${workerFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, worker);
    fs.renameSync(tmp, workerFile); // atomic: concurrent processes never see a partial file
  }
  const binary = fs.readFileSync(path.join(dir, "tfjs-backend-wasm-threaded-simd.wasm"));
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => (fail = reject));
  const module = await Promise.race([
    factory({
      locateFile: (file: string) => (file.endsWith(".worker.js") ? workerFile : path.join(dir, file)),
      mainScriptUrlOrBlob: glue,
      instantiateWasm: (imports: WebAssembly.Imports & { env: WebAssembly.ModuleImports }, receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void) => {
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        WebAssembly.instantiate(binary, imports).then((r) => receive(r.instance, r.module), fail);
        return {};
      },
      onAbort: (what: unknown) => fail(new Error(`wasm aborted: ${String(what)}`)),
    }),
    failed,
  ]);
  // the bridge the package's own loader adds (backend_wasm.ts init())
  module.tfjs = {
    init: module.cwrap("init", null, []),
    initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  pkg.setThreadsCount(threads);
  const backend = new pkg.BackendWasm(module as unknown as ConstructorParameters<WasmPackage["BackendWasm"]>[0]);
  // The thread pool's workers wait for work forever and emscripten keeps running threads referenced, which would
  // keep Node from exiting; they hold no work of their own between calls.
  for (const w of module.PThread?.runningWorkers ?? []) w.unref?.();
  return backend;
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): unknown;
  tfjs?: object;
  PThread?: { runningWorkers: { unref?: () => void }[] };
}

/** Registers the wasm factory wanted for `threads` unless a wasm backend is already running. */
async function prepareWasm(threads: number | undefined): Promise<void> {
  const pkg = await import("@tensorflow/tfjs-backend-wasm");
  if (tf.engine().registry.wasm) return; // running: tensors live in it, keep it
  const current = tf.findBackendFactory("wasm") as BackendFactory | null;
  if (current && !threadedFactories.has(current)) stockWasmFactory = current;
  if (!isNode || !stockWasmFactory) return; // browsers: the package detects threads itself
  const os = await import("node:os");
  const n = Math.min(8, Math.max(1, Math.floor(threads ?? os.availableParallelism?.() ?? os.cpus().length)));
  const stock = stockWasmFactory;
  let want: BackendFactory = stock;
  if (n > 1) {
    want = async () => {
      try {
        return await startThreadedWasm(pkg, n);
      } catch (err) {
        console.warn(`tfjs wasm: the threaded build did not start (${(err as Error).message}); using the single-threaded one`);
        return stock();
      }
    };
    threadedFactories.add(want);
  }
  if (current) tf.removeBackend("wasm");
  tf.registerBackend("wasm", want, 2); // the package's priority
}

/** A specifier hidden from bundlers: optional peer packages must not be resolved at build time. */
const optionalImport = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);

async function tryLoad(name: BackendName, options: BackendOptions): Promise<void> {
  if (name === "wasm") return prepareWasm(options.threads);
  if (tf.findBackendFactory(name)) return; // already registered (e.g. imported by the application)
  switch (name) {
    case "cpu":
      return;
    case "webgpu":
      if (isNode && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
        // Dawn for Node: the backend registers only if navigator.gpu exists when it loads.
        const api = await nodeWebGPU({ dawn: options.dawn });
        if (!api) throw new Error(options.dawn ? `cannot load Dawn from ${options.dawn}` : "the `webgpu` package (Dawn) is not installed");
        exposeWebGPU(api);
      }
      await optionalImport("@tensorflow/tfjs-backend-webgpu");
      return;
    case "tensorflow":
      await optionalImport("@tensorflow/tfjs-node");
      return;
  }
}

/**
 * Activates a backend (default: wasm in Node; webgpu in a browser with an adapter, else wasm) and returns the name
 * of the active one. In Node, wasm runs the package's threaded build on every core (see {@link BackendOptions}).
 * An explicitly requested backend that cannot start is an error naming what to install; the default falls back
 * to cpu with a warning.
 */
export async function useBackend(name?: BackendName, options: BackendOptions = {}): Promise<BackendName> {
  const hasGpu = !isNode && !!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  const wanted: BackendName = name ?? (hasGpu ? "webgpu" : "wasm");
  try {
    await tryLoad(wanted, options);
    if (!(await tf.setBackend(wanted))) throw new Error(`tfjs could not initialise the ${wanted} backend`);
    await tf.ready();
    registerKernels(wanted);
    return wanted;
  } catch (err) {
    const hint: Record<BackendName, string> = {
      wasm: "@tensorflow/tfjs-backend-wasm (in the browser call setWasmPaths first)",
      cpu: "@tensorflow/tfjs",
      webgpu: "@tensorflow/tfjs-backend-webgpu and, in Node, the `webgpu` package (Dawn) on a machine with a GPU",
      tensorflow: "@tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu",
    };
    const msg = `backend '${wanted}' is unavailable (${(err as Error).message}); it needs ${hint[wanted]}`;
    if (name) throw new Error(msg);
    console.warn(`${msg}; falling back to cpu`);
    await tf.setBackend("cpu");
    registerKernels("cpu");
    return "cpu";
  }
}
