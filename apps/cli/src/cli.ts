import { Command } from "commander";
import { registerAblation } from "./commands/ablation";
import { registerCompare } from "./commands/compare";
import { registerEval } from "./commands/eval";
import { registerGenerate } from "./commands/generate";
import { registerFeatures } from "./commands/features";
import { registerSynth } from "./commands/synth";
import { registerImportTorch } from "./commands/import-torch";
import { registerVerifyTorch } from "./commands/verify-torch";
import { registerComplexity } from "./commands/complexity";
import { registerTrain } from "./commands/train";

const program = new Command();
program
  .name("perfrdiff")
  .description("PerFRDiff-TS: personalised facial reaction generation and REACT evaluation")
  .showHelpAfterError();

registerGenerate(program);
registerTrain(program);
registerEval(program);
registerCompare(program);
registerAblation(program);
registerFeatures(program);
registerSynth(program);
registerImportTorch(program);
registerVerifyTorch(program);
registerComplexity(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`perfrdiff: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
