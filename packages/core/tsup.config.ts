import { packageBuild } from "../../config/tsup";

const subpaths = ["modules", "weights", "torch", "training", "ops", "kernels", "complexity"];
export default packageBuild(
  { index: "src/index.ts", ...Object.fromEntries(subpaths.map((p) => [p, `src/${p}/index.ts`])) },
  // import.meta.url in the CommonJS build (the threaded wasm backend resolves the package's files from it)
  { shims: true },
);
