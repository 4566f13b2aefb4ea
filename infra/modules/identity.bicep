// The function app's user-assigned managed identity and every role it needs, so that no key or connection string is
// kept in the app's settings. Durable Functions uses blobs (leases, large messages), queues (control and work items) and
// tables (instances, history) of the task hub; the pipeline reads and writes blobs and tables; Flex Consumption reads the
// app package from a blob container; telemetry goes to Application Insights with Entra ID authentication.

@description('Name of the user-assigned identity.')
param name string

@description('Azure region of the identity.')
param location string

@description('Tags put on every resource.')
param tags object = {}

@description('The storage account the app uses (pipeline data, AzureWebJobsStorage, Durable task hub, deployment package).')
param storageAccountName string

@description('The Application Insights component the app sends telemetry to.')
param applicationInsightsName string

@description('Object id of a person or pipeline who may drop files into incoming/ and read results (Storage Blob Data Contributor); empty: none.')
param principalId string = ''

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Built-in role definition ids (the same in every tenant).
var storageRoles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource appStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in items(storageRoles): {
    name: guid(storage.id, identity.id, role.value)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.value)
      principalId: identity.properties.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource appTelemetryRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identity.id, monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// The principal type is left out: it may be a user (azd up) or a service principal (the deploy workflow).
resource deployerBlobRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(principalId)) {
  name: guid(storage.id, principalId, storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: principalId
  }
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
