import { Command } from "commander";
import { registerEval } from "./commands/eval";
import { registerFeatures } from "./commands/features";

const program = new Command();
program
  .name("perfrdiff")
  .description("PerFRDiff-TS: personalised facial reaction generation and REACT evaluation")
  .showHelpAfterError();

registerEval(program);
registerFeatures(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`perfrdiff: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
