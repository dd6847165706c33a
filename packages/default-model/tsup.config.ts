import { packageBuild } from "../../config/tsup";

// import.meta.url in the CommonJS build: the model files are found beside the module
export default packageBuild(["src/index.ts"], { shims: true });
