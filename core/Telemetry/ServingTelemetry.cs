using System.Diagnostics;
using System.Runtime.CompilerServices;
using Serverless.Core.Serving;
using static Serverless.Core.Telemetry.PipelineTelemetry;

namespace Serverless.Core.Telemetry;

/// <summary>
/// What serving records per predict request: the metrics of <see cref="PipelineMetrics.RecordPrediction"/>, the model and
/// version on the request's span, and, for the first request a loaded version answers on this host, a
/// <see cref="Spans.FirstPrediction"/> span in the trace of the run that registered it, linked to the request's span.
/// </summary>
internal static class ServingTelemetry
{
    private static readonly ConditionalWeakTable<LoadedModel, object> Served = [];

    public static void Predicted(LoadedModel loaded, int rows, long startedTimestamp, string requestId)
    {
        var manifest = loaded.Manifest;
        var elapsed = Stopwatch.GetElapsedTime(startedTimestamp);
        PipelineMetrics.RecordPrediction(manifest.Model, manifest.Version, rows, elapsed);
        var request = Activity.Current;
        if (request is { IsAllDataRequested: true })
        {
            // Tags of a request that is not recorded go nowhere: not set, as each costs an allocation on the hottest route.
            request.SetTag(Tags.Model, manifest.Model);
            request.SetTag(Tags.ModelVersion, manifest.Version);
        }
        if (!Source.HasListeners() || !Served.TryAdd(loaded, Served)) return;

        // Parented by the registration, so the upload's trace ends with the version serving; linked to the request.
        ActivityContext.TryParse(manifest.TraceParent, null, isRemote: true, out var registration);
        var links = request is null ? null : new[] { new ActivityLink(request.Context) };
        using var span = Source.StartActivity(Spans.FirstPrediction, ActivityKind.Internal,
            registration == default ? request?.Context ?? default : registration, links: links, startTime: DateTimeOffset.UtcNow - elapsed);
        if (span is null) return;
        span.SetTag(Tags.Model, manifest.Model);
        span.SetTag(Tags.ModelVersion, manifest.Version);
        span.SetTag(Tags.DatasetVersion, manifest.DatasetVersion);
        span.SetTag(Tags.InstanceId, manifest.OrchestrationId);
        span.SetTag(Tags.RequestId, requestId);
    }
}
