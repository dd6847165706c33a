import { describe, expect, it } from "vitest";
import { fixture, maxRelDiff } from "../test/helpers";
import {
  cosineSchedule, inferenceTimesteps, linearBetas, makeSchedule, respace, roundHalfEven, scaledLinearSchedule,
  scheduleFromBetas, spaceTimesteps,
} from "./index";

// Reference values: test/make_fixtures.py, NumPy re-statement of the official get_named_beta_schedule /
// GaussianDiffusion.__init__ (float64), improved-DDPM space_timesteps/SpacedDiffusion, the official `indices`
// (leading, linspace) and diffusers' trailing spacing.
const fx = fixture("schedules.json");

describe("noise schedules (float64) match the official formulas", () => {
  it("cosine 1000: betas and every derived array", () => {
    const s = cosineSchedule(1000);
    const r = fx.schedules.cosine1000;
    expect(maxRelDiff(s.betas, r.betas)).toBeLessThan(1e-12);
    expect(maxRelDiff(s.alphasCumprod, r.alphasCumprod)).toBeLessThan(1e-12);
    expect(maxRelDiff(s.posteriorVariance, r.posteriorVariance)).toBeLessThan(1e-12);
    expect(maxRelDiff(s.posteriorLogVarianceClipped, r.posteriorLogVarianceClipped)).toBeLessThan(1e-12);
    expect(maxRelDiff(s.posteriorMeanCoef1, r.posteriorMeanCoef1)).toBeLessThan(1e-12);
    expect(maxRelDiff(s.posteriorMeanCoef2, r.posteriorMeanCoef2)).toBeLessThan(1e-12);
    expect(maxRelDiff(s.sqrtRecipm1AlphasCumprod, r.sqrtRecipm1AlphasCumprod)).toBeLessThan(1e-12);
    expect(s.betas[999]).toBe(0.999); // the clip binds at the end of the cosine schedule
    expect(s.betas).toBeInstanceOf(Float64Array);
  });
  it("linear (with the 1000/T scaling), scaled-linear and a short cosine", () => {
    expect(maxRelDiff(makeSchedule("linear", 1000).betas, fx.schedules.linear1000.betas)).toBeLessThan(1e-14);
    expect(maxRelDiff(linearBetas(250), fx.schedules.linear250.betas)).toBeLessThan(1e-14);
    expect(maxRelDiff(scaledLinearSchedule(1000).betas, fx.schedules.scaled_linear1000.betas)).toBeLessThan(1e-14);
    expect(maxRelDiff(makeSchedule("cosine", 50).betas, fx.schedules.cosine50.betas)).toBeLessThan(1e-12);
  });
  it("invariants: alphasCumprod is the cumulative product, posterior mean coefficients reproduce x_{t-1} algebra", () => {
    const s = makeSchedule("linear", 100);
    let p = 1;
    for (let t = 0; t < 100; t++) {
      p *= 1 - s.betas[t];
      expect(s.alphasCumprod[t]).toBeCloseTo(p, 14);
      // coef1·√ᾱ_t + coef2·√α_t·... : for x0 = 1, eps = 0, the posterior mean is √ᾱ_{t−1}
      expect(s.posteriorMeanCoef1[t] + s.posteriorMeanCoef2[t] * Math.sqrt(s.alphasCumprod[t])).toBeCloseTo(
        Math.sqrt(s.alphasCumprodPrev[t]), 12);
    }
    expect(s.alphasCumprodNext[99]).toBe(0);
    expect(s.timestepMap[42]).toBe(42);
  });
  it("rejects unknown names and bad betas with clear errors", () => {
    expect(() => makeSchedule("sigmoid", 1000)).toThrow(/unknown noise schedule 'sigmoid'; expected one of linear, cosine, scaled_linear/);
    expect(() => makeSchedule("cosine", 0)).toThrow(/integer >= 1, got 0/);
    expect(() => scheduleFromBetas([0.1, 0, 0.2])).toThrow(/betas\[1\] = 0 is not in \(0, 1\]/);
    expect(() => scheduleFromBetas([0.1, NaN])).toThrow(/betas\[1\] = NaN/);
  });
});

describe("timestep spacing", () => {
  it("leading / trailing / linspace equal the reference for several (T, steps)", () => {
    for (const c of fx.spacing) {
      expect(Array.from(inferenceTimesteps(c.T, c.steps, c.spacing)), `${c.spacing} ${c.T}/${c.steps}`).toEqual(c.timesteps);
    }
  });
  it("the official plan: 50 leading steps of 1000 are 980, 960, …, 20, 0", () => {
    const ts = Array.from(inferenceTimesteps(1000, 50, "leading"));
    expect(ts.length).toBe(50);
    expect(ts[0]).toBe(980);
    expect(ts[49]).toBe(0);
    expect(ts.every((t, i) => t === 980 - 20 * i)).toBe(true);
  });
  it("improved-DDPM space_timesteps (sections and ddimN, banker's rounding)", () => {
    for (const c of fx.spaceTimesteps) {
      expect(Array.from(spaceTimesteps(c.T, c.sections)), `${c.T} ${c.sections}`).toEqual(c.timesteps);
    }
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(roundHalfEven(-2.5)).toBe(-2);
    expect(roundHalfEven(-3.5)).toBe(-4);
    expect(Array.from(spaceTimesteps(10, "ddim4"))).toEqual([0, 3, 6, 9]);
    expect(() => spaceTimesteps(10, "ddim7")).toThrow(/cannot create exactly 7 steps/);
    expect(() => spaceTimesteps(10, [20])).toThrow(/cannot divide section of 10 steps into 20/);
  });
  it("respace reproduces SpacedDiffusion's betas, map and posterior coefficients and keeps the chosen alpha-bars", () => {
    const base = cosineSchedule(1000);
    const r = respace(base, fx.respaced.timesteps);
    expect(Array.from(r.timestepMap)).toEqual(fx.respaced.timestepMap);
    expect(maxRelDiff(r.betas, fx.respaced.betas)).toBeLessThan(1e-12);
    expect(maxRelDiff(r.posteriorMeanCoef1, fx.respaced.posteriorMeanCoef1)).toBeLessThan(1e-12);
    expect(maxRelDiff(r.posteriorMeanCoef2, fx.respaced.posteriorMeanCoef2)).toBeLessThan(1e-12);
    expect(maxRelDiff(r.posteriorVariance, fx.respaced.posteriorVariance)).toBeLessThan(1e-12);
    r.timestepMap.forEach((t, i) => expect(r.alphasCumprod[i]).toBeCloseTo(base.alphasCumprod[t], 13));
    expect(() => respace(base, [5, 5])).toThrow(/timestep 5 appears twice/);
    expect(() => respace(base, [1000])).toThrow(/timestep 1000 is outside \[0, 1000\)/);
  });
  it("bad inference steps and spacing names are refused", () => {
    expect(() => inferenceTimesteps(1000, 1001)).toThrow("inference steps (1001) > train timesteps (1000)");
    expect(() => inferenceTimesteps(1000, 0)).toThrow(/integer >= 1, got 0/);
    expect(() => inferenceTimesteps(1000, 50, "karras" as never)).toThrow(/unknown timestep spacing 'karras'/);
    expect(() => inferenceTimesteps(1000, 50, "leading", 21)).toThrow(/gives timestep 1001, outside/);
  });
});
