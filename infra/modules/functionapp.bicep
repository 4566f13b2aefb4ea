// The Functions app: Linux Flex Consumption, .NET 10 isolated worker, running as its user-assigned identity. Storage is
// reached by identity (AzureWebJobsStorage__* and Pipeline__Storage__AccountName), telemetry is sent with Entra ID, and
// the app package is read from a blob container with the same identity: no key or connection string in the settings.

@description('Function app name; also its host name (<name>.azurewebsites.net).')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region of the plan and the app.')
param location string

@description('Tags put on every resource; the app also gets azd-service-name.')
param tags object = {}

@description('The service name in azure.yaml: azd deploys that service to the app that carries it as its azd-service-name tag.')
param serviceName string = 'functions'

@description('The storage account of the pipeline and of the Functions host.')
param storageAccountName string

@description('Container the app package is deployed from.')
param deploymentContainerName string

@description('The user-assigned identity the app runs as (modules/identity.bicep).')
param identityName string

@description('The Application Insights component the app reports to.')
param applicationInsightsName string

@description('Most instances the app scales out to (Flex Consumption: 40 to 1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance in MB; 4096 (2 vCPUs) trains larger datasets and two candidates at once.')
@allowed([2048, 4096])
param instanceMemoryMB int = 4096

@description('Client id of an Entra ID app registration for App Service authentication: signed-in callers (bearer tokens for api://<id>) are passed to the app as X-MS-CLIENT-PRINCIPAL and named in the audit log. Empty: authentication stays off.')
param authClientId string = ''

@description('When set, admin routes also need a signed-in caller with this app role (Pipeline__Api__AdminRole); needs authClientId.')
param adminRole string = ''

resource storage 'Microsoft.Storage/storageAccounts@2025-06-01' existing = {
  name: storageAccountName
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex Consumption takes the worker runtime from here: FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION
      // must not be app settings.
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }

  // Every setting the app reads on Azure; the rest keep the defaults listed in local.settings.sample.json.
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // The host's storage (blob trigger, Durable task hub) by identity.
      AzureWebJobsStorage__accountName: storage.name
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identity.properties.clientId
      // Flex Consumption runs only the Event Grid form of the blob trigger: the polling form is off here
      // (local.settings.sample.json does the opposite for Azurite).
      'AzureWebJobs.StartTrainingOnUpload.Disabled': 'true'
      // Telemetry with Entra ID (the component has local authentication off).
      APPLICATIONINSIGHTS_CONNECTION_STRING: insights.properties.ConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
      // The pipeline's own clients: DefaultAzureCredential picks the user-assigned identity named by AZURE_CLIENT_ID.
      AZURE_CLIENT_ID: identity.properties.clientId
      // The worker's gen0 budget, as ./run gives the local host: 32 MiB instead of the runtime's small default, so gen0
      // collections (and their pauses in the latency tail) come about ten times less often under predict load.
      DOTNET_GCgen0size: '0x2000000'
      Pipeline__Storage__AccountName: storage.name
      // The service version is pinned only for Azurite; on Azure the clients speak their newest version.
      Pipeline__Storage__ServiceVersion: ''
      // The drift timer's schedule (6-field cron, UTC): the CheckDriftOnTimer TimerTrigger reads it, so it must be set.
      Pipeline__Drift__TimerSchedule: '0 */5 * * * *'
      // Admin routes limited to an app role of the signed-in caller; empty: a function key is enough.
      Pipeline__Api__AdminRole: adminRole
    }
  }

  // App Service authentication validates Entra ID bearer tokens and hands the caller to the app. Unauthenticated requests
  // still pass (function keys, Event Grid's delivery to the blob trigger): the app decides what needs a caller.
  resource auth 'config' = if (!empty(authClientId)) {
    name: 'authsettingsV2'
    properties: {
      platform: {
        enabled: true
      }
      globalValidation: {
        requireAuthentication: false
        unauthenticatedClientAction: 'AllowAnonymous'
      }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            clientId: authClientId
            openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          }
          validation: {
            allowedAudiences: [
              'api://${authClientId}'
              authClientId
            ]
          }
        }
      }
      login: {
        tokenStore: {
          enabled: false
        }
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
output url string = 'https://${app.properties.defaultHostName}'
