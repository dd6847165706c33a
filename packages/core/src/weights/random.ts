import * as tf from "@tensorflow/tfjs";
import { PWSG, TensorMap } from "@perfrdiff/hypernet";
import type { PerFRDiffConfig } from "../config";
import { moduleParameterShapes, pwsgConfig } from "./modules";
import type { ModuleName } from "./modules";

/** How one parameter is initialised. */
type Init = { kind: "uniform"; bound: number } | { kind: "uniform01" } | { kind: "normal"; std: number } | { kind: "ones" } | { kind: "zeros" } | { kind: "rotary" };

/** torch.nn.Linear's default (kaiming_uniform with a = sqrt 5, and its bias): U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
const linearInit = (fanIn: number): Init => ({ kind: "uniform", bound: 1 / Math.sqrt(fanIn) });
/** xavier_uniform for a [fan_out, fan_in] matrix. */
const xavier = (shape: number[]): Init => ({ kind: "uniform", bound: Math.sqrt(6 / (shape[0]! + shape[1]!)) });

/**
 * The initialisation the official modules get from torch, by parameter name: the denoiser's transformer decoder
 * re-initialises every matrix with xavier_uniform (DETR's `_reset_parameters`) and its attention biases are zero;
 * learned positions are U(0, 1); LayerNorm gains 1 and biases 0; the prior's null tokens, learned query, null key/value
 * and relative-position table N(0, 1); GRU weights and biases U(+-1/sqrt(hidden)); every other Linear torch's default
 * (weight and bias U(+-1/sqrt(fan_in))). `fanIn` of a bias is its layer's.
 */
function initOf(module: ModuleName, name: string, shape: number[], fanInOf: (name: string) => number, hidden: number): Init {
  const leaf = name.split(".").pop()!;
  if (name.endsWith("rotary_emb.freqs")) return { kind: "rotary" };
  if (/(^|\.)norm\d*\.(weight|g)$|\.g$/.test(name)) return { kind: "ones" };
  if (/(^|\.)norm\d*\.bias$/.test(name)) return { kind: "zeros" };
  if (leaf === "pe") return { kind: "uniform01" };
  if (module === "prior" && (/null_|learned_query$/.test(name) || name.endsWith("relative_attention_bias.weight"))) return { kind: "normal", std: 1 };
  if (module === "pssl" && name === "cls_token") return { kind: "zeros" };
  if (module === "pssl" && name === "pos_embed") return { kind: "zeros" };
  if (/weight_(ih|hh)$|bias_(ih|hh)$/.test(name)) return { kind: "uniform", bound: 1 / Math.sqrt(hidden) };
  if (leaf === "in_proj_bias" || name.endsWith("out_proj.bias")) return { kind: "zeros" };
  const inDecoder = module === "denoiser" && name.startsWith("decoder.");
  if (leaf === "in_proj_weight") return xavier(shape);
  if (inDecoder && shape.length === 2) return xavier(shape);
  if (leaf === "weight" && shape.length === 2) return linearInit(shape[1]!);
  if (leaf === "bias") return linearInit(fanInOf(name));
  return { kind: "normal", std: 0.02 };
}

/**
 * Weights for a module initialised as the official PyTorch modules are (see initOf): for training from scratch,
 * benchmarks and tests. Deterministic for a seed. Rotary frequencies get their fixed values. The hypernetwork uses
 * PWSG's own initialisation (its low-rank A heads start at zero: no edit at first).
 */
export function randomWeights(cfg: PerFRDiffConfig, module: ModuleName, seed = 0): TensorMap {
  if (module === "hypernet") return PWSG.init(pwsgConfig(cfg), seed).params;
  const shapes = moduleParameterShapes(cfg, module);
  const fanInOf = (biasName: string) => {
    const weight = shapes.get(biasName.replace(/bias$/, "weight"));
    return weight && weight.length === 2 ? weight[1]! : 1;
  };
  const hidden = cfg.latent_embedder.args.hidden_dim;
  const out = new TensorMap();
  let s = seed;
  for (const [name, shape] of shapes) {
    const init = initOf(module, name, shape, fanInOf, hidden);
    let t: tf.Tensor;
    switch (init.kind) {
      case "rotary": {
        const dim = shape[0]! * 2;
        t = tf.tensor1d(Array.from({ length: shape[0]! }, (_, i) => 1 / 10000 ** ((2 * i) / dim)));
        break;
      }
      case "ones":
        t = tf.ones(shape);
        break;
      case "zeros":
        t = tf.zeros(shape);
        break;
      case "uniform01":
        t = tf.randomUniform(shape, 0, 1, "float32", s++);
        break;
      case "uniform":
        t = tf.randomUniform(shape, -init.bound, init.bound, "float32", s++);
        break;
      case "normal":
        t = tf.randomNormal(shape, 0, init.std, "float32", s++);
        break;
    }
    out.set(name, t);
  }
  return out;
}
