#!/bin/sh
# azd postdeploy hook (azure.yaml): subscribes the app's Event Grid blob trigger (StartTrainingOnUploadEventGrid) to the
# blob-created events under incoming/. It runs after `azd deploy` because the subscription's webhook needs the host's
# blobs_extension system key, which the host creates only once the deployed code has started with that trigger.
# The subscription itself is Bicep (infra/modules/eventgrid-subscription.bicep), deployed to the environment's resource
# group; the key is read there with listKeys and never printed. Needs the Azure CLI, signed in to the same subscription.
# Safe to run again: the deployment updates the subscription in place.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

# azd passes its environment's values to hooks; when run by hand, read them from azd.
if [ -z "${AZURE_FUNCTION_APP_NAME:-}" ] && command -v azd >/dev/null 2>&1; then
  eval "$(azd env get-values)"
fi
: "${AZURE_RESOURCE_GROUP:?not set: run azd provision first}"
: "${AZURE_FUNCTION_APP_NAME:?not set: run azd provision first}"
: "${AZURE_STORAGE_ACCOUNT_NAME:?not set: run azd provision first}"
: "${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME:?not set: run azd provision first}"
: "${AZURE_EVENTGRID_DEADLETTER_CONTAINER:?not set: run azd provision first}"
: "${FUNCTION_APP_URL:?not set: run azd provision first}"

if ! command -v az >/dev/null 2>&1; then
  echo "postdeploy: the Azure CLI (az) is needed to create the Event Grid subscription; install it and run infra/hooks/postdeploy.sh" >&2
  exit 1
fi

timeout_seconds=${EVENTGRID_KEY_TIMEOUT_SECONDS:-600}
deadline=$(( $(date +%s) + timeout_seconds ))
echo "postdeploy: waiting up to ${timeout_seconds} s for the blobs_extension key of ${AZURE_FUNCTION_APP_NAME}"
while :; do
  # A request starts an instance if the app has scaled to zero; the host then creates the key.
  curl -fsS -o /dev/null --max-time 30 "${FUNCTION_APP_URL}/api/health" || true
  key=$(az functionapp keys list --resource-group "$AZURE_RESOURCE_GROUP" --name "$AZURE_FUNCTION_APP_NAME" \
    --query systemKeys.blobs_extension --output tsv 2>/dev/null || true)
  if [ -n "$key" ]; then
    break
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "postdeploy: no blobs_extension key after ${timeout_seconds} s. Is StartTrainingOnUploadEventGrid deployed and enabled? See the app's logs in Application Insights." >&2
    exit 1
  fi
  sleep 10
done
unset key

echo "postdeploy: subscribing ${AZURE_FUNCTION_APP_NAME} to blob-created events under incoming/ (topic ${AZURE_EVENTGRID_SYSTEM_TOPIC_NAME})"
az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name eventgrid-subscription \
  --template-file "$here/../modules/eventgrid-subscription.bicep" \
  --parameters functionAppName="$AZURE_FUNCTION_APP_NAME" \
               systemTopicName="$AZURE_EVENTGRID_SYSTEM_TOPIC_NAME" \
               storageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" \
               deadLetterContainerName="$AZURE_EVENTGRID_DEADLETTER_CONTAINER" \
  --only-show-errors --output none
echo "postdeploy: done; files dropped into incoming/<model>/ now start training"
