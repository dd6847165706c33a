/**
 * The parts of tfjs-wasm's BackendWasm that core's JS kernels use (tfjs-backend-wasm is pinned to 4.22.0), and float32
 * views of a tensor's memory on the wasm heap.
 */
import type * as tf from "@tensorflow/tfjs";

export interface WasmBackend {
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
    /** the heap (replaced when it grows: views are made after every allocation), as BackendWasm reads it */
    HEAPU8: Uint8Array;
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  incRef(dataId: object): void;
}

/** A float32 view of `t`'s data on the heap (valid until the next allocation). */
export function heapF32(backend: WasmBackend, t: tf.TensorInfo, size = t.shape.reduce((a, b) => a * b, 1)): Float32Array {
  return new Float32Array(backend.wasm.HEAPU8.buffer, backend.dataIdMap.get(t.dataId).memoryOffset, size);
}
