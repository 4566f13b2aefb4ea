using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Serverless.Core.Telemetry;

/// <summary>
/// The pipeline's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, the names of its spans and of the tags they
/// carry. The spans of one uploaded file form one trace: the blob trigger (<see cref="Spans.DropZone"/>), ingestion, the
/// Durable Task SDK's orchestration and activity spans (the SDK carries the W3C trace context through the engine), each
/// activity's own span, registration, and the first prediction a host serves from the new version.
/// </summary>
public static class PipelineTelemetry
{
    /// <summary>The name of the pipeline's <see cref="ActivitySource"/> and <see cref="Meter"/>.</summary>
    public const string Name = "Serverless.Pipeline";

    /// <summary>The Durable Task SDK's source of orchestration, activity and create-orchestration spans.</summary>
    public const string DurableTaskSource = "Microsoft.DurableTask";

    public static ActivitySource Source { get; } = new(Name, Version);

    public static Meter Meter { get; } = new(Name, Version);

    private static string? Version => typeof(PipelineTelemetry).Assembly.GetName().Version?.ToString();

    /// <summary>Span names (each workflow activity's span is named for the activity class).</summary>
    public static class Spans
    {
        public const string DropZone = "mlops.drop_zone";
        public const string Ingest = "mlops.ingest";
        public const string FirstPrediction = "mlops.first_prediction";
    }

    /// <summary>Tag (attribute) names shared by spans and metrics.</summary>
    public static class Tags
    {
        public const string Model = "mlops.model";
        public const string ModelVersion = "mlops.model.version";
        public const string DatasetVersion = "mlops.dataset.version";
        public const string Blob = "mlops.blob";
        public const string IngestionStatus = "mlops.ingestion.status";
        public const string Reason = "mlops.reason";
        public const string InstanceId = "mlops.orchestration.id";
        public const string Activity = "mlops.activity";
        public const string Trainer = "mlops.trainer";
        public const string Outcome = "mlops.outcome";
        public const string Drifted = "mlops.drifted";
        public const string RequestId = "mlops.request_id";
    }

    /// <summary>Starts a pipeline span for a model (null when nothing listens).</summary>
    public static Activity? Start(string name, string? model, ActivityKind kind = ActivityKind.Internal)
    {
        var activity = Source.StartActivity(name, kind);
        if (activity is not null && model is not null) activity.SetTag(Tags.Model, model);
        return activity;
    }

    /// <summary>Records an exception on the span and marks it failed.</summary>
    public static void Fail(this Activity? activity, Exception exception)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.AddException(exception);
    }
}
