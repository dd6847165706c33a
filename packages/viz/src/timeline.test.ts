import { describe, expect, it } from "vitest";
import { EMOTION_DIM, columnIndex, EMOTION_COLUMNS } from "@perfrdiff/layout";
import { reactionTimelineSvg } from "./timeline";

const T = 50;
const AU12 = columnIndex(EMOTION_COLUMNS, "AU12");
const HAPPY = columnIndex(EMOTION_COLUMNS, "Happy");

/** A speaker smiling in frames 10-19 with valence rising from -1 to 1, and two reactions. */
function clip() {
  const speaker = new Float32Array(T * EMOTION_DIM);
  for (let f = 0; f < T; f++) {
    speaker[f * EMOTION_DIM + 15] = -1 + (2 * f) / (T - 1);
    speaker[f * EMOTION_DIM + 17] = 1; // Neutral
    if (f >= 10 && f < 20) speaker[f * EMOTION_DIM + AU12] = 1;
  }
  const reactions = new Float32Array(2 * T * EMOTION_DIM);
  for (let r = 0; r < 2; r++) {
    for (let f = 0; f < T; f++) {
      const o = (r * T + f) * EMOTION_DIM;
      reactions[o + 15] = 0.5;
      reactions[o + 17] = 0.2;
      reactions[o + HAPPY] = r === 0 ? 0.9 : 0;
      if (r === 0 && f >= 20 && f < 30) reactions[o + AU12] = 1;
    }
  }
  return { speaker, reactions, k: 2 };
}

describe("reaction timeline", () => {
  it("draws the speaker's AUs, the share of reactions with each, one valence and arousal line per reaction, and expression bands", () => {
    const svg = reactionTimelineSvg({ ...clip(), title: "test <1>" });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("test &lt;1&gt;");
    // one column per frame at this length; equal neighbours drawn as one rectangle
    const colW = (1000 - 110 - 20) / T;
    const rects = (fill: string) => [...svg.matchAll(new RegExp(`<rect x="([\\d.]+)" y="[\\d.]+" width="([\\d.]+)" height="7" fill="${fill}"`, "g"))].map((m) => [Number(m[1]), Number(m[2])]);
    // the speaker's AU12: frames 10-19, one run
    expect(rects("#222")).toEqual([[expect.closeTo(110 + 10 * colW, 1), expect.closeTo(10 * colW + 0.3, 1)]]);
    // AU12 of reaction 0 only: half of the K reactions, frames 20-29
    expect(rects("#1f5fbf\" fill-opacity=\"0.5")).toEqual([[expect.closeTo(110 + 20 * colW, 1), expect.closeTo(10 * colW + 0.3, 1)]]);
    // per VA panel: the speaker's line and K reaction lines
    expect((svg.match(/class="speaker" data-series="valence"/g) ?? []).length).toBe(1);
    expect((svg.match(/class="reaction" data-series="arousal"/g) ?? []).length).toBe(2);
    // the speaker's valence: -1 at the first frame (bottom of the panel), 1 at the last (top)
    const pts = svg.match(/class="speaker" data-series="valence" points="([^"]+)"/)![1]!.split(" ").map((p) => p.split(",").map(Number));
    expect(pts.length).toBe(T);
    expect(pts[0]![1]! - pts[T - 1]![1]!).toBeCloseTo(90, 0);
    // expression bands: the speaker neutral, reaction 1 happy, reaction 2 neutral: one run each (+ the legend's swatch)
    expect((svg.match(/fill="#fdd835"/g) ?? []).length).toBe(2);
    expect((svg.match(/fill="#d9d9d9"/g) ?? []).length).toBe(3);
    expect(svg).toContain(">1 s<");
  });

  it("refuses arrays of the wrong size or with non-finite values, naming the problem", () => {
    const { speaker, reactions } = clip();
    expect(() => reactionTimelineSvg({ speaker, reactions, k: 3 })).toThrow("reactions hold 2500 values; [3, 50, 25] (K reactions of the speaker's 50 frames) needs 3750");
    expect(() => reactionTimelineSvg({ speaker: speaker.subarray(1), reactions, k: 2 })).toThrow(/must be \[T, 25\]/);
    const bad = reactions.slice();
    bad[(1 * T + 7) * EMOTION_DIM + 16] = Number.NaN;
    expect(() => reactionTimelineSvg({ speaker, reactions: bad, k: 2 })).toThrow("reactions: reaction 2, frame 7, column 16 is NaN");
  });
});
