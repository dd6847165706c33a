import { SingleBar } from "cli-progress";

/**
 * A progress bar on stderr for long CLI jobs, with a new bar line for each stage of a multi-stage job. Draws only
 * when stderr is a terminal, so redirected output and --json stay clean. The total may grow while running (pass the
 * current count as total when it is not known in advance). `detail` (e.g. the loss and the rate) follows the count.
 */
export class StageProgress {
  private bar: SingleBar | undefined;
  private stage = "";

  /** @param unit what is counted ("clips", "frames"), shown after the count */
  update(stage: string, done: number, total: number, unit = "", detail = ""): void {
    if (!process.stderr.isTTY) return;
    if (stage !== this.stage || !this.bar) {
      this.bar?.stop();
      this.stage = stage;
      this.bar = new SingleBar({
        format: `${stage.padEnd(9)} [{bar}] {value}/{total}${unit ? ` ${unit}` : ""} {detail} {duration_formatted} (ETA {eta_formatted})`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      });
      this.bar.start(total, 0, { detail });
    }
    this.bar.setTotal(total);
    this.bar.update(done, { detail });
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
