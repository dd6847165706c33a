/**
 * AdamW as torch.optim.AdamW (the official training's optimizer, configs/diffusion_model.yaml: lr 1e-4, betas
 * 0.9/0.999, weight decay 1e-4): decoupled weight decay, then the bias-corrected Adam update.
 *
 * Why not tfjs's Adam: it has no decoupled decay, and it composes ~15 kernels per variable; on WebGPU, where every
 * dispatch costs ~0.1 ms of CPU, that was ~2100 dispatches per step of the 146-variable denoiser. Here a step is one
 * kernel per variable plus one per 7 variables on WebGPU and wasm (core's AdamW kernels), and 13 tfjs ops per
 * variable elsewhere.
 */
import * as tf from "@tensorflow/tfjs";
import { ADAMW_GROUP, adamWGroupMoments, adamWParam, groupedAdamW } from "../ops/adamw";
import type { AdamWStep } from "../ops/adamw";

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
 * Optimises float32 tf.Variables with AdamW. Per variable it holds the moments m and v (zero at first) and its
 * step count.
 *
 * ```ts
 * const opt = new AdamW(variables, { lr: 1e-4, weightDecay: 1e-4 });
 * const loss = opt.minimize(() => lossOf(batch)); // gradients, then one step; returns the loss
 * ```
 */
export class AdamW {
  /** The learning rate of the next step (a schedule may change it between steps). */
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  private readonly variables: tf.Variable[];
  private readonly names: Set<string>;
  /** Steps taken per variable. */
  private readonly counts = new Map<string, number>();
  /** Moments m and v per variable (the composed ops' layout)... */
  private readonly moments = new Map<string, [tf.Tensor, tf.Tensor]>();
  /** ...or, with core's kernels (WebGPU, wasm), per group of variables in one tensor (see adamWGroupMoments); null while not in use. */
  private groups: { members: tf.Variable[]; sizes: number[]; offsets: number[]; moments: tf.Tensor }[] | null = null;
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
    this.names = names;
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
    for (const name of Object.keys(grads)) {
      if (!this.names.has(name)) throw new AdamWError(`gradient for ${name}, which is not one of this optimiser's variables`);
    }
    for (const v of this.variables) {
      const g = grads[v.name];
      if (g && !tf.util.arraysEqual(g.shape, v.shape)) throw new AdamWError(`gradient of ${v.name} is [${g.shape}], the variable [${v.shape}]`);
    }
    this.steps++;
    const fused = groupedAdamW();
    if (fused && !this.groups) this.toGroups();
    if (!fused && this.groups) this.toSeparate();
    const [b1, b2] = this.betas;
    const stepOf = (v: tf.Variable): AdamWStep => {
      // as torch, each variable counts its own steps (a variable without a gradient is not stepped)
      const t = (this.counts.get(v.name) ?? 0) + 1;
      this.counts.set(v.name, t);
      const decay = 1 - this.lr * this.weightDecay;
      return { beta1: b1, beta2: b2, decay, stepSize: this.lr / (1 - b1 ** t), correction2Sqrt: Math.sqrt(1 - b2 ** t), eps: this.eps };
    };
    const update = (v: tf.Variable, next: tf.Tensor) => {
      v.assign(next);
      next.dispose(); // the variable keeps the data
    };
    if (this.groups) {
      // core's kernels: one in-place kernel for the moments of each group, one per variable for its value
      for (const group of this.groups) {
        adamWGroupMoments(group.moments, group.sizes, group.members.map((v) => grads[v.name] ?? null), b1, b2);
        group.members.forEach((v, k) => {
          if (grads[v.name]) update(v, adamWParam(v, group.moments, 2 * group.offsets[k]!, stepOf(v)));
        });
      }
      return;
    }
    for (const v of this.variables) {
      const g = grads[v.name];
      if (!g) continue;
      const s = stepOf(v);
      const [m0, v0] = this.moments.get(v.name) ?? [tf.zeros(v.shape), tf.zeros(v.shape)];
      const m = tf.keep(tf.tidy(() => tf.add(tf.mul(m0, b1), tf.mul(g, 1 - b1))));
      const sq = tf.keep(tf.tidy(() => tf.add(tf.mul(v0, b2), tf.mul(tf.square(g), 1 - b2))));
      tf.dispose([m0, v0]);
      this.moments.set(v.name, [m, sq]);
      update(v, tf.tidy(() => tf.sub(tf.mul(v, s.decay), tf.div(tf.mul(m, s.stepSize), tf.add(tf.div(tf.sqrt(sq), s.correction2Sqrt), s.eps)))));
    }
  }

  /** Moves the moments into groups for core's kernels (variables in order, ADAMW_GROUP per group). */
  private toGroups(): void {
    this.groups = [];
    for (let i = 0; i < this.variables.length; i += ADAMW_GROUP) {
      const members = this.variables.slice(i, i + ADAMW_GROUP);
      const sizes = members.map((v) => v.size);
      const offsets = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
      const parts = members.flatMap((v) => this.moments.get(v.name) ?? [tf.zeros([v.size]), tf.zeros([v.size])]);
      // a fresh tensor: the kernels write it in place
      const moments = tf.tidy(() => tf.concat(parts.map((t) => tf.reshape(t, [-1]))));
      tf.dispose(parts);
      this.groups.push({ members, sizes, offsets, moments });
    }
    this.moments.clear();
  }

  /** Moves the moments out of the groups, one m and v per variable (the composed ops' layout). */
  private toSeparate(): void {
    for (const { members, sizes, offsets, moments } of this.groups ?? []) {
      members.forEach((v, k) => {
        const [m, sq] = tf.tidy(() => [0, 1].map((part) => tf.reshape(tf.slice(moments, 2 * offsets[k]! + part * sizes[k]!, sizes[k]!), v.shape)));
        this.moments.set(v.name, [tf.keep(m!), tf.keep(sq!)]);
      });
      moments.dispose();
    }
    this.groups = null;
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

  /**
   * The optimiser's state: step counts and moments m, v per variable name (copies, the caller disposes them), for a
   * training run's checkpoint.
   */
  state(): { steps: number; counts: Record<string, number>; moments: Map<string, [tf.Tensor, tf.Tensor]> } {
    const moments = new Map<string, [tf.Tensor, tf.Tensor]>();
    for (const [name, [m, v]] of this.moments) moments.set(name, [tf.clone(m), tf.clone(v)]);
    for (const { members, sizes, offsets, moments: packed } of this.groups ?? []) {
      members.forEach((v, k) => {
        const [m, sq] = tf.tidy(() => [0, 1].map((part) => tf.reshape(tf.slice(packed, 2 * offsets[k]! + part * sizes[k]!, sizes[k]!), v.shape)));
        moments.set(v.name, [m!, sq!]);
      });
    }
    return { steps: this.steps, counts: Object.fromEntries(this.counts), moments };
  }

  /** Restores a state made by {@link state} (the moments are copied; names must be this optimiser's variables). */
  load(state: { steps: number; counts: Record<string, number>; moments: Map<string, [tf.Tensor, tf.Tensor]> }): void {
    for (const name of [...state.moments.keys(), ...Object.keys(state.counts)]) {
      if (!this.names.has(name)) throw new AdamWError(`saved state for ${name}, which is not one of this optimiser's variables`);
    }
    this.toSeparate();
    for (const pair of this.moments.values()) tf.dispose(pair);
    this.moments.clear();
    for (const [name, [m, v]] of state.moments) this.moments.set(name, [tf.keep(tf.clone(m)), tf.keep(tf.clone(v))]);
    this.counts.clear();
    for (const [name, n] of Object.entries(state.counts)) this.counts.set(name, n);
    this.steps = state.steps;
  }

  /** Frees the moments. */
  dispose(): void {
    for (const pair of this.moments.values()) tf.dispose(pair);
    this.moments.clear();
    for (const g of this.groups ?? []) g.moments.dispose();
    this.groups = null;
    this.disposed = true;
  }
}
