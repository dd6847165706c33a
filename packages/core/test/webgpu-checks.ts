/**
 * The WebGPU checks, one named check each, shared by src/webgpu.test.ts (a vitest case per check, on SwiftShader in
 * CI) and bench/device-webgpu.mjs (the same list on the GPU machine, where npm and vitest are not): parity of every
 * module against the official PyTorch fixtures; the fused WebGPU kernels (forward, backward, AdamW) against the
 * composed tfjs ops and their automatic gradients, on awkward shapes; a guided step's dispatch count; then the same at
 * the official size (minutes on SwiftShader: `officialSize` checks). Each check reports a value that must not exceed
 * its limit (a relative error, a tensor count, a ratio). Run them on the webgpu backend (useBackend("webgpu")).
 */
import { readFileSync } from "node:fs";
import { parseNpy, toFloat32 } from "@perfrdiff/npy";
import { officialConfig, parseConfig, tf } from "../src/index";
import { setFusedKernels } from "../src/kernels/index";
import { DiffusionPrior, EmotionVAE, PWSG, PersonSpecificEncoder, TensorMap, TransformerDenoiser } from "../src/modules/index";
import { addLayerNorm, dropout as dropoutOp, gelu as geluOp, packedAttention } from "../src/ops/index";
import type { PackedAttention } from "../src/ops/index";
import { readTorchStateDict } from "../src/torch/index";
import { AdamW, TRAIN_STAGES, buildStage, stageModules, train } from "../src/training/index";
import { moduleParameterShapes, officialCheckpointPath, pwsgConfig, randomWeights, toTensorMap } from "../src/weights/index";
import type { ModuleName } from "../src/weights/index";
import { relError } from "./rel-error";
import { tinyConfig, tinyCorpus } from "./tiny-training";

export interface CheckResult {
  value: number;
  limit: number;
  /** What was measured, for the log. */
  detail: string;
}

export interface WebGPUCheck {
  name: string;
  /** Official-size work: minutes on SwiftShader, seconds on a GPU. */
  officialSize: boolean;
  run(): Promise<CheckResult>;
}

const rel = (value: number, limit: number): CheckResult => ({ value, limit, detail: `max error / max |reference| = ${value.toExponential(2)} (tolerance ${limit})` });

/** Runs `make` once, on first use, for the checks that share its result. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}

/** Runs fn with the fused kernels switched on or off, then back on. */
function withFused<T>(on: boolean, fn: () => T): T {
  setFusedKernels(on);
  try {
    return fn();
  } finally {
    setFusedKernels(true);
  }
}

/** All checks; `fixtures` is the parity fixture folder (test/fixtures/parity). */
export function webgpuChecks(fixtures: string): WebGPUCheck[] {
  const checks: WebGPUCheck[] = [];
  const add = (name: string, run: () => Promise<CheckResult>, officialSize = false) => checks.push({ name, run, officialSize });
  const file = (rel: string) => new Uint8Array(readFileSync(`${fixtures}/${rel}`));
  const cfg = once(async () => parseConfig(new TextDecoder().decode(file("parity.yaml"))));
  const npy = (kind: string, name: string) => parseNpy(file(`${kind}/${name}.npy`));
  const input = (name: string) => {
    const a = npy("inputs", name);
    return tf.tensor(toFloat32(a.data), a.shape);
  };
  const ints = (name: string) => Array.from(npy("inputs", name).data as ArrayLike<number | bigint>, Number);
  const load = async (m: ModuleName) => {
    const c = await cfg();
    const p = officialCheckpointPath(c, m).replace(/^\.\//, "");
    return toTensorMap(readTorchStateDict(file(p), p), moduleParameterShapes(c, m), p);
  };
  const reference = (name: string) => toFloat32(npy("outputs", name).data);

  // ---- parity with the official PyTorch modules (reduced size)
  const pssl = once(async () => new PersonSpecificEncoder((await cfg()).person_specific.args, await load("pssl")).forward(input("listener_personal_input")));
  const denoiser = once(async () => {
    const weights = await load("denoiser");
    const cond = {
      speakerAudio: input("speaker_audio_encodings"),
      speaker3dmm: input("speaker_3dmm_encodings"),
      speakerLatent: input("speaker_latent_embed"),
      speakerEmotion: input("speaker_emotion_encodings"),
    };
    return { weights, den: new TransformerDenoiser((await cfg()).diffusion_decoder.args, weights), cond, sample: input("sample"), t: ints("timesteps") };
  });
  const parity = (name: string, out: () => Promise<tf.Tensor>, tolerance = 1e-4) =>
    add(`parity ${name}`, async () => rel(relError(await (await out()).data(), reference(name)), tolerance));
  parity("pssl_feat", async () => (await pssl()).feat);
  parity("pssl_proj", async () => (await pssl()).proj);
  parity("vae_encoding", async () => new EmotionVAE((await cfg()).latent_embedder.args, await load("emotion_vae")).encode(input("emotion_seq")));
  // the prior's rotary attention takes sines of large arguments: float32 GPUs land near 1e-4, so it gets 5e-4
  parity(
    "prior",
    async () =>
      new DiffusionPrior((await cfg()).diffusion_prior.args, await load("prior")).forwardWithCondScale(input("x_t"), ints("t"), {
        speakerAudio: input("speaker_audio_encodings"),
        speakerLatent: input("speaker_latent_emb"),
        speaker3dmm: input("speaker_3dmm_encodings"),
      }),
    5e-4,
  );
  parity("denoiser_guided", async () => {
    const d = await denoiser();
    return d.den.forwardWithCondScale(d.sample, d.t, d.cond);
  });
  parity("denoiser_personalised", async () => {
    const d = await denoiser();
    const pwsg = PWSG.fromWeights(pwsgConfig(await cfg()), (await load("hypernet")).tensors);
    const edited = pwsg.personalise(d.weights, tf.slice((await pssl()).proj, [0, 0], [1, -1]));
    return d.den.forwardWithCondScale(d.sample, d.t, d.cond, undefined, edited);
  });

  // ---- the fused attention against the composed ops on awkward shapes: query counts not a multiple of the kernel's
  // query block, two key sources (time token + cached conditions), head sizes other than 128, keys at the limit
  // (the last three again with training's dropout on the probabilities, rate 0.3: the kernels' mask against ops/dropout's)
  const shapes: [number, number, number, number, number, number, number][] = [
    [3, 50, 512, 4, 50, 0, 0], [2, 13, 64, 4, 1, 151, 0], [2, 50, 512, 4, 1, 151, 0], [1, 9, 96, 3, 256, 0, 0], [2, 7, 40, 5, 3, 4, 0],
    [1, 9, 96, 3, 256, 0, 0.3], [2, 7, 40, 5, 3, 4, 0.3], [2, 13, 64, 4, 13, 0, 0.3],
  ];
  for (const [B, Lq, D, H, L1, L2, drop] of shapes) {
    const self = L1 === Lq && !L2;
    const operands = () => {
      const qkv = tf.randomNormal([B, Lq, 3 * D], 0, 1, "float32", 7);
      const kv1 = tf.randomNormal([B, L1, 2 * D], 0, 1, "float32", 9);
      const kv2 = L2 ? tf.randomNormal([B, L2, 2 * D], 0, 1, "float32", 8) : null;
      return self ? [qkv] : [qkv, kv1, ...(kv2 ? [kv2] : [])];
    };
    // the query tensor, then each source
    const packed = (xs: tf.Tensor[]): PackedAttention => ({
      q: xs[0] as tf.Tensor3D,
      qOffset: self ? 0 : D,
      dim: D,
      heads: H,
      sources: self ? [{ t: xs[0] as tf.Tensor3D, kOffset: D, vOffset: 2 * D }] : xs.slice(1).map((t) => ({ t: t as tf.Tensor3D, kOffset: 0, vOffset: D })),
    });
    const both = once(async () => {
      const xs = operands();
      const weight = tf.randomNormal([B, Lq, D], 0, 1, "float32", 3);
      const dropout = drop ? { rate: drop, seed: 987654321 } : undefined;
      const run = (fused: boolean) =>
        withFused(fused, () => ({
          out: packedAttention(packed(xs), dropout),
          grads: tf.grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(packedAttention(packed(ys), dropout), weight)))(xs),
        }));
      return { composed: run(false), fused: run(true) };
    });
    const shape = `B ${B}, ${Lq} queries, ${H} heads x ${D / H}, keys ${L1}${L2 ? ` + ${L2}` : ""}${drop ? `, dropout ${drop}` : ""}`;
    add(`fused vs composed attention (${shape})`, async () => {
      const r = await both();
      return rel(relError(await r.fused.out.data(), await r.composed.out.data()), 1e-5);
    });
    const inputs = self ? ["queries"] : ["queries", "source 1", ...(L2 ? ["source 2"] : [])];
    inputs.forEach((label, i) =>
      add(`fused vs composed attention gradient of ${label} (${shape})`, async () => {
        const r = await both();
        return rel(relError(await r.fused.grads[i]!.data(), await r.composed.grads[i]!.data()), 1e-5);
      }),
    );
  }

  // ---- the frozen GRU's step kernel (the emotion VAE's encode) against the composed steps: odd widths and batches
  for (const [B, H] of [[3, 48], [5, 70]] as const) {
    add(`fused vs composed GRU encode (${B} windows of 50 frames, hidden ${H})`, async () => {
      const c = { ...(await cfg()).latent_embedder.args, hidden_dim: H, z_dim: H };
      const vae = new EmotionVAE(c, randomWeights({ ...(await cfg()), latent_embedder: { ...(await cfg()).latent_embedder, args: c } }, "emotion_vae", 21));
      const x = tf.randomUniform([B, c.window_size, c.emotion_dim], 0, 1, "float32", 22);
      const [composed, fused] = [withFused(false, () => vae.encode(x)), withFused(true, () => vae.encode(x))];
      const result = rel(relError(await fused.data(), await composed.data()), 1e-5);
      tf.dispose([x, composed, fused]);
      return result;
    });
  }

  // ---- LayerNorm's backward kernels against the composed ops: widths below, at and above the workgroup, with and
  // without the residual (the residual's gradient is the input's)
  for (const [rows, dim, residual] of [[7, 40, true], [5, 64, false], [3, 515, true]] as const) {
    const grads = once(async () => {
      const x = tf.randomNormal([rows, dim], 0, 1, "float32", 5);
      const r = residual ? tf.randomNormal([rows, dim], 0, 1, "float32", 6) : null;
      const gamma = tf.randomNormal([dim], 1, 0.3, "float32", 7);
      const beta = tf.randomNormal([dim], 0, 0.3, "float32", 8);
      const weight = tf.randomNormal([rows, dim], 0, 1, "float32", 9);
      const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(addLayerNorm(xx, r, g, b, 1e-5), weight));
      const run = (fused: boolean) => withFused(fused, () => tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, gamma, beta]));
      return { composed: run(false), fused: run(true) };
    });
    ["x", "gamma", "beta"].forEach((n, i) =>
      add(`fused vs composed LayerNorm gradient ${n} (${rows} rows x ${dim}${residual ? ", residual" : ""})`, async () => {
        const g = await grads();
        return rel(relError(await g.fused[i]!.data(), await g.composed[i]!.data()), 1e-5);
      }),
    );
  }

  // ---- GELU and its derivative against the composed ops (erf), on a size that is not a multiple of the workgroup
  const gelu = once(async () => {
    const x = tf.randomNormal([3, 77], 0, 2, "float32", 11);
    const weight = tf.randomNormal([3, 77], 0, 1, "float32", 12);
    const run = (fused: boolean) => withFused(fused, () => ({ out: geluOp(x), grad: tf.grad((y: tf.Tensor) => tf.sum(tf.mul(geluOp(y), weight)))(x) }));
    return { composed: run(false), fused: run(true) };
  });
  add("fused vs composed GELU (3 x 77)", async () => rel(relError(await (await gelu()).fused.out.data(), await (await gelu()).composed.out.data()), 1e-5));
  add("fused vs composed GELU gradient (3 x 77)", async () => rel(relError(await (await gelu()).fused.grad.data(), await (await gelu()).composed.grad.data()), 1e-5));

  // ---- dropout: the kept fraction, the scaling, the same mask for the same seed and in the gradient
  const dropped = once(async () => {
    const x = tf.add(tf.abs(tf.randomNormal([3, 5000], 0, 1, "float32", 13)), 0.1); // no exact zeros of its own
    const weight = tf.randomNormal([3, 5000], 0, 1, "float32", 14);
    const out = dropoutOp(x, 0.3, 1234);
    const again = dropoutOp(x, 0.3, 1234);
    const other = dropoutOp(x, 0.3, 1235);
    const grad = tf.grad((y: tf.Tensor) => tf.sum(tf.mul(dropoutOp(y, 0.3, 1234), weight)))(x);
    const [o, a, b, g, xs, ws] = await Promise.all([out, again, other, grad, x, weight].map((t) => t.data()));
    let kept = 0;
    let scaleError = 0;
    let gradError = 0;
    let sameMask = true;
    let otherDiffers = 0;
    for (let i = 0; i < o.length; i++) {
      const keep = o[i] !== 0;
      if (keep) {
        kept++;
        scaleError = Math.max(scaleError, Math.abs(o[i]! - xs[i]! / 0.7) / (xs[i]! / 0.7));
      }
      gradError = Math.max(gradError, Math.abs(g[i]! - (keep ? ws[i]! / 0.7 : 0)));
      if (a[i] !== o[i]) sameMask = false;
      if ((b[i] !== 0) !== keep) otherDiffers++;
    }
    return { keptFraction: kept / o.length, scaleError, gradError, sameMask, otherDiffers: otherDiffers / o.length };
  });
  add("dropout keeps 1 - rate of the elements (rate 0.3, 15000 elements, within 0.02)", async () => {
    const d = await dropped();
    return { value: Math.abs(d.keptFraction - 0.7), limit: 0.02, detail: `kept ${d.keptFraction.toFixed(4)}` };
  });
  add("dropout scales kept elements by 1 / (1 - rate), and its gradient uses the same mask", async () => {
    const d = await dropped();
    return { value: Math.max(d.scaleError, d.gradError), limit: 1e-6, detail: `scale error ${d.scaleError.toExponential(2)}, gradient error ${d.gradError.toExponential(2)}` };
  });
  add("dropout masks depend on the seed alone (same seed: same mask; next seed: ~42% of elements differ)", async () => {
    const d = await dropped();
    // two independent masks at rate 0.3 disagree on 2 * 0.3 * 0.7 = 42% of the elements
    return { value: d.sameMask ? Math.abs(d.otherDiffers - 0.42) : 1, limit: 0.03, detail: `same mask ${d.sameMask}, other seed differs on ${(100 * d.otherDiffers).toFixed(1)}%` };
  });

  add("dropout masks are the composed path's (the same hash on every backend; seeds of all 32 bits)", async () => {
    const x = tf.add(tf.abs(tf.randomNormal([7, 3001], 0, 1, "float32", 15)), 0.1);
    let differ = 0;
    for (const seed of [1, -123456789, 0x7fffffff, 0x9e3779b9 | 0]) {
      const [k, c] = await Promise.all([dropoutOp(x, 0.2, seed), withFused(false, () => dropoutOp(x, 0.2, seed))].map((t) => t.data()));
      for (let i = 0; i < k.length; i++) if (k[i] !== c[i]) differ++;
    }
    return { value: differ, limit: 0, detail: `${differ} of 4 x ${x.size} elements differ` };
  });

  // ---- AdamW's kernels against its composed ops: three steps on variables of awkward sizes, and three steps switching
  // between the two (their moments are kept in different layouts)
  for (const shape of [[1000], [37, 11]]) {
    const run = async (fused: boolean | "switch") => {
      const init = tf.randomNormal(shape, 0, 1, "float32", 1);
      const v = tf.variable(init);
      const opt = new AdamW([v], { lr: 0.01, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1 });
      try {
        for (let i = 0; i < 3; i++) {
          const g = tf.randomNormal(shape, 0, 1, "float32", 10 + i);
          withFused(fused === "switch" ? i !== 1 : fused, () => opt.step({ [v.name]: g }));
          g.dispose();
        }
        return await v.data();
      } finally {
        opt.dispose();
        tf.dispose([v, init]);
      }
    };
    const results = once(async () => {
      const before = tf.memory().numTensors;
      const composed = await run(false);
      const fused = await run(true);
      const switching = await run("switch");
      return { composed, fused, switching, left: tf.memory().numTensors - before };
    });
    add(`fused vs composed AdamW, 3 steps, [${shape}]`, async () => rel(relError((await results()).fused, (await results()).composed), 1e-6));
    add(`fused, composed, fused AdamW steps vs composed, [${shape}]`, async () => rel(relError((await results()).switching, (await results()).composed), 1e-6));
    add(`tensors left by AdamW runs, [${shape}]`, async () => {
      const left = (await results()).left;
      return { value: left, limit: 0, detail: `${left} tensors left` };
    });
  }

  // ---- dispatches of a guided step with cached conditions: the point of the fused kernels
  const dispatches = async (den: TransformerDenoiser, x: tf.Tensor, t: number[], cond: object, B: number) => {
    const count = async (fused: boolean) => {
      setFusedKernels(fused);
      try {
        const cache = den.conditionCache(cond, B);
        const prof = await tf.profile(() => den.forwardCached(x, t, cache));
        cache.dispose();
        // fusedMatMul__op is the op's wrapper around the _FusedMatMul kernel: not a dispatch
        return prof.kernels.filter((k) => k.name !== "Reshape" && !k.name.endsWith("__op")).length;
      } finally {
        setFusedKernels(true);
      }
    };
    const [on, off] = [await count(true), await count(false)];
    return { value: on / off, limit: 0.5, detail: `${on} kernels besides reshapes with the fused kernels, ${off} without` };
  };
  add("a guided step dispatches under half the kernels with the fused kernels (parity size)", async () => {
    const d = await denoiser();
    return dispatches(d.den, d.sample, d.t, d.cond, d.sample.shape[0]);
  });

  // ---- the fused kernels against the composed ops at the official size, random weights, 3 windows
  const official = once(async () => {
    const off = officialConfig();
    const weights = randomWeights(off, "denoiser", 1);
    const B = 3;
    const cond = {
      speakerAudio: tf.randomNormal([B, 50, 78], 0, 1, "float32", 2),
      speaker3dmm: tf.randomNormal([B, 50, 58], 0, 1, "float32", 3),
      speakerLatent: tf.randomNormal([B, 1, 512], 0, 1, "float32", 4),
    };
    return { off, weights, den: new TransformerDenoiser(off.diffusion_decoder.args, weights), B, x: tf.randomNormal([B, 50, 25], 0, 1, "float32", 1), t: [10, 500, 900], cond };
  });
  const fusedVsComposed = (label: string, fn: (o: Awaited<ReturnType<typeof official>>) => tf.Tensor | Promise<tf.Tensor>) =>
    add(
      `fused vs composed: ${label} (official size)`,
      async () => {
        const o = await official();
        const a = await withFused(false, () => fn(o));
        const b = await fn(o);
        const result = rel(relError(await b.data(), await a.data()), 1e-4);
        tf.dispose([a, b]);
        return result;
      },
      true,
    );
  fusedVsComposed("denoiser forwardWithCondScale", (o) => o.den.forwardWithCondScale(o.x, o.t, o.cond));
  fusedVsComposed("denoiser forward", (o) => o.den.forward(o.x, o.t, o.cond));
  fusedVsComposed("denoiser forwardCached", (o) => {
    const cache = o.den.conditionCache(o.cond, o.B);
    const out = o.den.forwardCached(o.x, o.t, cache);
    cache.dispose();
    return out;
  });
  const names = ["decoder.layers.0.norm1.weight", "decoder.layers.0.self_attn.in_proj_weight", "decoder.layers.3.multihead_attn.in_proj_weight", "decoder.layers.6.linear1.weight", "decoder.norm.bias", "to_emotion_embed.weight"];
  const trainGrads = once(async () => {
    const o = await official();
    const vars = new TensorMap([...o.weights.tensors].map(([k, v]) => [k, tf.variable(v)]));
    const den = new TransformerDenoiser(o.off.diffusion_decoder.args, vars);
    const grads = (fused: boolean) =>
      withFused(fused, () => tf.variableGrads(() => tf.losses.meanSquaredError(tf.zeros([o.B, 50, 25]), den.forward(o.x, o.t, o.cond)) as tf.Scalar, names.map((n) => vars.get(n) as tf.Variable)));
    return { vars, composed: grads(false), fused: grads(true) };
  });
  for (const n of names) {
    add(
      `fused vs composed gradient: ${n} (official size)`,
      async () => {
        const g = await trainGrads();
        const v = g.vars.get(n) as tf.Variable;
        return rel(relError(await g.fused.grads[v.name]!.data(), await g.composed.grads[v.name]!.data()), 1e-4);
      },
      true,
    );
  }
  add("a guided step dispatches under half the kernels with the fused kernels (official size)", async () => {
    const o = await official();
    return dispatches(o.den, o.x, o.t, o.cond, o.B);
  }, true);

  // ---- training on WebGPU: every stage of the tiny model in training mode (dropout, condition dropout), the fused
  // kernels against the composed ops on the same backend (dropout masks are the same hash on both paths): the first
  // step's gradients, and the losses of three steps through train() (AdamW or SGD in between). Weights after a few
  // Adam steps are not compared: Adam's normalised update turns float noise in a near-zero gradient into a visible step.
  for (const stage of TRAIN_STAGES) {
    add(`training ${stage}: fused vs composed gradients and losses over 3 steps`, async () => {
      const c = tinyConfig();
      const corpus = tinyCorpus();
      const m = stageModules(stage, c);
      const start = Object.fromEntries([...m.trains, ...m.needs].map((name, i) => [name, randomWeights(c, name, 11 + i)]));
      const gradients = (fused: boolean) =>
        withFused(fused, () => {
          const weights = { ...start };
          for (const name of m.trains) weights[name] = new TensorMap([...start[name]!.tensors].map(([k, t]) => [k, tf.variable(t)]));
          const st = buildStage(stage, { cfg: c, corpus, frames: 40, seed: 7, weights });
          const vars = m.trains.flatMap((name) => [...weights[name]!.tensors.values()] as tf.Variable[]);
          const { value, grads } = tf.variableGrads(() => st.loss(0).total, vars);
          const flat = tf.concat(vars.map((v) => tf.reshape(grads[v.name]!, [-1])));
          tf.dispose([value, ...Object.values(grads), ...vars]);
          return flat;
        });
      const losses = async (fused: boolean) => {
        const seen: number[] = [];
        setFusedKernels(fused);
        try {
          const r = await train({ stage, config: c, corpus, frames: 40, weights: start, steps: 3, onStep: (s) => void seen.push(s.losses.loss!) });
          for (const w of Object.values(r.weights)) w?.dispose();
        } finally {
          setFusedKernels(true);
        }
        return seen;
      };
      const [gc, gf] = [gradients(false), gradients(true)];
      const gradError = relError(await gf.data(), await gc.data());
      const [lc, lf] = [await losses(false), await losses(true)];
      const lossError = Math.max(...lc.map((l, i) => Math.abs(lf[i]! - l) / Math.abs(l)));
      tf.dispose([gc, gf]);
      for (const w of Object.values(start)) w?.dispose();
      return { value: Math.max(gradError, lossError), limit: 1e-4, detail: `gradient error ${gradError.toExponential(2)}, loss error ${lossError.toExponential(2)} (losses ${lf.map((l) => l.toFixed(4)).join(", ")})` };
    });
  }
  return checks;
}
