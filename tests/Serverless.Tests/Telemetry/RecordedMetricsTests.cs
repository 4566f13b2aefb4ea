using Serverless.Core.Datasets;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using Serverless.Core.Hosting;
using Serverless.Core.Telemetry;
using Serverless.Tests.Infrastructure;
using static Serverless.Core.Telemetry.PipelineMetrics;
using Tags = Serverless.Core.Telemetry.PipelineTelemetry.Tags;

namespace Serverless.Tests.Telemetry;

/// <summary>Metrics recorded outside a training run: quarantined uploads, and drift checks through the public recorder.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RecordedMetricsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task QuarantinedUpload_IsCountedWithModelAndReason()
    {
        var metrics = new SynchronizedCollection<MetricSnapshot>();
        await using var host = await TestHost.StartAsync(azurite, configure: builder => builder.Services.AddOpenTelemetry()
            .WithMetrics(meters => meters.AddInMemoryExporter(metrics)));

        await host.UploadAsync("counted-quarantine", "rows.xlsx", "not a data file this pipeline reads");
        // The report is written first; the count follows when the trigger's handling ends.
        MetricPoint? counted = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); counted is null && DateTime.UtcNow < deadline; await Task.Delay(200))
        {
            host.Services.GetRequiredService<MeterProvider>().ForceFlush();
            counted = LastPoints(metrics, Names.QuarantinedFiles).Cast<MetricPoint?>().FirstOrDefault(p => Tag(p!.Value, Tags.Model) == "counted-quarantine");
        }

        var point = Assert.NotNull(counted);
        Assert.Equal((1L, ReasonCodes.UnsupportedExtension), (point.GetSumLong(), Tag(point, Tags.Reason)));
    }

    [Fact]
    public void RecordDriftCheck_IsCountedPerModelVersionAndOutcome()
    {
        var metrics = new SynchronizedCollection<MetricSnapshot>();
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(PipelineTelemetry.Name).AddInMemoryExporter(metrics).Build();

        RecordDriftCheck("drift-probe", "v3", drifted: true);
        RecordDriftCheck("drift-probe", "v3", drifted: false);
        RecordDriftCheck("drift-probe", "v3", drifted: true);
        provider.ForceFlush();

        var points = LastPoints(metrics, Names.DriftChecks).Where(p => Tag(p, Tags.Model) == "drift-probe").ToList();
        Assert.Equal([("True", 2L), ("False", 1L)], points.Select(p => (Tag(p, Tags.Drifted)!, p.GetSumLong())).OrderByDescending(p => p.Item2));
        Assert.All(points, p => Assert.Equal("v3", Tag(p, Tags.ModelVersion)));
    }

    [Theory]
    [InlineData("ClientId=1b2c;Authorization=AAD", "1b2c")]
    [InlineData(" authorization=aad ; clientid=1b2c ", "1b2c")]
    [InlineData("Authorization=AAD", null)]
    [InlineData("ClientId=1b2c", null)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void AzureMonitorSignIn_ReadsTheClientIdOfAnEntraSetting(string? setting, string? clientId)
    {
        Assert.Equal(clientId, TelemetryHostingExtensions.EntraClientId(setting));
    }

    private static IEnumerable<MetricPoint> LastPoints(SynchronizedCollection<MetricSnapshot> metrics, string instrument) =>
        metrics.Snapshot().LastOrDefault(m => m.Name == instrument)?.MetricPoints ?? [];

    private static string? Tag(MetricPoint point, string name)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == name) return tag.Value?.ToString();
        }
        return null;
    }
}
