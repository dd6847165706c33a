import { describe, expect, it } from "vitest";
import { compareRuns, type ClipMetricsRecord } from "./compare";

// Reference values: scipy.stats.ttest_rel / ttest_ind(equal_var=False) (scipy 1.x) on the same numbers.
const A = [0.12, 0.15, 0.11, 0.19, 0.14, 0.16, 0.13, 0.18];
const B = [0.1, 0.14, 0.12, 0.15, 0.11, 0.13, 0.12, 0.14];
const DIST_A = [30.1, 28.2, 31.5, 29.9, 30.7, 28.8, 31.1, 29.4];
const DIST_B = [30.0, 28.5, 31.2, 30.1, 30.4, 29.0, 31.3, 29.1];

const records = (corr: number[], dist?: number[], first = 0): ClipMetricsRecord[] =>
  corr.map((v, i) => ({ item: first + i, clip: `site/s/p/${first + i}`, FRCorr: v, ...(dist ? { FRdist: dist[i] } : {}) }));

describe("compareRuns", () => {
  it("pairs runs over the same clips and matches scipy's ttest_rel", () => {
    const r = compareRuns(records(A, DIST_A), records(B, DIST_B));
    expect(r.FRCorr!.test).toBe("paired");
    expect(r.FRCorr!.t).toBeCloseTo(3.480484514416035, 10);
    expect(r.FRCorr!.p).toBeCloseTo(0.0102595495645017, 10);
    expect(r.FRCorr!.df).toBe(7);
    expect(r.FRCorr!.mark).toBe("+(*)"); // higher FRCorr is better, p in [0.01, 0.05)
    expect(r.FRdist!.p).toBeCloseTo(0.8973251914439827, 10);
    expect(r.FRdist!.mark).toBe("N.A.");
    expect(r.FRDiv).toBeUndefined(); // not in the records
  });

  it("pairs by item, not by line order", () => {
    const b = records(B, DIST_B).reverse();
    expect(compareRuns(records(A, DIST_A), b).FRCorr!.t).toBeCloseTo(3.480484514416035, 10);
  });

  it("uses Welch's test when the clips differ and matches scipy's ttest_ind(equal_var=False)", () => {
    const r = compareRuns(records(A), records(B.slice(0, 6), undefined, 100));
    expect(r.FRCorr!.test).toBe("welch");
    expect(r.FRCorr!.t).toBeCloseTo(1.7931817936783738, 10);
    expect(r.FRCorr!.p).toBeCloseTo(0.09838594451835109, 10);
    expect(r.FRCorr!.df).toBeCloseTo(11.895732956664002, 8);
  });

  it("marks the worse side with - and counts stars by p", () => {
    const r = compareRuns(records(B, DIST_B), records(A.map((v) => v + 0.05), DIST_B.map((v) => v - 1)));
    expect(r.FRCorr!.mark).toBe("-(***)");
    // lower FRdist is better: B's distances 1 higher than the other run's are significantly worse
    expect(r.FRdist!.mark).toBe("-(***)");
    expect(r.FRdist!.t).toBeGreaterThan(100); // every difference is 1 up to rounding
  });

  it("gives no difference for identical runs and refuses bad input", () => {
    const same = compareRuns(records(A), records(A));
    expect(same.FRCorr).toMatchObject({ t: 0, p: 1, mark: "N.A." });
    expect(() => compareRuns(records(A), records(B.slice(0, 6)), { paired: true })).toThrow(/same clips/);
    expect(() => compareRuns(records([0.1]), records(B))).toThrow(/at least 2/);
    const bad = records(A);
    bad[3]!.FRCorr = Number.NaN;
    expect(() => compareRuns(bad, records(B))).toThrow(/line 4 .*FRCorr is null/);
    expect(() => compareRuns([...records(A), records(A)[0]!], records(B))).toThrow(/item 0 .* twice/);
  });
});
