import { packageBuild } from "../../config/tsup";

// shims: import.meta.url in the CommonJS build (a dawn.node path is resolved with createRequire from it); the
// declarations name GPU types, so they reference @webgpu/types for consumers whose tsconfig does not
export default packageBuild(["src/index.ts"], { shims: true, external: ["webgpu"], dts: { banner: '/// <reference types="@webgpu/types" />' } });
