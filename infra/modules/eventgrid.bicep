// The Event Grid system topic of the storage account: the source of the blob-created events the Event Grid form of the
// drop zone's blob trigger (StartTrainingOnUploadEventGrid) runs on. Its subscription to the app is created once the
// code is deployed (modules/eventgrid-subscription.bicep, from the azd postdeploy hook), because the webhook needs the
// app's blobs_extension system key, which exists only after the host has started with that trigger.
// The topic's own identity may write undeliverable events into the dead-letter container.

@description('System topic name.')
param name string

@description('Azure region: that of the storage account.')
param location string

@description('Tags put on every resource.')
param tags object = {}

@description('The storage account whose blob events the topic publishes.')
param storageAccountName string

@description('Container of undeliverable events (modules/storage.bicep creates it).')
param deadLetterContainerName string

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource deadLetter 'containers' existing = {
      name: deadLetterContainerName
    }
  }
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource deadLetterRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deadLetter.id, topic.id, storageBlobDataContributor)
  scope: storage::blobService::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output name string = topic.name
