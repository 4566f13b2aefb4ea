#!/usr/bin/env bash
# Promote and roll back the taxi model while wrk drives predict (see benchmarks/Serverless.Benchmarks/HotSwapBenchmark.cs).
# Usage: benchmarks/hot-swap.sh [seconds=30]
# Needs the .NET SDK, Azurite ('npm ci' at the repository root) and wrk (installed here from Debian when absent).
# Prints wrk's non-2xx and socket errors (aim 0), the answers per version, and how soon after each move the answers
# came from the version it set (through the API, and through the registry as another host would move it).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y wrk; else sudo apt-get install -y wrk; fi
fi
exec dotnet run -c Release --project benchmarks/Serverless.Benchmarks -- hot-swap "${1:-30}"
