import * as tf from "@tensorflow/tfjs";

/**
 * Where a model reads its parameters from, by name. Models written against this interface (instead of holding
 * tfjs variables) can run with edited weights without ever touching the base tensors: wrap the base source in an
 * {@link EditedWeights} overlay, run, dispose the overlay.
 */
export interface WeightSource {
  /** The tensor named `name`; throws naming the missing parameter. */
  get(name: string): tf.Tensor;
  has(name: string): boolean;
  names(): string[];
}

/** A plain name -> tensor store that owns its tensors. */
export class TensorMap implements WeightSource {
  readonly tensors = new Map<string, tf.Tensor>();

  constructor(entries?: Iterable<[string, tf.Tensor]>) {
    if (entries) for (const [k, v] of entries) this.tensors.set(k, v);
  }

  get(name: string): tf.Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`missing parameter '${name}'`);
    return t;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  /** Replaces (and disposes) a tensor. */
  set(name: string, t: tf.Tensor): void {
    const old = this.tensors.get(name);
    if (old && old !== t) old.dispose();
    this.tensors.set(name, t);
  }

  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

/** How a generated tensor `d` edits a base weight `W` (the paper's variants). */
export type EditMode = "shift" | "offset" | "weight";

/**
 * The edited weight: `shift` W + d (PWSG, the paper's best), `offset` W * (1 + d) (multiplicative), `weight` d
 * (direct generation). Shapes must match exactly. Returns a new tensor; `base` is not modified.
 */
export function editWeight(base: tf.Tensor, delta: tf.Tensor, mode: EditMode): tf.Tensor {
  if (base.shape.length !== delta.shape.length || base.shape.some((s, i) => s !== delta.shape[i])) {
    throw new Error(`edit shape [${delta.shape}] does not match the base weight's [${base.shape}]`);
  }
  return tf.tidy(() => {
    switch (mode) {
      case "shift":
        return tf.add(base, delta);
      case "offset":
        return tf.mul(base, tf.add(1, delta));
      case "weight":
        return tf.clone(delta);
      default:
        throw new Error(`unknown edit mode '${String(mode)}' (shift, offset or weight)`);
    }
  });
}

/**
 * A read-only overlay: the base source with some weights replaced by edited versions. The base tensors are never
 * written; `dispose()` frees only the edited tensors this overlay owns (restoring is simply dropping the overlay).
 */
export class EditedWeights implements WeightSource {
  private readonly edited = new Map<string, tf.Tensor>();

  /** `deltas` maps base weight names to generated tensors; they are combined with `mode` now and kept. */
  constructor(
    readonly base: WeightSource,
    deltas: Map<string, tf.Tensor>,
    readonly mode: EditMode,
  ) {
    for (const [name, d] of deltas) {
      if (!base.has(name)) {
        throw new Error(`cannot edit '${name}': the base model has no such weight`);
      }
      this.edited.set(name, editWeight(base.get(name), d, mode));
    }
  }

  get(name: string): tf.Tensor {
    return this.edited.get(name) ?? this.base.get(name);
  }

  has(name: string): boolean {
    return this.base.has(name);
  }

  names(): string[] {
    return this.base.names();
  }

  /** Names of the weights this overlay replaces. */
  editedNames(): string[] {
    return [...this.edited.keys()];
  }

  dispose(): void {
    for (const t of this.edited.values()) t.dispose();
    this.edited.clear();
  }
}
