/**
 * Toy 2-D example: train a tiny denoiser on a ring of 8 Gaussians with tfjs, then sample it with DDPM, DDIM and
 * DPM-Solver++(2M), unconditionally and with classifier-free guidance towards the upper half-plane.
 *
 *   pnpm --filter @perfrdiff/diffusion example        (or import { runToy2d } from this file)
 *
 * The model: a 3-layer MLP on [x (2), condition one-hot (2), sinusoidal embedding of t (16)] predicting ε; 0.2 of the
 * conditions are dropped (zeroed) during training so that the same network is also the unconditional model.
 */
import * as tf from "@tensorflow/tfjs";
import {
  DDIMSampler, DDPMSampler, DPMSolverPP2MSampler, SeededRandom, applyConditionDropout, conditionDropoutMask,
  diffusionLoss, makeSchedule, sampleTimesteps, type Denoiser, type Prediction, type Sampler,
} from "@perfrdiff/diffusion";

export const MODES = 8;
export const RADIUS = 1;
export const MODE_STD = 0.08;

/** Centre of mode k: angle (k + 0.5)·45°, so modes 0–3 lie in the upper half-plane and 4–7 in the lower. */
export function modeCentre(k: number): [number, number] {
  const a = ((k + 0.5) * 2 * Math.PI) / MODES;
  return [RADIUS * Math.cos(a), RADIUS * Math.sin(a)];
}

/** `n` points of the ring `[n, 2]` and their half-plane one-hot `[n, 2]` (1,0) = upper. */
export function ringData(n: number, rng: SeededRandom): { x: tf.Tensor2D; cond: tf.Tensor2D } {
  const u = rng.uniform(n);
  const z = rng.normal64(2 * n);
  const x = new Float32Array(2 * n);
  const c = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const k = Math.min(MODES - 1, Math.floor(u[i] * MODES));
    const [cx, cy] = modeCentre(k);
    x[2 * i] = cx + MODE_STD * z[2 * i];
    x[2 * i + 1] = cy + MODE_STD * z[2 * i + 1];
    c[2 * i + (k < MODES / 2 ? 0 : 1)] = 1;
  }
  return { x: tf.tensor2d(x, [n, 2]), cond: tf.tensor2d(c, [n, 2]) };
}

/** Sinusoidal embedding of integer timesteps `[b]` -> `[b, 16]`. */
function timeEmbedding(t: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const freqs = tf.tensor1d(Array.from({ length: 8 }, (_, k) => Math.exp((-Math.log(1000) * k) / 8)));
    const args = tf.mul(tf.reshape(tf.cast(t, "float32"), [-1, 1]), tf.reshape(freqs, [1, -1]));
    return tf.concat([tf.sin(args), tf.cos(args)], 1) as tf.Tensor2D;
  });
}

/** A tiny MLP denoiser `(x [b,2], t [b], cond [b,2]) -> ε [b,2]` with its variables. */
export function makeMlp(hidden = 64, seed = 0): { denoiser: Denoiser; variables: tf.Variable[] } {
  const rng = new SeededRandom(seed, 99);
  const dense = (i: number, o: number) => {
    const w = tf.variable(rng.normal([i, o], Math.sqrt(2 / i)));
    const b = tf.variable(tf.zeros([o]));
    return { w, b };
  };
  const l1 = dense(2 + 2 + 16, hidden);
  const l2 = dense(hidden, hidden);
  const l3 = dense(hidden, hidden);
  const l4 = dense(hidden, 2);
  const silu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(x));
  const denoiser: Denoiser = (x, t, cond) =>
    tf.tidy(() => {
      const c = (cond as tf.Tensor | undefined) ?? tf.zeros([x.shape[0], 2]);
      let h = tf.concat([x, c, timeEmbedding(t)], 1);
      h = silu(tf.add(tf.matMul(h as tf.Tensor2D, l1.w), l1.b));
      h = silu(tf.add(tf.matMul(h as tf.Tensor2D, l2.w), l2.b));
      h = silu(tf.add(tf.matMul(h as tf.Tensor2D, l3.w), l3.b));
      return tf.add(tf.matMul(h as tf.Tensor2D, l4.w), l4.b);
    });
  return { denoiser, variables: [l1, l2, l3, l4].flatMap((l) => [l.w, l.b]) };
}

export interface ToyStats {
  /** Fraction of samples within 3·MODE_STD of a mode centre. */
  onMode: number;
  /** Fraction of samples per mode (nearest centre). */
  modeShares: number[];
  /** Fraction with y > 0. */
  upper: number;
}

export function toyStats(samples: tf.Tensor): ToyStats {
  const d = samples.dataSync();
  const n = d.length / 2;
  const shares = new Array(MODES).fill(0);
  let on = 0;
  let upper = 0;
  for (let i = 0; i < n; i++) {
    const x = d[2 * i];
    const y = d[2 * i + 1];
    let best = 0;
    let bestD = Infinity;
    for (let k = 0; k < MODES; k++) {
      const [cx, cy] = modeCentre(k);
      const dist = Math.hypot(x - cx, y - cy);
      if (dist < bestD) {
        bestD = dist;
        best = k;
      }
    }
    shares[best]++;
    if (bestD < 3 * MODE_STD) on++;
    if (y > 0) upper++;
  }
  return { onMode: on / n, modeShares: shares.map((s) => s / n), upper: upper / n };
}

export interface ToyResult {
  trainSeconds: number;
  finalLoss: number;
  results: { name: string; steps: number; guidance: number; seconds: number; stats: ToyStats }[];
}

export interface ToyOptions {
  trainSteps?: number;
  batch?: number;
  hidden?: number;
  samples?: number;
  prediction?: Prediction;
  log?: (s: string) => void;
}

export async function runToy2d(o: ToyOptions = {}): Promise<ToyResult> {
  const log = o.log ?? (() => {});
  const prediction = o.prediction ?? "v";
  const trainSteps = o.trainSteps ?? 3000;
  const batch = o.batch ?? 256;
  const nSamples = o.samples ?? 2000;
  const schedule = makeSchedule("cosine", 1000);
  const { denoiser, variables } = makeMlp(o.hidden ?? 64);
  // Adam 3e-3, then 6e-4 for the last third (a fresh optimizer: a simple step decay).
  let optimizer = tf.train.adam(3e-3);
  const rng = new SeededRandom(2024);
  let finalLoss = NaN;
  const t0 = performance.now();
  for (let step = 0; step < trainSteps; step++) {
    if (step === Math.floor((2 * trainSteps) / 3)) {
      optimizer.dispose();
      optimizer = tf.train.adam(6e-4);
    }
    const { x, cond } = ringData(batch, rng);
    const keep = conditionDropoutMask(batch, 0.2, rng);
    const dropped = applyConditionDropout(cond, keep);
    const t = sampleTimesteps(batch, schedule.numTimesteps, rng);
    const noise = rng.normal([batch, 2]);
    const loss = optimizer.minimize(
      () => diffusionLoss(denoiser, { schedule, prediction, x0: x, t, noise, cond: dropped }),
      true, variables,
    )!;
    if (step % 500 === 0 || step === trainSteps - 1) {
      finalLoss = loss.dataSync()[0];
      log(`step ${step} loss ${finalLoss.toFixed(4)}`);
    }
    tf.dispose([x, cond, keep, dropped, noise, loss]);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  optimizer.dispose();

  const upperCond = tf.tile(tf.tensor2d([[1, 0]]), [nSamples, 1]);
  const nullCond = tf.zeros([nSamples, 2]);
  const runs: [string, Sampler, number, number, tf.Tensor][] = [
    ["DDPM", new DDPMSampler({ schedule, prediction }), 100, 1, nullCond],
    ["DDIM", new DDIMSampler({ schedule, prediction }), 50, 1, nullCond],
    ["DPM-Solver++(2M)", new DPMSolverPP2MSampler({ schedule, prediction, spacing: "trailing" }), 20, 1, nullCond],
    ["DPM-Solver++(2M), guided to y > 0", new DPMSolverPP2MSampler({ schedule, prediction, spacing: "trailing" }), 20, 3, upperCond],
  ];
  const results: ToyResult["results"] = [];
  for (const [name, sampler, steps, guidance, cond] of runs) {
    const s0 = performance.now();
    const x = await sampler.sample(denoiser, [nSamples, 2], { steps, seed: 7, guidance, cond });
    const stats = toyStats(x);
    x.dispose();
    const seconds = (performance.now() - s0) / 1000;
    log(`${name} (${steps} steps, guidance ${guidance}): on-mode ${(100 * stats.onMode).toFixed(1)}%, ` +
      `y>0 ${(100 * stats.upper).toFixed(1)}%, mode shares ${stats.modeShares.map((s) => (100 * s).toFixed(0)).join("/")}%`);
    results.push({ name, steps, guidance, seconds, stats });
  }
  tf.dispose([upperCond, nullCond, ...variables]);
  return { trainSeconds, finalLoss, results };
}

// Run directly (the built example): print the statistics.
if (typeof require !== "undefined" && typeof module !== "undefined" && require.main === module) {
  (async () => {
    await import("@tensorflow/tfjs-backend-wasm");
    await tf.setBackend("wasm");
    const r = await runToy2d({ log: console.log });
    console.log(`trained in ${r.trainSeconds.toFixed(1)} s on ${tf.getBackend()}`);
  })();
}
