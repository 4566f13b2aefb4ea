#!/usr/bin/env bash
# End-to-end check of a running pipeline host (func start, or the local host): drops the taxi slice and its spec into
# incoming/taxi-e2e/, waits (bounded) until the model has a production version and serves a prediction, then asks for one
# fare and checks the answer. Exits non-zero, saying why, on any failure.
#   E2E_HOST             the host's base URL (default http://127.0.0.1:7071)
#   E2E_CONNECTION       storage connection string of the drop zone (default: Azurite on its default ports)
#   E2E_MODEL            model name (default taxi-e2e)
#   E2E_TIMEOUT_SECONDS  longest wait for a production version (default 600)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
host=${E2E_HOST:-http://127.0.0.1:7071}
connection=${E2E_CONNECTION:-UseDevelopmentStorage=true}
model=${E2E_MODEL:-taxi-e2e}
timeout_seconds=${E2E_TIMEOUT_SECONDS:-600}

echo "e2e: dropping $(( $(wc -l < "$here/taxi/taxi-fare-train-2000.csv") - 1 )) taxi rows into incoming/$model/ and waiting up to ${timeout_seconds} s on $host"
# upload --wait: uploads the spec and the data, polls GET /api/models/<model> until production names a version, then
# predicts the file's first row; non-zero when no version came within the timeout or the prediction failed.
dotnet run --project "$root/tools/Serverless.Cli" -c Release -- upload "$model" "$here/taxi/taxi-fare-train-2000.csv" \
  --spec "$here/taxi/model.json" --connection "$connection" --wait --host "$host" --timeout "$timeout_seconds"

# One trip whose recorded fare is 17.50 (the slice's first row, without its label).
trip='{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}'
answer=$(curl -fsS --max-time 30 -X POST "$host/api/models/$model/predict" -H 'content-type: application/json' -d "$trip")
echo "e2e: predict answered $answer"

# The answer names the production version that served it and one prediction with a plausible fare.
if ! jq -e --arg model "$model" '
      .model == $model
      and (.modelVersion | type == "string" and test("^v[0-9]+$"))
      and (.predictions | length == 1)
      and (.predictions[0].score | type == "number" and . > 5 and . < 40)' <<<"$answer" >/dev/null; then
  echo "e2e: FAILED: expected {model: \"$model\", modelVersion: \"v<N>\", predictions: [{score: 5..40}]}" >&2
  exit 1
fi
production=$(curl -fsS --max-time 30 "$host/api/models/$model" | jq -r '.aliases.production')
served=$(jq -r '.modelVersion' <<<"$answer")
if [ "$production" != "$served" ]; then
  echo "e2e: FAILED: the prediction came from $served, but production is $production" >&2
  exit 1
fi

# The host serves the OpenAPI description of its routes, the predict route among them.
if ! curl -fsS --max-time 30 "$host/api/openapi.json" | jq -e '.openapi and .paths["/api/models/{model}/predict"].post' >/dev/null; then
  echo "e2e: FAILED: $host/api/openapi.json is not an OpenAPI document describing the predict route" >&2
  exit 1
fi
echo "e2e: passed: $model $served predicts a fare of $(jq -r '.predictions[0].score' <<<"$answer") for a recorded 17.50"
