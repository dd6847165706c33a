import type { Command } from "commander";
import type { ClipMetricsRecord, MetricComparison } from "@perfrdiff/eval";
import { fileExists } from "../inputs";

export interface CompareCliOptions {
  paired?: boolean;
  welch?: boolean;
  json?: boolean;
}

/** Reads a `--per-clip` file: one JSON object per line, each with `item` and `clip`. Errors name the file and line. */
export async function readClipRecords(path: string): Promise<ClipMetricsRecord[]> {
  if (!(await fileExists(path))) throw new Error(`no such file: ${path}`);
  const { readFile } = await import("node:fs/promises");
  const lines = (await readFile(path, "utf8")).split("\n");
  const out: ClipMetricsRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (err) {
      throw new Error(`${path}, line ${i + 1}: not JSON (${(err as Error).message})`);
    }
    const rec = r as ClipMetricsRecord;
    if (typeof rec !== "object" || rec === null || !Number.isInteger(rec.item) || typeof rec.clip !== "string") {
      throw new Error(`${path}, line ${i + 1}: expected an object with a whole-number "item" and a "clip" (a line of eval --per-clip)`);
    }
    out.push(rec);
  });
  return out;
}

/** `perfrdiff compare A B`: t-tests of every per-clip metric (see @perfrdiff/eval's compareRuns). */
export async function runCompare(a: string, b: string, o: CompareCliOptions): Promise<Partial<Record<string, MetricComparison>>> {
  if (o.paired && o.welch) throw new Error("give --paired or --welch, not both");
  const { compareRuns } = await import("@perfrdiff/eval");
  const [ra, rb] = [await readClipRecords(a), await readClipRecords(b)];
  const paired = o.paired ? true : o.welch ? false : undefined;
  try {
    return compareRuns(ra, rb, { paired });
  } catch (err) {
    throw new Error(`${a} vs ${b}: ${(err as Error).message}`);
  }
}

export function registerCompare(program: Command): void {
  program
    .command("compare")
    .argument("<a>", "per-clip metrics of run A (eval --per-clip FILE.jsonl)")
    .argument("<b>", "per-clip metrics of run B")
    .description("Two-tailed t-tests at 95% between two evaluations, per metric, in the form of the PerFRDiff paper's significance table")
    .option("--paired", "paired t-test (an error unless both runs scored the same clips)")
    .option("--welch", "Welch's t-test even when the clips match")
    .option("--json", "print one object: per metric key { t, df, p, test, mark, meanA, meanB, clips }")
    .addHelpText(
      "after",
      `
The test is paired when both files hold the same clips (matched by item), Welch's otherwise (the output says which).
Marks: + when A is significantly better than B (each metric's better side: higher FRCorr, FRDiv, FRVar; lower
FRdist, FRSyn), - when significantly worse; (*) p < 0.05, (**) p < 0.01, (***) p < 0.001; N.A. when the difference is
not significant. FRDvs and FRRea-feat compare clips with each other and have no per-clip values to test.

Example:
  pnpm perfrdiff eval --checkpoint runs/small --data data/synth --task pmafrg --per-clip personal.jsonl
  pnpm perfrdiff eval --checkpoint runs/small --data data/synth --per-clip generic.jsonl
  pnpm perfrdiff compare personal.jsonl generic.jsonl`,
    )
    .action(async (a: string, b: string, opts: CompareCliOptions) => {
      const r = await runCompare(a, b, opts);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      const rows = Object.entries(r) as [string, MetricComparison][];
      if (!rows.length) throw new Error(`${a} and ${b} share no per-clip metric`);
      const w = 9;
      process.stdout.write(`A: ${a}\nB: ${b}\n${rows[0]![1].test === "paired" ? "paired" : "Welch's"} two-tailed t-tests, 95%\n\n`);
      process.stdout.write(`${"".padEnd(7)}${rows.map(([m]) => m.padStart(w)).join("")}\n`);
      process.stdout.write(`${"A vs B".padEnd(7)}${rows.map(([, c]) => c.mark.padStart(w)).join("")}\n\n`);
      process.stdout.write(`${"metric".padEnd(8)}${"mean A".padStart(11)}${"mean B".padStart(11)}${"t".padStart(10)}${"df".padStart(8)}${"p".padStart(11)}  mark\n`);
      for (const [m, c] of rows) {
        process.stdout.write(
          `${m.padEnd(8)}${c.meanA.toPrecision(5).padStart(11)}${c.meanB.toPrecision(5).padStart(11)}${c.t.toFixed(3).padStart(10)}${c.df.toFixed(1).padStart(8)}${c.p.toExponential(2).padStart(11)}  ${c.mark}\n`,
        );
      }
    });
}
