// The Event Grid subscription that delivers blob-created events under incoming/ to the app's blob extension webhook,
// which runs StartTrainingOnUploadEventGrid. Deployed by infra/hooks/postdeploy.sh after `azd deploy`: the webhook's
// key (the host's blobs_extension system key) exists only once the deployed host has started. The key is read here
// with listKeys and never leaves the deployment.
// az deployment group create -g <group> -f infra/modules/eventgrid-subscription.bicep \
//   -p functionAppName=<app> systemTopicName=<topic> storageAccountName=<account>

@description('The function app (modules/functionapp.bicep).')
param functionAppName string

@description('The storage account\'s system topic (modules/eventgrid.bicep).')
param systemTopicName string

@description('The storage account; its dead-letter container keeps undeliverable events.')
param storageAccountName string

@description('The blob trigger function in its Event Grid form.')
param functionName string = 'StartTrainingOnUploadEventGrid'

@description('The drop zone container, as in the function\'s blob path.')
param containerName string = 'incoming'

@description('Container of undeliverable events.')
param deadLetterContainerName string = 'eventgrid-deadletter'

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

resource app 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

// The host's keys (Microsoft.Web/sites/host has no Bicep type, so the list action is called by resource id).
var blobsExtensionKey = listKeys('${app.id}/host/default', '2025-03-01').systemKeys.blobs_extension

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: '${containerName}-to-${toLower(functionName)}'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: '/blobServices/default/containers/${containerName}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output name string = subscription.name
