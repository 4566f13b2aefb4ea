using System.Text.Json.Nodes;
using Serverless.Core.Api;
using Serverless.LocalHost.Durable;

namespace Serverless.Tests.Infra;

/// <summary>host.json gives Durable Functions the task hub and partitions the local host's engine uses, and the API its prefix.</summary>
public sealed class HostJsonTests
{
    private static readonly JsonNode Host = JsonNode.Parse(DeploymentFiles.Text("host.json"))!;

    [Fact]
    public void DurableTask_HubAndPartitions_MatchTheLocalHostDefaults()
    {
        var engine = new DurableEngineOptions();
        var durable = Host["extensions"]!["durableTask"]!;

        Assert.Equal(engine.TaskHubName, (string?)durable["hubName"]);
        Assert.Equal(engine.PartitionCount, (int?)durable["storageProvider"]!["partitionCount"]);
    }

    [Fact]
    public void Http_RoutePrefix_IsTheSharedPrefix()
    {
        Assert.Equal(ApiRoutes.Prefix, (string?)Host["extensions"]!["http"]!["routePrefix"]);
    }

    [Fact]
    public void FunctionTimeout_IsBoundedAndLongEnoughForTraining()
    {
        var timeout = TimeSpan.Parse((string)Host["functionTimeout"]!, System.Globalization.CultureInfo.InvariantCulture);

        Assert.InRange(timeout, TimeSpan.FromMinutes(30), TimeSpan.FromHours(2));
    }

    [Fact]
    public void Telemetry_HostAndDurable_EmitOpenTelemetryTraces()
    {
        var tracing = Host["extensions"]!["durableTask"]!["tracing"]!;

        Assert.Equal(("OpenTelemetry", true, "V2"), ((string?)Host["telemetryMode"], (bool?)tracing["distributedTracingEnabled"], (string?)tracing["version"]));
    }

    [Fact]
    public void Logging_InOpenTelemetryMode_HasNoApplicationInsightsSection()
    {
        // With telemetryMode OpenTelemetry the host does not use logging.applicationInsights (its sampling settings
        // included): such a section would only promise what does not happen.
        var applicationInsights = Host["logging"]?["applicationInsights"];

        Assert.Equal(("OpenTelemetry", null), ((string?)Host["telemetryMode"], applicationInsights?.ToJsonString()));
    }
}
