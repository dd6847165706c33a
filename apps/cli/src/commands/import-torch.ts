import type { Command } from "commander";
import { checkOutputFolder } from "../inputs";

interface ImportOptions {
  config?: string;
  checkpoint: string[];
  out: string;
  module?: string;
  force?: boolean;
}

export function registerImportTorch(program: Command): void {
  program
    .command("import-torch")
    .description(
      "Convert official PerFRDiff PyTorch checkpoints (torch.save .pth) into our weight files (safetensors layout: " +
        "8-byte header length, JSON header, raw little-endian float32), one <module>.safetensors per checkpoint. " +
        "The module (denoiser, prior, pssl, emotion_vae, hypernet) is detected from the parameter names; any " +
        "missing, unexpected or mis-shaped tensor is refused with its name.",
    )
    .option("--config <yaml>", "official YAML (e.g. configs/rewrite_weight.yaml); default: the official settings")
    .requiredOption("--checkpoint <pth...>", "one or more official checkpoint files")
    .requiredOption("--out <dir>", "output folder (gets <module>.safetensors and config.yaml)")
    .option("--module <name>", "force the module instead of detecting it (only with one checkpoint)")
    .option("--force", "overwrite existing output files")
    .action(async (o: ImportOptions) => {
      const { mkdir, readFile, writeFile } = await import("node:fs/promises");
      const { join, resolve } = await import("node:path");
      const core = { ...(await import("@perfrdiff/core")), ...(await import("@perfrdiff/core/torch")) };
      if (o.module && !core.MODULE_NAMES.includes(o.module as import("@perfrdiff/core").ModuleName)) {
        throw new Error(`--module must be one of ${core.MODULE_NAMES.join(", ")}, got '${o.module}'`);
      }
      if (o.module && o.checkpoint.length > 1) throw new Error("--module applies to a single --checkpoint");
      const cfg = o.config ? await core.loadConfig(o.config) : core.officialConfig();
      await checkOutputFolder(o.out);
      await mkdir(o.out, { recursive: true });
      const flag = o.force ? "w" : "wx";
      const write = async (path: string, data: Uint8Array | string) => {
        try {
          await writeFile(path, data, { flag });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new Error(`${path} exists; pass --force to overwrite`);
          throw err;
        }
      };
      const seen = new Set<string>();
      for (const path of o.checkpoint) {
        // streamed tensor by tensor: official checkpoints reach 6.5 GB (full-rank PWSG)
        const res = await core.convertTorchCheckpointFile(
          cfg,
          path,
          (m: import("@perfrdiff/core").ModuleName) => {
            if (seen.has(m)) throw new Error(`two checkpoints hold the ${m} module (${path})`);
            seen.add(m);
            return join(o.out, `${m}.safetensors`);
          },
          { module: o.module as import("@perfrdiff/core").ModuleName | undefined, overwrite: !!o.force },
        );
        console.log(`${path} -> ${res.path} (${res.module}, ${res.parameters.toLocaleString("en")} parameters)`);
      }
      await write(join(o.out, "config.yaml"), o.config ? await readFile(o.config, "utf8") : core.OFFICIAL_MODEL_YAML);
      console.log(`config -> ${resolve(o.out, "config.yaml")}`);
    });
}
