// The pipeline's storage account, which is also the Functions host's (AzureWebJobsStorage): the drop zone and the other
// pipeline containers, the pipeline's tables, the Durable Functions task hub (queues, tables and a large-message
// container the extension creates itself), and the container Flex Consumption deploys the app package from.
// Shared keys are off: every client, the app's included, signs in with Microsoft Entra ID.

@description('Storage account name: 3 to 24 lower-case letters and digits, unique in Azure.')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region of the account.')
param location string

@description('Tags put on every resource.')
param tags object = {}

@description('Blob containers of the pipeline (the app also creates them when missing). `incoming` is the drop zone the blob triggers and the Event Grid subscription watch.')
param containers string[] = ['incoming', 'datasets', 'quarantine', 'models', 'monitoring']

@description('Tables of the pipeline: the experiment runs and the audit log (Pipeline:Storage:TablePrefix + runs, audit).')
param tables string[] = ['mlopsruns', 'mlopsaudit']

@description('Container the Flex Consumption app is deployed from (azd uploads the package there).')
param deploymentContainerName string

@description('Container where Event Grid keeps blob-created events it could not deliver to the app.')
param deadLetterContainerName string

@description('Days a deleted blob or container can be restored.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int = 14

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // No account keys anywhere: the app, azd and users reach the data with Entra ID roles (modules/identity.bicep).
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    // Datasets and model versions are immutable by convention; soft delete makes an accidental delete recoverable.
    deleteRetentionPolicy: { enabled: true, days: deleteRetentionDays }
    containerDeleteRetentionPolicy: { enabled: true, days: deleteRetentionDays }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-06-01' = [
  for container in union(containers, [deploymentContainerName, deadLetterContainerName]): {
    parent: blobService
    name: container
    properties: { publicAccess: 'None' }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-06-01' = {
  parent: storage
  name: 'default'
}

resource pipelineTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-06-01' = [
  for table in tables: {
    parent: tableService
    name: table
  }
]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
