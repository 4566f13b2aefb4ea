using System.Text.Json.Nodes;

namespace Serverless.Tests.Infra;

/// <summary>
/// The drop zone's blob trigger exists in two forms, polling (Azurite, which has no Event Grid) and Event Grid (Flex
/// Consumption, which runs no polling trigger), and each environment disables exactly the form it cannot run.
/// </summary>
public sealed class BlobTriggerFormsTests
{
    [Fact]
    public void FunctionsApp_BlobTriggers_ArePollingAndEventGridFormsOfOnePath()
    {
        var triggers = BlobTriggers();

        Assert.Equal(2, triggers.Count);
        Assert.Single(triggers, t => t.Source == "EventGrid");
        Assert.Single(triggers.Select(t => t.Path).Distinct());
    }

    [Fact]
    public void LocalSettingsSample_DisablesTheEventGridFormOnly()
    {
        var (polling, eventGrid) = Forms();
        var values = DeploymentFiles.SampleSettingValues();

        Assert.Equal("true", values.GetValueOrDefault($"AzureWebJobs.{eventGrid}.Disabled"));
        Assert.False(values.ContainsKey($"AzureWebJobs.{polling}.Disabled"));
    }

    [Fact]
    public void FunctionAppBicep_DisablesThePollingFormOnly()
    {
        var (polling, eventGrid) = Forms();
        var bicep = DeploymentFiles.Text("infra", "modules", "functionapp.bicep");

        Assert.Contains($"'AzureWebJobs.{polling}.Disabled': 'true'", bicep, StringComparison.Ordinal);
        Assert.DoesNotContain($"AzureWebJobs.{eventGrid}.Disabled", bicep, StringComparison.Ordinal);
    }

    [Fact]
    public void EventGridSubscriptionBicep_DeliversToTheEventGridFormOnItsContainer()
    {
        var (_, eventGrid) = Forms();
        var container = BlobTriggers().Single(t => t.Source == "EventGrid").Path.Split('/')[0];
        var bicep = DeploymentFiles.Text("infra", "modules", "eventgrid-subscription.bicep");

        Assert.Contains($"param functionName string = '{eventGrid}'", bicep, StringComparison.Ordinal);
        Assert.Contains($"param containerName string = '{container}'", bicep, StringComparison.Ordinal);
    }

    private static (string Polling, string EventGrid) Forms()
    {
        var triggers = BlobTriggers();
        return (triggers.Single(t => t.Source != "EventGrid").Function, triggers.Single(t => t.Source == "EventGrid").Function);
    }

    private static List<(string Function, string Path, string? Source)> BlobTriggers() =>
        [.. DeploymentFiles.FunctionsMetadata()
            .SelectMany(f => f!["bindings"]!.AsArray()
                .Where(b => (string?)b!["type"] == "blobTrigger")
                .Select(b => ((string)f["name"]!, (string)b!["path"]!, (string?)b["source"])))];
}
