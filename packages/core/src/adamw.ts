/**
 * AdamW as torch.optim.AdamW (the official training's optimizer, configs/diffusion_model.yaml: lr 1e-4, betas
 * 0.9/0.999, weight decay 1e-4): decoupled weight decay, then the bias-corrected Adam update.
 *
 * Why not tfjs's Adam: it has no decoupled decay, and it composes ~15 kernels per variable; on WebGPU, where every
 * dispatch costs ~0.1 ms of CPU, that was ~2100 dispatches per step of the 146-variable denoiser. Here a step is two
 * dispatches per variable on WebGPU (fused kernels) and a few tfjs ops elsewhere.
 */
import * as tf from "@tensorflow/tfjs";
import { adamWMoments, adamWParam } from "./modules/fused";

export interface AdamWOptions {
  /** learning rate (torch default 1e-3) */
  lr?: number;
  /** coefficients of the running averages of the gradient and its square (default [0.9, 0.999]) */
  betas?: [number, number];
  /** added to the denominator (default 1e-8) */
  eps?: number;
  /** decoupled weight decay (torch default 1e-2) */
  weightDecay?: number;
}

/** Thrown on invalid hyper-parameters, variables or gradients. */
export class AdamWError extends Error {
  override name = "AdamWError";
}

function checkNumber(name: string, v: number, ok: (v: number) => boolean, what: string): void {
  if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) throw new AdamWError(`${name} must be ${what}, got ${v}`);
}

/**
 * Optimises float32 tf.Variables with AdamW. Per variable it holds the moments [2, size] (m, v), zero at first, and
 * its step count.
 *
 * ```ts
 * const opt = new AdamW(variables, { lr: 1e-4, weightDecay: 1e-4 });
 * const loss = opt.minimize(() => lossOf(batch)); // gradients, then one step; returns the loss
 * ```
 */
export class AdamW {
  readonly lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly variables: tf.Variable[];
  private readonly state = new Map<string, { t: number; moments: tf.Tensor2D }>();
  private steps = 0;
  private disposed = false;

  constructor(variables: tf.Variable[], options: AdamWOptions = {}) {
    this.lr = options.lr ?? 1e-3;
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 1e-2;
    checkNumber("lr", this.lr, (v) => v >= 0, "a number >= 0");
    this.betas.forEach((b, i) => checkNumber(`betas[${i}]`, b, (v) => v >= 0 && v < 1, "in [0, 1)"));
    checkNumber("eps", this.eps, (v) => v >= 0, "a number >= 0");
    checkNumber("weightDecay", this.weightDecay, (v) => v >= 0, "a number >= 0");
    if (!variables.length) throw new AdamWError("no variables to optimise");
    const names = new Set<string>();
    for (const v of variables) {
      if (!(v instanceof tf.Variable)) throw new AdamWError("AdamW optimises tf.Variables (tf.variable(tensor))");
      if (v.dtype !== "float32") throw new AdamWError(`variable ${v.name} is ${v.dtype}; AdamW needs float32`);
      if (names.has(v.name)) throw new AdamWError(`variable ${v.name} is given twice`);
      names.add(v.name);
    }
    this.variables = [...variables];
  }

  /** Number of calls of {@link step}. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * One step with the given gradients, keyed by variable name (as tf.variableGrads returns them; variables without
   * a gradient are left as they are, and so are their moments). Gradients are not disposed.
   * Gradients are not checked for NaN: that would read them back from the GPU at every step.
   */
  step(grads: tf.NamedTensorMap): void {
    if (this.disposed) throw new AdamWError("this AdamW was disposed");
    const known = new Set(this.variables.map((v) => v.name));
    for (const name of Object.keys(grads)) {
      if (!known.has(name)) throw new AdamWError(`gradient for ${name}, which is not one of this optimiser's variables`);
    }
    for (const v of this.variables) {
      const g = grads[v.name];
      if (g && !tf.util.arraysEqual(g.shape, v.shape)) throw new AdamWError(`gradient of ${v.name} is [${g.shape}], the variable [${v.shape}]`);
    }
    this.steps++;
    const [b1, b2] = this.betas;
    for (const v of this.variables) {
      const g = grads[v.name];
      if (!g) continue;
      // as torch, each variable counts its own steps (a variable without a gradient is not stepped)
      const state = this.state.get(v.name) ?? { t: 0, moments: tf.zeros([2, v.size]) as tf.Tensor2D };
      const t = state.t + 1;
      const s = {
        beta1: b1,
        beta2: b2,
        decay: 1 - this.lr * this.weightDecay,
        stepSize: this.lr / (1 - b1 ** t),
        correction2Sqrt: Math.sqrt(1 - b2 ** t),
        eps: this.eps,
      };
      const moments = tf.keep(adamWMoments(state.moments, g, s));
      state.moments.dispose();
      this.state.set(v.name, { t, moments });
      const next = adamWParam(v, moments, s);
      v.assign(next);
      next.dispose(); // the variable keeps the data
    }
  }

  /**
   * Computes the gradients of `loss` (a function returning a scalar) for every variable, steps, and returns the
   * loss (the caller disposes it).
   */
  minimize(loss: () => tf.Scalar): tf.Scalar {
    const { value, grads } = tf.variableGrads(loss, this.variables);
    try {
      this.step(grads);
    } finally {
      tf.dispose(grads);
    }
    return value;
  }

  /** Frees the moments. */
  dispose(): void {
    for (const { moments } of this.state.values()) moments.dispose();
    this.state.clear();
    this.disposed = true;
  }
}
