// Checks azure.yaml without the azd schema (not available offline): it parses, and the service folders, the infra
// module and the hook scripts it names exist (hooks executable). node azure-yaml.mjs <azure.yaml>
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";

const file = process.argv[2] ?? "azure.yaml";
const root = dirname(file);
const project = parse(readFileSync(file, "utf8"));
const problems = [];
if (!project.name) problems.push("no name");
for (const [name, service] of Object.entries(project.services ?? {})) {
  if (!existsSync(join(root, service.project ?? ""))) problems.push(`service ${name}: no folder ${service.project}`);
  if (service.host !== "function") problems.push(`service ${name}: host is ${service.host}, not function`);
}
const infra = join(root, project.infra?.path ?? "infra", `${project.infra?.module ?? "main"}.bicep`);
if (!existsSync(infra)) problems.push(`infra: no ${infra}`);
for (const [hook, spec] of Object.entries(project.hooks ?? {})) {
  for (const run of [spec.run, spec.posix?.run].filter(Boolean)) {
    const path = join(root, run);
    if (!existsSync(path) || !(statSync(path).mode & 0o111)) problems.push(`hook ${hook}: ${run} is missing or not executable`);
  }
}
if (problems.length) {
  console.error(`${file}: ${problems.join("; ")}`);
  process.exit(1);
}
console.log(`${file}: ${Object.keys(project.services ?? {}).length} service(s), ${Object.keys(project.hooks ?? {}).length} hook(s), infra ${infra}`);
