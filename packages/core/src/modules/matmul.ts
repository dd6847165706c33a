/**
 * Matrix products that stay on tfjs-wasm's fast path. tfjs-wasm 4.22 gives a product to XNNPACK only when it is a
 * single [M, K] x [K, N] product without transposes; batched products (attention) and transposed ones (every
 * gradient of a product) fall to a naive loop, measured on the 2-core machine at 2.1 GFLOP/s (batched or
 * transposed b) and 0.6 GFLOP/s (transposed a) against 24 GFLOP/s for the plain product.
 *
 * {@link bmm} computes a batched product as one XNNPACK product per batch entry, each on views into the operands'
 * memory (no copies), with an optional bias fused into the product. Its gradient uses explicit transposes (a fast
 * copy) and the same kernel, so training stays on the fast path too. Other backends get tf.matMul.
 */
import * as tf from "@tensorflow/tfjs";

const KERNEL = "PerfrdiffBatchMatMul";

/** The parts of tfjs-wasm's BackendWasm that the kernel uses (tfjs-backend-wasm is pinned to 4.22.0). */
interface WasmBackend {
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...a: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
}

const fusedMatMul = new WeakMap<object, (...a: unknown[]) => void>();
const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

function kernel({ inputs, backend: be }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
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
  const ad = backend.dataIdMap.get(a.dataId);
  const bd = backend.dataIdMap.get(b.dataId);
  const od = backend.dataIdMap.get(out.dataId);
  const biasId = bias ? backend.dataIdMap.get(bias.dataId).id : 0;
  const aShape = shapeBytes([1, M, K]);
  const bShape = shapeBytes([1, K, N]);
  if (B === 1) {
    run(ad.id, aShape, 3, bd.id, bShape, 3, 0, 0, 0, biasId, 0, 0, od.id);
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
      const ai = Ba === 1 ? ad.id : view(ad.memoryOffset + 4 * i * M * K, M * K);
      const bi = Bb === 1 ? bd.id : view(bd.memoryOffset + 4 * i * K * N, K * N);
      const oi = view(od.memoryOffset + 4 * i * M * N, M * N);
      run(ai, aShape, 3, bi, bShape, 3, 0, 0, 0, biasId, 0, 0, oi);
      while (views.length) backend.wasm.tfjs.disposeData(views.pop()!);
    }
  } finally {
    while (views.length) backend.wasm.tfjs.disposeData(views.pop()!);
  }
  return out;
}

const T = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]) as tf.Tensor3D;

function register(): void {
  if (!tf.getKernel(KERNEL, "wasm")) tf.registerKernel({ kernelName: KERNEL, backendName: "wasm", kernelFunc: kernel as unknown as tf.KernelFunc });
  if (tf.getGradient(KERNEL)) return;
  tf.registerGradient({
    kernelName: KERNEL,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, saved) => {
      const [a, b] = saved as tf.Tensor3D[];
      const d = dy as tf.Tensor3D;
      const [B, M, N] = d.shape;
      const K = a.shape[2];
      return {
        // a batch shared by every product (batch 1) gets the sum over the batch, as one product over B*N or B*M
        a: () =>
          a.shape[0] === B
            ? bmm(d, T(b))
            : bmm(tf.reshape(tf.transpose(d, [1, 0, 2]), [1, M, B * N]) as tf.Tensor3D, tf.reshape(T(b), [1, B * N, K]) as tf.Tensor3D),
        b: () =>
          b.shape[0] === B ? bmm(T(a), d) : bmm(T(tf.reshape(a, [1, B * M, K])), tf.reshape(d, [1, B * M, N]) as tf.Tensor3D),
        bias: () => tf.sum(tf.reshape(d, [B * M, N]), 0),
      };
    },
  });
}

/**
 * Batched product a [Ba, M, K] x b [Bb, K, N] (+ bias [N]) -> [B, M, N], where a batch of 1 is shared by every
 * product (Ba and Bb are equal or one of them is 1).
 */
export function bmm(a: tf.Tensor3D, b: tf.Tensor3D, bias?: tf.Tensor): tf.Tensor3D {
  const [Ba, M, K] = a.shape;
  const [Bb, K2, N] = b.shape;
  if (a.rank !== 3 || b.rank !== 3 || K !== K2 || (Ba !== Bb && Ba !== 1 && Bb !== 1)) {
    throw new Error(`bmm: cannot multiply [${a.shape}] by [${b.shape}]`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== N)) throw new Error(`bmm: bias [${bias.shape}] does not match ${N} outputs`);
  if (tf.getBackend() === "wasm" && a.dtype === "float32" && b.dtype === "float32") {
    register();
    return tf.engine().runKernel(KERNEL, (bias ? { a, b, bias } : { a, b }) as unknown as tf.NamedTensorMap) as tf.Tensor3D;
  }
  return tf.tidy(() => {
    const B = Math.max(Ba, Bb);
    // a shared right operand is one 2-D product, with the bias fused in (one kernel on webgpu instead of two)
    if (Bb === 1) return tf.reshape(tf.fused.matMul({ a: tf.reshape(a, [Ba * M, K]) as tf.Tensor2D, b: tf.reshape(b, [K, N]) as tf.Tensor2D, bias }), [Ba, M, N]) as tf.Tensor3D;
    const y = tf.matMul(Ba === B ? a : tf.tile(a, [B, 1, 1]), b);
    return (bias ? tf.add(y, bias) : y) as tf.Tensor3D;
  });
}

/** x [..., K] times a matrix [K, N] (+ bias [N]) -> [..., N]: the products of linear layers. */
export function matmulLast(x: tf.Tensor, w: tf.Tensor2D, bias?: tf.Tensor): tf.Tensor {
  const K = w.shape[0];
  const lead = x.shape.slice(0, -1);
  const rows = lead.reduce((p, q) => p * q, 1);
  const y = bmm(tf.reshape(x, [1, rows, K]) as tf.Tensor3D, tf.reshape(w, [1, K, w.shape[1]]) as tf.Tensor3D, bias);
  return tf.reshape(y, [...lead, w.shape[1]]);
}
