// Application Insights on a Log Analytics workspace. Local authentication (the instrumentation key) is off: the app
// sends telemetry with its managed identity, which holds Monitoring Metrics Publisher (modules/identity.bicep).

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Azure region of both resources.')
param location string

@description('Tags put on every resource.')
param tags object = {}

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output applicationInsightsName string = insights.name
output applicationInsightsId string = insights.id
output connectionString string = insights.properties.ConnectionString
output logAnalyticsName string = workspace.name
