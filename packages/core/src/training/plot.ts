/**
 * The loss plot of a training run as an SVG: one panel per stage, one line per loss term, log-scaled values over
 * steps, validation points. Written by hand (about 80 lines of string building) because a charting library would be a
 * large dependency for one static line plot; the output is plain SVG that any browser or image viewer shows.
 */
import type { StepRecord } from "./trainer";

export interface ValidationPoint {
  stage: string;
  step: number;
  losses: Record<string, number>;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);

/** Every `stride`-th record (the plot stays small for long runs; the last record is always kept). */
function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const stride = Math.ceil(xs.length / max);
  return xs.filter((_, i) => i % stride === 0 || i === xs.length - 1);
}

/** The SVG text of the loss curves of `records` (and validation points), grouped by stage. */
export function lossPlotSvg(records: StepRecord[], validation: ValidationPoint[] = [], title = "training loss"): string {
  const stages = [...new Set(records.map((r) => r.stage))];
  const W = 720;
  const H = 220;
  const pad = { l: 60, r: 150, t: 28, b: 30 };
  const panels = stages.map((stage, p) => {
    const rs = thin(records.filter((r) => r.stage === stage), 600);
    const vs = validation.filter((v) => v.stage === stage);
    const terms = [...new Set(rs.flatMap((r) => Object.keys(r.losses)))];
    const values = [...rs.flatMap((r) => Object.values(r.losses)), ...vs.flatMap((v) => Object.values(v.losses))].filter((v) => v > 0 && Number.isFinite(v));
    const lo = Math.log10(Math.min(...values, 1));
    const hi = Math.log10(Math.max(...values, 1e-3));
    const [y0, y1] = hi - lo < 1e-9 ? [lo - 0.5, hi + 0.5] : [lo, hi];
    const steps = rs.map((r) => r.step);
    const [s0, s1] = [Math.min(...steps, 0), Math.max(...steps, 1)];
    const x = (s: number) => pad.l + ((s - s0) / Math.max(1, s1 - s0)) * (W - pad.l - pad.r);
    const y = (v: number) => p * H + pad.t + (1 - (Math.log10(Math.max(v, 10 ** y0)) - y0) / (y1 - y0)) * (H - pad.t - pad.b);
    const lines = terms.map((term, i) => {
      const pts = rs.filter((r) => r.losses[term]! > 0).map((r) => `${x(r.step).toFixed(1)},${y(r.losses[term]!).toFixed(1)}`);
      const colour = COLOURS[i % COLOURS.length];
      const dots = vs
        .filter((v) => v.losses[term]! > 0)
        .map((v) => `<circle cx="${x(v.step).toFixed(1)}" cy="${y(v.losses[term]!).toFixed(1)}" r="3" fill="none" stroke="${colour}"/>`)
        .join("");
      const legend = `<text x="${W - pad.r + 10}" y="${p * H + pad.t + 14 * i + 10}" fill="${colour}" font-size="11">${esc(term)}${vs.length ? " (o: validation)" : ""}</text>`;
      return `<polyline fill="none" stroke="${colour}" stroke-width="1.2" points="${pts.join(" ")}"/>${dots}${legend}`;
    });
    const ticks = [y0, (y0 + y1) / 2, y1].map(
      (v) => `<text x="${pad.l - 6}" y="${y(10 ** v).toFixed(1)}" font-size="10" text-anchor="end">${(10 ** v).toPrecision(2)}</text>`,
    );
    const axes = `<rect x="${pad.l}" y="${p * H + pad.t}" width="${W - pad.l - pad.r}" height="${H - pad.t - pad.b}" fill="none" stroke="#999"/>`;
    const label = `<text x="${pad.l}" y="${p * H + pad.t - 8}" font-size="12" font-weight="bold">${esc(stage)} (steps ${s0}-${s1}, log scale)</text>`;
    const last = `<text x="${W - pad.l - pad.r + pad.l}" y="${p * H + H - 8}" font-size="10" text-anchor="end">step ${s1}</text>`;
    return axes + label + ticks.join("") + lines.join("") + last;
  });
  const height = Math.max(1, stages.length) * H + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">
<title>${esc(title)}</title><rect width="100%" height="100%" fill="white"/>${panels.join("\n")}</svg>
`;
}
