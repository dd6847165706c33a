import type { Command } from "commander";

export function registerEval(program: Command): void {
  program
    .command("eval")
    .description("Compute every REACT metric for a set of generated reactions")
    .action(() => {
      throw new Error("not yet");
    });
}
