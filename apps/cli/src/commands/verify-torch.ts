import type { Command } from "commander";
import type { BackendName } from "@perfrdiff/core";
import { fileExists, checkOutputFolder } from "../inputs";

interface VerifyOptions {
  config?: string;
  checkpointDir: string;
  inputs: string;
  out: string;
  backend: string;
  force?: boolean;
}

const HELP = `
Inputs (.npy, float32 unless said; B batch, W window (50), D latent (512)), named after the official arguments.
A module runs when its checkpoint and its required inputs exist:
  denoiser (TransformerDenoiser.forward_with_cond_scale, guidance from the config):
    sample [B,W,25], timesteps [B] (int), and any of speaker_audio_encodings [B,W,78], speaker_3dmm_encodings [B,W,58],
    speaker_emotion_encodings [B,W,25], speaker_latent_embed [B,1,D], listener_latent_embed [B,1,D],
    listener_personal_embed [B,1,D], past_listener_emotion [B,W,25]          -> denoiser_guided.npy [B,W,25]
    with the hypernet checkpoint and listener_personal_input: the first listener's PWSG edit applied
                                  -> hypernet_branch_<i>.npy, denoiser_personalised.npy [B,W,25]
  prior (DiffusionPriorNetwork.forward_with_cond_scale): x_t [B,1,D], t [B] (int), and any of
    speaker_audio_encodings [B,W,78], speaker_latent_emb [B,1,D], speaker_3dmm_encodings [B,W,58] -> prior.npy [B,1,D]
  emotion VAE (AutoencoderRNN_VAE_v2.encode): emotion_seq [B,W,25]
                                  -> vae_encoding.npy [B,D], vae_mu.npy, vae_logvar.npy, vae_decoded.npy [B,W,25]
  PSSL (person_specific Transformer.forward): listener_personal_input [B,T,58]
                                  -> pssl_feat.npy [B,512], pssl_proj.npy [B,512]
Checkpoints are found where the official code looks for them, relative to --checkpoint-dir (the folder holding
./checkpoints): trainer.checkpoint_dir/{TransformerDenoiser,DiffusionPriorNetwork,ModifierNetwork}/checkpoint.pth,
person_specific.checkpoint_path and latent_embedder.checkpoint_path.`;

export function registerVerifyTorch(program: Command): void {
  program
    .command("verify-torch")
    .description(
      "Run each official checkpoint through our tfjs modules deterministically (eval mode, no dropout) on .npy " +
        "inputs and write each output as .npy, to compare with the official PyTorch modules.",
    )
    .option("--config <yaml>", "official YAML; default: the official settings")
    .requiredOption("--checkpoint-dir <dir>", "folder the config's checkpoint paths are relative to")
    .requiredOption("--inputs <dir>", "folder of input .npy files (see below)")
    .requiredOption("--out <dir>", "folder for output .npy files")
    .option("--backend <name>", "tfjs backend: wasm, cpu, webgpu or tensorflow", "wasm")
    .option("--force", "overwrite existing outputs")
    .addHelpText("after", HELP)
    .action(async (o: VerifyOptions) => {
      const { join } = await import("node:path");
      const core = {
        ...(await import("@perfrdiff/core")),
        ...(await import("@perfrdiff/core/modules")),
        ...(await import("@perfrdiff/core/weights")),
      };
      const { tf } = core;
      const npy = await import("@perfrdiff/npy");
      if (!core.BACKEND_NAMES.includes(o.backend as BackendName)) throw new Error(`--backend must be one of ${core.BACKEND_NAMES.join(", ")}, got '${o.backend}'`);
      const backend = await core.useBackend(o.backend as BackendName);
      const cfg = o.config ? await core.loadConfig(o.config) : core.officialConfig();
      await checkOutputFolder(o.out);
      const inPath = (n: string) => join(o.inputs, `${n}.npy`);
      const has = (n: string) => fileExists(inPath(n));
      const tensor = async (n: string) => {
        const a = await npy.readNpy(inPath(n));
        const data = npy.toFloat32(a.data);
        if (data.some((v) => !Number.isFinite(v))) throw new Error(`${inPath(n)} contains NaN or infinity`);
        return tf.tensor(data, a.shape);
      };
      const ints = async (n: string) => {
        const a = await npy.readNpy(inPath(n));
        if (a.shape.length !== 1) throw new Error(`${inPath(n)} must be 1-d [B], got [${a.shape}]`);
        return Array.from(a.data as ArrayLike<number | bigint>, Number);
      };
      const optional = async (n: string) => ((await has(n)) ? tensor(n) : undefined);
      const save = async (name: string, t: import("@perfrdiff/core").tf.Tensor) => {
        await npy.writeNpy(join(o.out, `${name}.npy`), { data: t.dataSync() as Float32Array, shape: t.shape }, { overwrite: !!o.force });
        console.log(`  ${name}.npy [${t.shape}]`);
      };
      // names and shapes are checked before any tensor is read
      const load = async (m: import("@perfrdiff/core").ModuleName) => {
        const w = await core.loadModuleWeights({ official: o.checkpointDir }, cfg, m);
        if (!w) console.log(`${m}: no checkpoint at ${join(o.checkpointDir, core.officialCheckpointPath(cfg, m))}, skipped`);
        return w;
      };
      console.log(`backend ${backend}`);
      let ran = 0;

      const psslW = await load("pssl");
      let proj: import("@perfrdiff/core").tf.Tensor2D | undefined;
      if (psslW && (await has("listener_personal_input"))) {
        const r = new core.PersonSpecificEncoder(cfg.person_specific.args, psslW).forward(await tensor("listener_personal_input"));
        console.log("pssl:");
        await save("pssl_feat", r.feat);
        await save("pssl_proj", r.proj);
        proj = r.proj;
        ran++;
      }
      const vaeW = await load("emotion_vae");
      if (vaeW && (await has("emotion_seq"))) {
        const vae = new core.EmotionVAE(cfg.latent_embedder.args, vaeW);
        const x = await tensor("emotion_seq");
        console.log("emotion_vae:");
        await save("vae_encoding", vae.encode(x));
        const { mu, logvar } = vae.posterior(x);
        await save("vae_mu", mu);
        await save("vae_logvar", logvar);
        await save("vae_decoded", vae.decode(mu));
        ran++;
      }
      const priorW = await load("prior");
      if (priorW && (await has("x_t")) && (await has("t"))) {
        const prior = new core.DiffusionPrior(cfg.diffusion_prior.args, priorW);
        const out = prior.forwardWithCondScale(await tensor("x_t"), await ints("t"), {
          speakerAudio: await optional("speaker_audio_encodings"),
          speakerLatent: await optional("speaker_latent_emb"),
          speaker3dmm: await optional("speaker_3dmm_encodings"),
        });
        console.log("prior:");
        await save("prior", out);
        ran++;
      }
      const denW = await load("denoiser");
      if (denW && (await has("sample")) && (await has("timesteps"))) {
        const den = new core.TransformerDenoiser(cfg.diffusion_decoder.args, denW);
        const sample = await tensor("sample");
        const t = await ints("timesteps");
        const cond = {
          speakerAudio: await optional("speaker_audio_encodings"),
          speaker3dmm: await optional("speaker_3dmm_encodings"),
          speakerEmotion: await optional("speaker_emotion_encodings"),
          speakerLatent: await optional("speaker_latent_embed"),
          listenerLatent: await optional("listener_latent_embed"),
          listenerPersonal: await optional("listener_personal_embed"),
          pastListenerEmotion: await optional("past_listener_emotion"),
        };
        console.log("denoiser:");
        await save("denoiser_guided", den.forwardWithCondScale(sample, t, cond));
        ran++;
        const hyperW = cfg.main_model ? await load("hypernet") : null;
        if (hyperW && proj) {
          const pwsg = core.PWSG.fromWeights(core.pwsgConfig(cfg), hyperW.tensors);
          const p = tf.slice(proj, [0, 0], [1, -1]);
          console.log("hypernet (first listener):");
          let i = 0;
          for (const d of pwsg.forward(p).values()) await save(`hypernet_branch_${i++}`, d);
          const edited = pwsg.personalise(denW, p);
          await save("denoiser_personalised", den.forwardWithCondScale(sample, t, cond, undefined, edited));
          edited.dispose();
          ran++;
        }
      }
      if (ran === 0) throw new Error(`nothing ran: no module had both its checkpoint under ${o.checkpointDir} and its inputs in ${o.inputs} (see --help)`);
    });
}
