import { SingleBar } from "cli-progress";

/**
 * One progress bar on stderr for a multi-stage job: a new bar line for each stage. Draws only when stderr is a
 * terminal, so redirected output and --json stay clean.
 */
export class StageProgress {
  private bar: SingleBar | undefined;
  private stage = "";

  update(stage: string, done: number, total: number): void {
    if (!process.stderr.isTTY) return;
    if (stage !== this.stage) {
      this.bar?.stop();
      this.stage = stage;
      this.bar = new SingleBar({
        format: `${stage.padEnd(9)} [{bar}] {value}/{total} {duration_formatted}`,
        stream: process.stderr,
        hideCursor: true,
      });
      this.bar.start(total, 0);
    }
    this.bar?.update(done);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
