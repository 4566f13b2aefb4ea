using System.Diagnostics;
using Serverless.Core.Telemetry;
using Serverless.Core.Training;
using static Serverless.Core.Telemetry.PipelineTelemetry;

namespace Serverless.Orchestrations.Activities;

/// <summary>
/// The spans of the training workflow's activities and the tags they carry. The W3C trace context crosses the Durable
/// Task engine through the SDK's own distributed tracing (Microsoft.DurableTask 1.28): the client's
/// <c>create_orchestration</c> span is the parent of the worker's <c>orchestration</c> span, which is the parent of each
/// <c>activity</c> span; an activity's own span is a child of the latter.
/// </summary>
public static class ActivityTelemetry
{
    /// <summary>The model, dataset version and model version an activity input names (null where it names none).</summary>
    public static (string? Model, string? DatasetVersion, string? ModelVersion) Describe(object? value) => value switch
    {
        TrainingRequest r => (r.Model, r.DatasetVersion, null),
        DatasetRef d => (d.Model, d.DatasetVersion, null),
        SplitInput s => (s.Model, s.DatasetVersion, null),
        BaselineInput b => (b.Model, b.DatasetVersion, null),
        CandidateInput c => (c.Model, c.DatasetVersion, null),
        EvaluationInput e => (e.Model, e.DatasetVersion, null),
        RegisterInput r => (r.Plan.Model, r.Plan.DatasetVersion, null),
        VersionStatusInput v => (v.Model, null, v.Version),
        PromoteInput p => (p.Model, null, p.Version),
        ChampionRetainedInput c => (c.Model, null, c.Version),
        TrainingPlan p => (p.Model, p.DatasetVersion, null),
        TrainingAuditInput t => (t.Model, t.DatasetVersion, t.Version),
        RefitInput r => (r.Model, r.DatasetVersion, null),
        ComparisonInput c => (c.Model, c.DatasetVersion, null),
        FeedbackSplitInput f => (f.Model, null, null),
        RegisteredVersion v => (v.Model, null, v.Version),
        PromotionResult p => (p.Model, null, p.Version),
        _ => (null, null, null),
    };

    /// <summary>
    /// Tags the span the activity runs under (the SDK's <c>activity</c> span, or the function invocation's) and starts
    /// the activity's own span under it.
    /// </summary>
    public static Activity? Start(string activityName, object? input)
    {
        var scope = Describe(input);
        Tag(Activity.Current, scope);
        var span = Source.StartActivity(activityName);
        if (span is null) return null;
        span.SetTag(Tags.Activity, activityName);
        Tag(span, scope);
        if (input is CandidateInput candidate)
        {
            span.SetTag(Tags.Trainer, candidate.Candidate.Trainer);
            span.SetTag(Tags.InstanceId, candidate.OrchestrationId);
        }
        return span;
    }

    /// <summary>Adds what the output names (the version a registration made) to the span.</summary>
    public static void Ended(Activity? span, object? output)
    {
        if (span is null) return;
        var (_, datasetVersion, modelVersion) = Describe(output);
        if (datasetVersion is not null) span.SetTag(Tags.DatasetVersion, datasetVersion);
        if (modelVersion is not null) span.SetTag(Tags.ModelVersion, modelVersion);
    }

    /// <summary>Tags a span with the model and versions of a workflow input (the orchestration's span, too).</summary>
    public static void Tag(Activity? span, object? input) => Tag(span, Describe(input));

    private static void Tag(Activity? span, (string? Model, string? DatasetVersion, string? ModelVersion) scope)
    {
        if (span is null) return;
        if (scope.Model is not null) span.SetTag(Tags.Model, scope.Model);
        if (scope.DatasetVersion is not null) span.SetTag(Tags.DatasetVersion, scope.DatasetVersion);
        if (scope.ModelVersion is not null) span.SetTag(Tags.ModelVersion, scope.ModelVersion);
    }
}
