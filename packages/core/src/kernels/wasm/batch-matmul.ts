/**
 * Batched products that stay on tfjs-wasm's fast path. tfjs-wasm 4.22 gives a product to XNNPACK only when it is a
 * single [M, K] x [K, N] product without transposes; batched products (attention) and transposed ones (every
 * gradient of a product) fall to a naive loop, measured on the 2-core machine at 2.1 GFLOP/s (batched or
 * transposed b) and 0.6 GFLOP/s (transposed a) against 24 GFLOP/s for the plain product.
 *
 * This kernel computes a batched product as one XNNPACK product per batch entry, each on views into the operands'
 * memory (no copies), with an optional bias fused into the product. Its gradient uses explicit transposes (a fast
 * copy) and the same kernel, so training stays on the fast path too.
 */
import * as tf from "@tensorflow/tfjs";
import { BATCH_MATMUL } from "../names";
import { runKernel } from "../run";
import type { WasmBackend } from "./heap";

const fusedMatMul = new WeakMap<object, (...a: unknown[]) => void>();
const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

function batchMatMul({ inputs, backend: be }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const backend = be as WasmBackend;
  const a = inputs.a!;
  const b = inputs.b!;
  const bias = inputs.bias;
  const [Ba, M, K] = a.shape;
  const [Bb, , N] = b.shape;
  const B = Math.max(Ba, Bb);
  const out = backend.makeOutput([B, M, N], "float32");
  let run = fusedMatMul.get(backend);
  if (!run) {
    // _FusedMatMul(a_id, a_shape, a_rank, b_id, b_shape, b_rank, transpose_a, transpose_b, activation, bias_id,
    // prelu_id, leakyrelu_alpha, out_id); a batch of 1 without transposes is the XNNPACK path
    run = backend.wasm.cwrap("_FusedMatMul", null, ["number", "array", "number", "number", "array", "number", "number", "number", "number", "number", "number", "number", "number"]);
    fusedMatMul.set(backend, run);
  }
  const aData = backend.dataIdMap.get(a.dataId);
  const bData = backend.dataIdMap.get(b.dataId);
  const outData = backend.dataIdMap.get(out.dataId);
  const biasId = bias ? backend.dataIdMap.get(bias.dataId).id : 0;
  const aShape = shapeBytes([1, M, K]);
  const bShape = shapeBytes([1, K, N]);
  if (B === 1) {
    run(aData.id, aShape, 3, bData.id, bShape, 3, 0, 0, 0, biasId, 0, 0, outData.id);
    return out;
  }
  // Views are registered with the C++ side only (BackendWasm.disposeData would free the memory they point into);
  // disposing a view also drops the XNNPACK operator cached for it.
  const views: number[] = [];
  const view = (offset: number, size: number) => {
    const id = backend.dataIdNextNumber++;
    backend.wasm.tfjs.registerTensor(id, size, offset);
    views.push(id);
    return id;
  };
  try {
    for (let i = 0; i < B; i++) {
      const ai = Ba === 1 ? aData.id : view(aData.memoryOffset + 4 * i * M * K, M * K);
      const bi = Bb === 1 ? bData.id : view(bData.memoryOffset + 4 * i * K * N, K * N);
      const oi = view(outData.memoryOffset + 4 * i * M * N, M * N);
      run(ai, aShape, 3, bi, bShape, 3, 0, 0, 0, biasId, 0, 0, oi);
      while (views.length) backend.wasm.tfjs.disposeData(views.pop()!);
    }
  } finally {
    while (views.length) backend.wasm.tfjs.disposeData(views.pop()!);
  }
  return out;
}

export const batchMatMulKernel: tf.KernelConfig = { kernelName: BATCH_MATMUL, backendName: "wasm", kernelFunc: batchMatMul as unknown as tf.KernelFunc };

const T = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;
const product = (a: tf.Tensor, b: tf.Tensor) => runKernel(BATCH_MATMUL, { a, b });

export const batchMatMulGradient: tf.GradConfig = {
  kernelName: BATCH_MATMUL,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved) => {
    const [a, b] = saved as tf.Tensor3D[];
    const d = dy as tf.Tensor3D;
    const [B, M, N] = d.shape;
    const K = a.shape[2];
    return {
      // a batch shared by every product (batch 1) gets the sum over the batch, as one product over B*N or B*M
      a: () => (a.shape[0] === B ? product(d, T(b)) : product(tf.reshape(tf.transpose(d, [1, 0, 2]), [1, M, B * N]), tf.reshape(T(b), [1, B * N, K]))),
      b: () => (b.shape[0] === B ? product(T(a), d) : product(T(tf.reshape(a, [1, B * M, K])), tf.reshape(d, [1, B * M, N]))),
      bias: () => tf.sum(tf.reshape(d, [B * M, N]), 0),
    };
  },
};
