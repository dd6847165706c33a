/**
 * One picture of K generated reactions against the speaker they answer, over time: which AUs are active (the
 * speaker's, and the share of the K reactions showing each), valence and arousal (the speaker's line and one line per
 * reaction), and the strongest expression of every frame (a band for the speaker and one per reaction).
 *
 * Plain SVG text built by hand: a charting library would be a large dependency for three static panels, and the
 * output opens in any browser or image viewer (and in the demo page).
 */
import { EMOTION_AU_COLUMNS, EMOTION_DIM, EMOTION_EXPRESSION_COLUMNS, REACT_FPS } from "@perfrdiff/layout";

export interface ReactionTimelineInput {
  /** the speaker's emotion `[T, 25]`, row-major */
  speaker: ArrayLike<number>;
  /** K reactions `[K, T, 25]`, row-major */
  reactions: ArrayLike<number>;
  /** K */
  k: number;
  /** frames per second (default 25, REACT's) */
  fps?: number;
  /** a line above the panels */
  title?: string;
}

/** Colours of the K reactions' lines and of the 8 expressions. */
const REACTION_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const EXPRESSION_COLOURS: Readonly<Record<(typeof EMOTION_EXPRESSION_COLUMNS)[number], string>> = {
  Neutral: "#d9d9d9",
  Happy: "#fdd835",
  Sad: "#1e88e5",
  Surprise: "#8e24aa",
  Fear: "#00897b",
  Disgust: "#6d4c41",
  Anger: "#e53935",
  Contempt: "#fb8c00",
};

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
const n1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** The frames of a panel drawn: at most `max` columns (every stride-th frame). */
function columns(frames: number, max: number): number[] {
  const stride = Math.max(1, Math.ceil(frames / max));
  return Array.from({ length: Math.ceil(frames / stride) }, (_, i) => i * stride);
}

/** Runs of equal values: [first index, length, value] (one rectangle per run keeps the SVG small). */
function runs<T>(values: T[]): [number, number, T][] {
  const out: [number, number, T][] = [];
  values.forEach((v, i) => {
    const last = out[out.length - 1];
    if (last && last[2] === v) last[1]++;
    else out.push([i, 1, v]);
  });
  return out;
}

/**
 * The SVG text of the picture (see the module comment).
 * @throws when the arrays do not hold `[T, 25]` and `[K, T, 25]` values of one T, or hold a non-finite value
 */
export function reactionTimelineSvg(input: ReactionTimelineInput): string {
  const { speaker, reactions, k } = input;
  const fps = input.fps ?? REACT_FPS;
  if (!Number.isInteger(k) || k < 1) throw new Error(`k must be a whole number >= 1, got ${k}`);
  const T = speaker.length / EMOTION_DIM;
  if (!Number.isInteger(T) || T < 2) throw new Error(`the speaker's emotion must be [T, ${EMOTION_DIM}] with T >= 2; it holds ${speaker.length} values`);
  if (reactions.length !== k * T * EMOTION_DIM) {
    throw new Error(`reactions hold ${reactions.length} values; [${k}, ${T}, ${EMOTION_DIM}] (K reactions of the speaker's ${T} frames) needs ${k * T * EMOTION_DIM}`);
  }
  for (const [name, a] of [["speaker", speaker], ["reactions", reactions]] as const) {
    for (let i = 0; i < a.length; i++) {
      if (Number.isFinite(a[i]!)) continue;
      const reaction = name === "reactions" ? ` reaction ${Math.floor(i / (T * EMOTION_DIM)) + 1},` : "";
      throw new Error(`${name}:${reaction} frame ${Math.floor(i / EMOTION_DIM) % T}, column ${i % EMOTION_DIM} is ${a[i]}`);
    }
  }
  const at = (r: number, f: number, c: number) => (r < 0 ? speaker[f * EMOTION_DIM + c]! : reactions[(r * T + f) * EMOTION_DIM + c]!);

  const W = 1000;
  const left = 110;
  const right = 20;
  const plotW = W - left - right;
  const cols = columns(T, plotW);
  const colW = plotW / cols.length;
  const x = (f: number) => left + (f / (T - 1)) * plotW;
  const parts: string[] = [];
  let y = input.title ? 34 : 12;
  if (input.title) parts.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(input.title)}</text>`);

  // ---- AUs: the speaker's (black = active) and the share of the K reactions with each AU active (blue scale)
  const AUS = EMOTION_AU_COLUMNS.length;
  const rowH = 8;
  for (const [label, r] of [["speaker AUs", -1], [`AUs, share of ${k} reactions`, 0]] as const) {
    parts.push(`<text x="${left}" y="${y + 11}" font-size="12">${esc(label)}</text>`);
    y += 16;
    for (let a = 0; a < AUS; a++) {
      parts.push(`<text x="${left - 6}" y="${y + a * rowH + 7}" font-size="7" text-anchor="end">${EMOTION_AU_COLUMNS[a]}</text>`);
      const values = cols.map((f) => {
        if (r < 0) return at(-1, f, a) >= 0.5 ? 1 : 0;
        let v = 0;
        for (let q = 0; q < k; q++) v += at(q, f, a) >= 0.5 ? 1 : 0;
        return v / k;
      });
      parts.push(`<rect x="${left}" y="${y + a * rowH}" width="${plotW}" height="${rowH - 1}" fill="#f4f4f4"/>`);
      for (const [j, n, v] of runs(values)) {
        if (v > 0) parts.push(`<rect x="${n1(left + j * colW)}" y="${y + a * rowH}" width="${n1(n * colW + 0.3)}" height="${rowH - 1}" fill="${r < 0 ? "#222" : "#1f5fbf"}" fill-opacity="${n1(r < 0 ? 1 : v)}"/>`);
      }
    }
    y += AUS * rowH + 8;
  }

  // ---- valence and arousal: [-1, 1], the speaker in black, one line per reaction
  for (const [c, name] of [[15, "valence"], [16, "arousal"]] as const) {
    const h = 90;
    parts.push(`<text x="${left}" y="${y + 11}" font-size="12">${name} (speaker black, reactions coloured)</text>`);
    y += 16;
    const yy = (v: number) => y + ((1 - Math.max(-1, Math.min(1, v))) / 2) * h;
    parts.push(
      `<rect x="${left}" y="${y}" width="${plotW}" height="${h}" fill="none" stroke="#bbb"/>`,
      `<line x1="${left}" y1="${yy(0)}" x2="${left + plotW}" y2="${yy(0)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y + 8}" font-size="9" text-anchor="end">1</text>`,
      `<text x="${left - 6}" y="${y + h}" font-size="9" text-anchor="end">-1</text>`,
    );
    for (let r = k - 1; r >= -1; r--) {
      const pts = cols.map((f) => `${n1(x(f))},${n1(yy(at(r, f, c)))}`).join(" ");
      const colour = r < 0 ? "#000" : REACTION_COLOURS[r % REACTION_COLOURS.length];
      parts.push(`<polyline class="${r < 0 ? "speaker" : "reaction"}" data-series="${name}" points="${pts}" fill="none" stroke="${colour}" stroke-width="${r < 0 ? 2 : 1}" stroke-opacity="${r < 0 ? 1 : 0.8}"/>`);
    }
    y += h + 8;
  }

  // ---- the strongest expression of each frame: the speaker's band, then one per reaction
  parts.push(`<text x="${left}" y="${y + 11}" font-size="12">strongest expression per frame</text>`);
  y += 16;
  const bandH = 10;
  for (let r = -1; r < k; r++) {
    parts.push(`<text x="${left - 6}" y="${y + 8}" font-size="8" text-anchor="end">${r < 0 ? "speaker" : `reaction ${r + 1}`}</text>`);
    const strongest = cols.map((f) => {
      let best = 0;
      for (let e = 1; e < 8; e++) if (at(r, f, 17 + e) > at(r, f, 17 + best)) best = e;
      return best;
    });
    for (const [j, n, best] of runs(strongest)) {
      parts.push(`<rect x="${n1(left + j * colW)}" y="${y}" width="${n1(n * colW + 0.3)}" height="${bandH - 1}" fill="${EXPRESSION_COLOURS[EMOTION_EXPRESSION_COLUMNS[best]!]}"/>`);
    }
    y += bandH;
  }
  y += 6;
  EMOTION_EXPRESSION_COLUMNS.forEach((name, i) => {
    const lx = left + i * 100;
    parts.push(`<rect x="${lx}" y="${y}" width="10" height="10" fill="${EXPRESSION_COLOURS[name]}"/><text x="${lx + 14}" y="${y + 9}" font-size="10">${name}</text>`);
  });
  y += 18;

  // ---- time axis
  const seconds = (T - 1) / fps;
  const tick = seconds > 20 ? 5 : seconds > 8 ? 2 : 1;
  for (let s = 0; s <= seconds + 1e-9; s += tick) {
    const tx = left + (s / seconds) * plotW;
    parts.push(`<line x1="${n1(tx)}" y1="${y}" x2="${n1(tx)}" y2="${y + 4}" stroke="#555"/><text x="${n1(tx)}" y="${y + 15}" font-size="9" text-anchor="middle">${s} s</text>`);
  }
  y += 22;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join("\n")}\n</svg>\n`;
}
