import { packageBuild } from "../../config/tsup";

const areas = ["audio", "face", "dataset", "synth", "vision"];
export default packageBuild(
  { index: "src/index.ts", ...Object.fromEntries(areas.map((a) => [a, `src/${a}/index.ts`])) },
  {
    // import.meta.url in the CommonJS build (the face model resolves its weights folder from it).
    shims: true,
    // Optional dependency: must stay a runtime import (it locates its platform binary relative to itself).
    external: ["@ffmpeg-installer/ffmpeg"],
  },
);
