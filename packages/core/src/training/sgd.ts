/**
 * SGD with momentum and weight decay as torch.optim.SGD (dampening 0, not Nesterov): g' = g + wd p, b = mu b + g'
 * (b = g' at a variable's first step), p = p - lr b. The official PWSG training's optimiser (lr 1e-3, momentum 0.9,
 * weight decay 1e-4).
 */
import * as tf from "@tensorflow/tfjs";

export interface SGDOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
}

export class SGD {
  /** The learning rate of the next step (a schedule may change it between steps). */
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private readonly variables: tf.Variable[];
  private readonly buffers = new Map<string, tf.Tensor>();

  constructor(variables: tf.Variable[], options: SGDOptions) {
    this.lr = options.lr;
    this.momentum = options.momentum ?? 0;
    this.weightDecay = options.weightDecay ?? 0;
    for (const [name, v] of [["lr", this.lr], ["momentum", this.momentum], ["weightDecay", this.weightDecay]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new Error(`SGD ${name} must be a number >= 0, got ${v}`);
    }
    if (!variables.length) throw new Error("no variables to optimise");
    this.variables = [...variables];
  }

  /** One step with gradients keyed by variable name (variables without one are left as they are). */
  step(grads: tf.NamedTensorMap): void {
    for (const v of this.variables) {
      const g = grads[v.name];
      if (!g) continue;
      const next = tf.tidy(() => {
        let d: tf.Tensor = this.weightDecay ? tf.add(g, tf.mul(v, this.weightDecay)) : g;
        if (this.momentum) {
          const old = this.buffers.get(v.name);
          const b = old ? tf.add(tf.mul(old, this.momentum), d) : tf.clone(d);
          old?.dispose();
          this.buffers.set(v.name, tf.keep(b));
          d = b;
        }
        return tf.sub(v, tf.mul(d, this.lr));
      });
      v.assign(next);
      next.dispose();
    }
  }

  /** The momentum buffers, by variable name (to save a run's state). */
  state(): Map<string, tf.Tensor> {
    return new Map(this.buffers);
  }

  /** Restores momentum buffers saved by {@link state} (copies them). */
  load(buffers: Map<string, tf.Tensor>): void {
    for (const [name, t] of buffers) {
      this.buffers.get(name)?.dispose();
      this.buffers.set(name, tf.keep(tf.clone(t)));
    }
  }

  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}
