using OpenTelemetry.Metrics;
using Serverless.Core.Telemetry;
using Serverless.Tests.Infrastructure;
using static Serverless.Core.Telemetry.PipelineMetrics;
using Tags = Serverless.Core.Telemetry.PipelineTelemetry.Tags;

namespace Serverless.Tests.Telemetry;

/// <summary>The pipeline's metrics as the host's own meter provider exports them after an upload-to-serving run.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PipelineMetricsTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Predictions_AreCountedPerModelAndVersion()
    {
        var run = await TracedRun.GetAsync(azurite);

        var rows = Points(run, Names.Predictions).Where(p => Tag(p, Tags.ModelVersion) == run.ProductionVersion).Sum(p => p.GetSumLong());

        Assert.Equal(2, rows);
    }

    [Fact]
    public async Task PredictionLatency_IsAHistogramPerModelAndVersion()
    {
        var run = await TracedRun.GetAsync(azurite);

        var point = Assert.Single(Points(run, Names.PredictionDuration), p => Tag(p, Tags.ModelVersion) == run.ProductionVersion);

        Assert.Equal(2, point.GetHistogramCount());
        Assert.InRange(point.GetHistogramSum(), double.Epsilon, 60);
    }

    [Fact]
    public async Task TrainingDuration_IsRecordedPerTrainer()
    {
        var run = await TracedRun.GetAsync(azurite);

        var points = Points(run, Names.TrainingDuration).ToList();

        Assert.True(points.Select(p => Tag(p, Tags.Trainer)).Distinct().Count() >= 3, "fewer than three trainers recorded");
        Assert.All(points, p => Assert.Equal("succeeded", Tag(p, Tags.Outcome)));
        Assert.All(points, p => Assert.InRange(p.GetHistogramSum(), double.Epsilon, 600));
    }

    private static IEnumerable<MetricPoint> Points(TracedRun run, string instrument) =>
        // Cumulative: the last export holds the totals.
        (run.Metrics.LastOrDefault(m => m.Name == instrument)?.MetricPoints ?? []).Where(p => Tag(p, Tags.Model) == TracedRun.Model);

    private static string? Tag(MetricPoint point, string name)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == name) return tag.Value?.ToString();
        }
        return null;
    }
}
