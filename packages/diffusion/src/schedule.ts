/**
 * Noise schedules and timestep spacing, all in float64.
 *
 * The formulas follow the official PerFRDiff `model/diffusion/gaussian_diffusion.py` (itself from improved-DDPM /
 * BeLFusion): `get_named_beta_schedule`, `betas_for_alpha_bar` (with its `max(1e-5, ·)` guard and 0.999 clip), and the
 * derived arrays of `GaussianDiffusion.__init__`. Respacing follows improved-DDPM's `space_timesteps` /
 * `SpacedDiffusion`; inference spacings follow diffusers (`leading`, `trailing`, `linspace`).
 */

/** Known schedule names for {@link makeSchedule}. */
export type ScheduleName = "linear" | "cosine" | "scaled_linear";
export const SCHEDULE_NAMES: readonly ScheduleName[] = ["linear", "cosine", "scaled_linear"];

/**
 * A discrete noise schedule of `numTimesteps` (T) steps; every array has length T and index t means "t+1 steps of
 * noise" (t = 0 is the least noisy), exactly as in the official code.
 */
export interface NoiseSchedule {
  readonly name: string;
  readonly numTimesteps: number;
  readonly betas: Float64Array;
  readonly alphas: Float64Array;
  /** ᾱ_t = Π_{s≤t} (1 − β_s). */
  readonly alphasCumprod: Float64Array;
  /** ᾱ_{t−1}, with ᾱ_{−1} = 1. */
  readonly alphasCumprodPrev: Float64Array;
  /** ᾱ_{t+1}, with ᾱ_T = 0. */
  readonly alphasCumprodNext: Float64Array;
  readonly sqrtAlphasCumprod: Float64Array;
  readonly sqrtOneMinusAlphasCumprod: Float64Array;
  readonly logOneMinusAlphasCumprod: Float64Array;
  readonly sqrtRecipAlphasCumprod: Float64Array;
  readonly sqrtRecipm1AlphasCumprod: Float64Array;
  /** Variance of q(x_{t−1} | x_t, x_0): β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t). */
  readonly posteriorVariance: Float64Array;
  /** log of posteriorVariance with entry 0 replaced by entry 1 (it is 0 at t = 0). */
  readonly posteriorLogVarianceClipped: Float64Array;
  readonly posteriorMeanCoef1: Float64Array;
  readonly posteriorMeanCoef2: Float64Array;
  /**
   * For a respaced schedule: index i of this schedule is original timestep `timestepMap[i]` (that is what the model
   * is fed). Identity for a schedule built from betas.
   */
  readonly timestepMap: Int32Array;
}

function checkT(T: number, what: string): void {
  if (!Number.isInteger(T) || T < 1) throw new RangeError(`${what}: number of timesteps must be an integer >= 1, got ${T}`);
}

/** NumPy `linspace(start, stop, n)` (endpoint included; the last value is exactly `stop`). */
export function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = (stop - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step + start;
  out[n - 1] = stop;
  return out;
}

/**
 * Betas that discretise a continuous ᾱ(t), t ∈ [0, 1]: β_i = min(1 − ᾱ((i+1)/T) / max(1e-5, ᾱ(i/T)), maxBeta).
 * The 1e-5 guard is the official code's (improved-DDPM has none); it never binds for the cosine schedule.
 */
export function betasForAlphaBar(T: number, alphaBar: (t: number) => number, maxBeta = 0.999): Float64Array {
  checkT(T, "betasForAlphaBar");
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const t1 = i / T;
    const t2 = (i + 1) / T;
    betas[i] = Math.min(1 - alphaBar(t2) / Math.max(0.00001, alphaBar(t1)), maxBeta);
  }
  return betas;
}

/** Improved-DDPM cosine schedule (s = 0.008, β clipped at 0.999): the official PerFRDiff schedule. */
export function cosineBetas(T: number): Float64Array {
  return betasForAlphaBar(T, (t) => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2);
}

/** Ho et al. linear schedule, scaled by 1000/T so that any T gives the same curve (official `linear`). */
export function linearBetas(T: number, betaStart = 0.0001, betaEnd = 0.02): Float64Array {
  checkT(T, "linearBetas");
  const scale = 1000 / T;
  return linspace(scale * betaStart, scale * betaEnd, T);
}

/** Latent-diffusion "scaled linear": linspace(√β₀, √β₁, T)² (diffusers defaults 0.00085, 0.012; no 1000/T scaling). */
export function scaledLinearBetas(T: number, betaStart = 0.00085, betaEnd = 0.012): Float64Array {
  checkT(T, "scaledLinearBetas");
  const r = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), T);
  for (let i = 0; i < T; i++) r[i] = r[i] * r[i];
  return r;
}

/**
 * Builds every derived array from betas (float64), as `GaussianDiffusion.__init__` does.
 * @param betas length T, each in (0, 1].
 */
export function scheduleFromBetas(betas: ArrayLike<number>, name = "custom", timestepMap?: ArrayLike<number>): NoiseSchedule {
  const T = betas.length;
  if (T < 1) throw new RangeError("scheduleFromBetas: betas is empty");
  const b = Float64Array.from(betas);
  for (let i = 0; i < T; i++) {
    if (!(b[i] > 0 && b[i] <= 1)) throw new RangeError(`scheduleFromBetas: betas[${i}] = ${b[i]} is not in (0, 1]`);
  }
  const map = timestepMap ? Int32Array.from(timestepMap) : Int32Array.from({ length: T }, (_, i) => i);
  if (map.length !== T) throw new RangeError(`scheduleFromBetas: timestepMap has ${map.length} entries, betas has ${T}`);
  const alphas = b.map((x) => 1 - x);
  const ac = new Float64Array(T);
  let p = 1;
  for (let i = 0; i < T; i++) {
    p *= alphas[i];
    ac[i] = p;
  }
  const acPrev = new Float64Array(T);
  const acNext = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    acPrev[i] = i === 0 ? 1 : ac[i - 1];
    acNext[i] = i === T - 1 ? 0 : ac[i + 1];
  }
  const f = (fn: (i: number) => number) => Float64Array.from({ length: T }, (_, i) => fn(i));
  const posteriorVariance = f((i) => (b[i] * (1 - acPrev[i])) / (1 - ac[i]));
  return {
    name,
    numTimesteps: T,
    betas: b,
    alphas,
    alphasCumprod: ac,
    alphasCumprodPrev: acPrev,
    alphasCumprodNext: acNext,
    sqrtAlphasCumprod: f((i) => Math.sqrt(ac[i])),
    sqrtOneMinusAlphasCumprod: f((i) => Math.sqrt(1 - ac[i])),
    logOneMinusAlphasCumprod: f((i) => Math.log(1 - ac[i])),
    sqrtRecipAlphasCumprod: f((i) => Math.sqrt(1 / ac[i])),
    sqrtRecipm1AlphasCumprod: f((i) => Math.sqrt(1 / ac[i] - 1)),
    posteriorVariance,
    // With T = 1 there is no entry 1; fall back to the (zero-variance) entry 0 so the log is -Infinity, not a crash.
    posteriorLogVarianceClipped: f((i) => Math.log(i === 0 ? posteriorVariance[T > 1 ? 1 : 0] : posteriorVariance[i])),
    posteriorMeanCoef1: f((i) => (b[i] * Math.sqrt(acPrev[i])) / (1 - ac[i])),
    posteriorMeanCoef2: f((i) => ((1 - acPrev[i]) * Math.sqrt(alphas[i])) / (1 - ac[i])),
    timestepMap: map,
  };
}

export function cosineSchedule(T: number): NoiseSchedule {
  return scheduleFromBetas(cosineBetas(T), "cosine");
}
export function linearSchedule(T: number, betaStart?: number, betaEnd?: number): NoiseSchedule {
  return scheduleFromBetas(linearBetas(T, betaStart, betaEnd), "linear");
}
export function scaledLinearSchedule(T: number, betaStart?: number, betaEnd?: number): NoiseSchedule {
  return scheduleFromBetas(scaledLinearBetas(T, betaStart, betaEnd), "scaled_linear");
}

/** Schedule by name: `"cosine"` (official PerFRDiff), `"linear"`, `"scaled_linear"`. */
export function makeSchedule(name: string, T: number): NoiseSchedule {
  switch (name) {
    case "cosine":
      return cosineSchedule(T);
    case "linear":
      return linearSchedule(T);
    case "scaled_linear":
      return scaledLinearSchedule(T);
    default:
      throw new RangeError(`unknown noise schedule '${name}'; expected one of ${SCHEDULE_NAMES.join(", ")}`);
  }
}

/** Python/NumPy rounding: halves go to the even neighbour (round(2.5) = 2). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * improved-DDPM `space_timesteps`: which original timesteps to keep.
 * `sections` is a list of counts per equal section (`[10, 15, 20]` or `"10,15,20"`), or `"ddimN"` for the DDIM
 * stride that yields exactly N steps. Returns the kept timesteps sorted ascending.
 */
export function spaceTimesteps(T: number, sections: string | number[]): Int32Array {
  checkT(T, "spaceTimesteps");
  let counts: number[];
  if (typeof sections === "string") {
    if (sections.startsWith("ddim")) {
      const desired = Number(sections.slice(4));
      if (!Number.isInteger(desired) || desired < 1) throw new RangeError(`spaceTimesteps: bad '${sections}'`);
      for (let stride = 1; stride < T; stride++) {
        if (Math.ceil(T / stride) === desired) return Int32Array.from({ length: desired }, (_, k) => k * stride);
      }
      throw new RangeError(`spaceTimesteps: cannot create exactly ${desired} steps with an integer stride from ${T}`);
    }
    counts = sections.split(",").map((s) => Number(s.trim()));
  } else counts = sections;
  if (counts.length === 0 || counts.some((c) => !Number.isInteger(c) || c < 0)) {
    throw new RangeError(`spaceTimesteps: section counts must be non-negative integers, got ${JSON.stringify(sections)}`);
  }
  const sizePer = Math.floor(T / counts.length);
  const extra = T % counts.length;
  let start = 0;
  const all = new Set<number>();
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) throw new RangeError(`spaceTimesteps: cannot divide section of ${size} steps into ${count}`);
    const stride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let cur = 0;
    for (let k = 0; k < count; k++) {
      all.add(start + roundHalfEven(cur));
      cur += stride;
    }
    start += size;
  });
  return Int32Array.from([...all].sort((a, b) => a - b));
}

/**
 * improved-DDPM `SpacedDiffusion`: keep only `timesteps` (any order, unique, in [0, T)) and recompute betas so that
 * the kept ᾱ values are unchanged: β'_i = 1 − ᾱ[τ_i] / ᾱ[τ_{i−1}] (ᾱ[τ_{−1}] = 1). The result's `timestepMap` holds τ,
 * the original timesteps the model must be fed.
 */
export function respace(schedule: NoiseSchedule, timesteps: ArrayLike<number>): NoiseSchedule {
  const T = schedule.numTimesteps;
  const keep = Array.from(timesteps).sort((a, b) => a - b);
  if (keep.length === 0) throw new RangeError("respace: no timesteps to keep");
  keep.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0 || t >= T) throw new RangeError(`respace: timestep ${t} is outside [0, ${T})`);
    if (i > 0 && keep[i - 1] === t) throw new RangeError(`respace: timestep ${t} appears twice`);
  });
  const betas = new Float64Array(keep.length);
  let last = 1;
  keep.forEach((t, i) => {
    const ac = schedule.alphasCumprod[t];
    betas[i] = 1 - ac / last;
    last = ac;
  });
  return scheduleFromBetas(betas, `${schedule.name}[respaced ${keep.length}/${T}]`, keep.map((t) => schedule.timestepMap[t]));
}

/** Inference timestep spacings (diffusers' names). */
export type TimestepSpacing = "leading" | "trailing" | "linspace";
export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ["leading", "trailing", "linspace"];

/**
 * The timesteps visited by a `steps`-step sampler over a T-step training schedule, in visiting order (descending).
 * - `leading` (official PerFRDiff): k·⌊T/steps⌋ for k = steps−1…0, e.g. T = 1000, 50 steps: 980, 960, …, 20, 0.
 * - `trailing` (diffusers): round(T − k·T/steps) − 1, e.g. 999, 979, …, 19. (The official code omits the −1 and
 *   would index ᾱ[T], out of range; we follow diffusers.)
 * - `linspace`: round(linspace(0, T−1, steps)) reversed, e.g. 999, 979, …, 0 (NumPy half-to-even rounding).
 * @param offset added to every `leading` timestep (diffusers' `steps_offset`; official 0).
 */
export function inferenceTimesteps(T: number, steps: number, spacing: TimestepSpacing = "leading", offset = 0): Int32Array {
  checkT(T, "inferenceTimesteps");
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`inference steps must be an integer >= 1, got ${steps}`);
  if (steps > T) throw new RangeError(`inference steps (${steps}) > train timesteps (${T})`);
  let ts: number[];
  switch (spacing) {
    case "leading": {
      const ratio = Math.floor(T / steps);
      ts = Array.from({ length: steps }, (_, k) => (steps - 1 - k) * ratio + offset);
      break;
    }
    case "trailing": {
      const ratio = T / steps;
      ts = [];
      // np.arange(T, 0, -ratio) has ceil(T / ratio) entries T − k·ratio.
      const n = Math.ceil(T / ratio);
      for (let k = 0; k < n; k++) ts.push(roundHalfEven(T - k * ratio) - 1);
      break;
    }
    case "linspace":
      ts = Array.from(linspace(0, T - 1, steps), roundHalfEven).reverse();
      break;
    default:
      throw new RangeError(`unknown timestep spacing '${spacing as string}'; expected one of ${TIMESTEP_SPACINGS.join(", ")}`);
  }
  for (const t of ts) {
    if (t < 0 || t >= T) throw new RangeError(`${spacing} spacing (offset ${offset}) gives timestep ${t}, outside [0, ${T})`);
  }
  return Int32Array.from(ts);
}
