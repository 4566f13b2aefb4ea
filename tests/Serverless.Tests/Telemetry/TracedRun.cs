using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Serverless.Core.Telemetry;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Telemetry;

/// <summary>
/// One upload-to-serving run on the local host (Azurite, the real engine), traced and metered through the host's own
/// OpenTelemetry set-up with in-memory exporters: a spec and a taxi slice dropped into <c>incoming/</c>, trained until
/// production names a version, then two predictions. Run once and shared by the tests that read it.
/// </summary>
public sealed class TracedRun
{
    public const string Model = "traced-taxi";
    public const string DataBlob = Model + "/taxi-slice.csv";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TracedRun? _run;

    private TracedRun(IReadOnlyList<Activity> spans, IReadOnlyList<MetricSnapshot> metrics, string productionVersion)
    {
        Spans = spans;
        Metrics = metrics;
        ProductionVersion = productionVersion;
    }

    /// <summary>Every span the host exported during the run (other tests' hosts in this process included).</summary>
    public IReadOnlyList<Activity> Spans { get; }

    /// <summary>The pipeline's metrics as exported after the run.</summary>
    public IReadOnlyList<MetricSnapshot> Metrics { get; }

    public string ProductionVersion { get; }

    /// <summary>The trace the drop zone started for the data file.</summary>
    public ActivityTraceId DataTrace => Spans.Single(s => s.OperationName == PipelineTelemetry.Spans.DropZone
        && (string?)s.GetTagItem(PipelineTelemetry.Tags.Blob) == DataBlob).TraceId;

    public IReadOnlyList<Activity> SpansOf(ActivityTraceId trace) => [.. Spans.Where(s => s.TraceId == trace)];

    public static async Task<TracedRun> GetAsync(AzuriteFixture azurite)
    {
        await Gate.WaitAsync();
        try
        {
            return _run ??= await RunAsync(azurite);
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task<TracedRun> RunAsync(AzuriteFixture azurite)
    {
        var spans = new SynchronizedCollection<Activity>();
        var metrics = new SynchronizedCollection<MetricSnapshot>();
        await using var host = await TestHost.StartAsync(azurite, configure: builder => builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing.AddInMemoryExporter(spans))
            .WithMetrics(meters => meters.AddInMemoryExporter(metrics)));

        await host.UploadAsync(Model, "model.json", """{"label":"fare_amount","task":"regression"}""");
        await host.UploadAsync(Model, "taxi-slice.csv", TestData.TaxiSlice(2000));
        var model = await host.WaitForModelAsync(Model, m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(4));
        for (var i = 0; i < 2; i++)
        {
            var answer = await host.Client.PostAsync($"/api/models/{Model}/predict", new StringContent(TestData.TaxiRow, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        // The orchestration's span ends with the run, a moment after production moved.
        var version = await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/versions/v1");
        var instanceId = version!["manifest"]!["orchestrationId"]!.GetValue<string>();
        await host.WaitForRunAsync(instanceId, r => (string?)r["runtimeStatus"] == "Completed", TimeSpan.FromSeconds(30));
        host.Services.GetRequiredService<TracerProvider>().ForceFlush();
        host.Services.GetRequiredService<MeterProvider>().ForceFlush();
        return new TracedRun(spans.Snapshot(), metrics.Snapshot(), model["aliases"]!["production"]!.GetValue<string>());
    }
}
