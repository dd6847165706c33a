// Writes a package's `exports` map from its sub-path entries, so package.json and tsup.config.ts name the same files:
//   node scripts/exports.mjs packages/features index audio face dataset synth vision
// (entry "index" is ".", every other name "./<name>", built by tsup to dist/<name>.{js,cjs,d.ts,d.cts}).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, ...names] = process.argv.slice(2);
const file = join(dir, "package.json");
const pkg = JSON.parse(readFileSync(file, "utf8"));
const entry = (n) => ({
  import: { types: `./dist/${n}.d.ts`, default: `./dist/${n}.js` },
  require: { types: `./dist/${n}.d.cts`, default: `./dist/${n}.cjs` },
});
pkg.exports = Object.fromEntries([...names.map((n) => [n === "index" ? "." : `./${n}`, entry(n)]), ["./package.json", "./package.json"]]);
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
