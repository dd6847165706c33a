// @perfrdiff/core/kernels: core's tfjs kernels. useBackend registers them; call registerKernels yourself after
// choosing a backend with tf.setBackend.
export { hasKernel, registerKernels, setFusedKernels } from "./registry";
