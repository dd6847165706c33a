/**
 * tfjs backend selection (DESIGN.md): `wasm` is the Node default (30x faster than `cpu`, ships inside its npm
 * package), `webgpu` when asked or when the browser has an adapter, `cpu` as the fallback, `tensorflow` when the
 * user installed @tensorflow/tfjs-node. Optional backends are imported lazily so nothing is loaded unless used.
 */
import * as tf from "@tensorflow/tfjs";

export type BackendName = "wasm" | "cpu" | "webgpu" | "tensorflow";

const isNode = typeof process !== "undefined" && !!process.versions?.node;

/** A specifier hidden from bundlers: optional peer packages must not be resolved at build time. */
const optionalImport = (name: string): Promise<unknown> => import(/* @vite-ignore */ name);

async function tryLoad(name: BackendName): Promise<void> {
  if (tf.findBackendFactory(name)) return; // already registered (e.g. imported by the application)
  switch (name) {
    case "cpu":
      return;
    case "wasm":
      await import("@tensorflow/tfjs-backend-wasm");
      return;
    case "webgpu":
      if (isNode && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
        // Dawn for Node: the backend registers only if navigator.gpu exists when it loads.
        const { create, globals } = (await optionalImport("webgpu")) as { create: (o: string[]) => unknown; globals: object };
        Object.assign(globalThis, globals);
        Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true });
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
 * of the active one. An explicitly requested backend that cannot start is an error naming what to install;
 * the default falls back to cpu with a warning.
 */
export async function useBackend(name?: BackendName): Promise<BackendName> {
  const hasGpu = !isNode && !!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  const wanted: BackendName = name ?? (hasGpu ? "webgpu" : "wasm");
  try {
    await tryLoad(wanted);
    if (!(await tf.setBackend(wanted))) throw new Error(`tfjs could not initialise the ${wanted} backend`);
    await tf.ready();
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
    return "cpu";
  }
}
