// Writes every `run:` block of the given workflow files to <out>/<workflow>.<job>.<n>.sh, as the runner would run it
// (bash, the default shell of ubuntu runners), so that shellcheck can read them. `${{ ... }}` expressions become a
// placeholder word: the runner substitutes them before the shell sees the script.
// node run-blocks.mjs <out-dir> <workflow.yml>...
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";

const [out, ...files] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
let count = 0;
for (const file of files) {
  const workflow = parse(readFileSync(file, "utf8"));
  for (const [jobId, job] of Object.entries(workflow.jobs ?? {})) {
    (job.steps ?? []).forEach((step, index) => {
      if (typeof step.run !== "string") return;
      const shell = step.shell ?? job.defaults?.run?.shell ?? workflow.defaults?.run?.shell ?? "bash";
      if (!String(shell).startsWith("bash") && shell !== "sh") return;
      const body = step.run.replace(/\$\{\{[^}]*\}\}/g, "GITHUB_EXPRESSION");
      const name = `${basename(file, ".yml")}.${jobId}.${index + 1}.sh`;
      writeFileSync(join(out, name), `#!/usr/bin/env bash\n# ${file}: jobs.${jobId}.steps[${index}]\nset -e\n${body}`);
      count++;
    });
  }
}
console.log(`run-blocks: ${count} run: blocks from ${files.length} workflow(s)`);
