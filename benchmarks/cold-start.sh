#!/usr/bin/env bash
# Cold start to the first prediction, and memory per loaded model version, of the local host.
#   benchmarks/cold-start.sh [connection string] [model] [pinned versions...]
# Needs Azurite (or a storage account) that already holds a trained model, e.g. after a ./run session with its data
# kept in .azurite/: `npx azurite --silent --location .azurite &`, then `benchmarks/cold-start.sh "" taxi v1 v2`.
# Starts the built local host (dotnet build -c Release first), times from process start until a predict answers 200,
# then reads the process's resident memory before and after pinning each older version with ?version=.
set -uo pipefail
cd "$(dirname "$0")/../localhost"
cs="${1:-UseDevelopmentStorage=true}"; [ -n "$cs" ] || cs="UseDevelopmentStorage=true"
model="${2:-taxi}"; shift $(( $# > 2 ? 2 : $# ))
port=17099
body='{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}'
predict() { curl -sf -o /dev/null -XPOST "http://127.0.0.1:$port/api/models/$model/predict$1" -H 'content-type: application/json' -d "$body"; }
rss() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status"; }

start=$(date +%s.%N)
dotnet bin/Release/net10.0/Serverless.LocalHost.dll --urls "http://127.0.0.1:$port" "--Pipeline:Storage:ConnectionString=$cs" >/tmp/cold-start-host.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 600); do predict "" && break; kill -0 $pid 2>/dev/null || { echo "the host exited; see /tmp/cold-start-host.log" >&2; exit 1; }; sleep 0.05; done
first=$(date +%s.%N)
echo "cold start to first prediction: $(echo "$first - $start" | bc) s"
sleep 3
base=$(rss); echo "resident memory serving production: $base MB"
for version in "$@"; do
  predict "?version=$version" || { echo "predict with ?version=$version failed" >&2; exit 1; }
  sleep 2; now=$(rss); echo "after loading $version: $now MB (+$((now - base)) MB)"; base=$now
done
