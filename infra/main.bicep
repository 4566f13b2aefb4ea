// Deploys the pipeline to Azure (azd up, or az deployment sub create): a resource group holding
//   - storage:      the pipeline's containers and tables, the Functions host's storage and the Durable task hub (one account)
//   - identity:     the app's user-assigned managed identity and its roles (storage data, telemetry)
//   - monitoring:   Log Analytics and Application Insights (Entra ID authentication only)
//   - functionapp:  a Flex Consumption plan and the Functions app (.NET 10 isolated), settings without keys
//   - eventgrid:    the storage account's system topic; the subscription to the app is created after deploy
//                   (modules/eventgrid-subscription.bicep, run by infra/hooks/postdeploy.sh)
// az deployment sub create -l <region> -f infra/main.bicep -p environmentName=<name> location=<region>
targetScope = 'subscription'

@description('Name of the azd environment (AZURE_ENV_NAME): names the resource group and seeds the unique suffix of every resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure region of every resource (AZURE_LOCATION); it must offer the Flex Consumption plan.')
@minLength(1)
@metadata({ azd: { type: 'location' } })
param location string

@description('Object id of the person or pipeline deploying (AZURE_PRINCIPAL_ID): gets Storage Blob Data Contributor on the account to drop files into incoming/. Empty: no such role.')
param principalId string = ''

@description('Resource group name; empty: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Most instances the app scales out to (Flex Consumption: 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB: 4096 (2 vCPUs) or 2048 (1 vCPU).')
@allowed([2048, 4096])
param instanceMemoryMB int = 4096

@description('Client id of an Entra ID app registration for App Service authentication (AUTH_CLIENT_ID); empty: authentication off, admin routes need a function key only.')
param authClientId string = ''

@description('App role an admin route\'s caller must have (ADMIN_ROLE); needs authClientId. Empty: no role limit.')
param adminRole string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var functionAppName = 'func-${resourceToken}'
var deploymentContainerName = 'app-package'
var deadLetterContainerName = 'eventgrid-deadletter'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    principalId: principalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deploymentContainerName: deploymentContainerName
    identityName: identity.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    authClientId: authClientId
    adminRole: adminRole
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    name: 'evgt-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deadLetterContainerName: deadLetterContainerName
  }
}

// azd keeps every output in the environment (.azure/<env>/.env); the postdeploy hook and the deploy workflow read them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.name
output AZURE_EVENTGRID_DEADLETTER_CONTAINER string = deadLetterContainerName
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
@description('The app\'s URL; the HTTP API is under /api.')
output FUNCTION_APP_URL string = functionApp.outputs.url
output API_URL string = '${functionApp.outputs.url}/api'
