using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

namespace Serverless.Orchestrations.Activities;

/// <summary>Registers the winner as the next immutable version, with its manifest and model card, and audits it.</summary>
public sealed class RegisterModel(ModelRegistry registry, Serverless.Core.Datasets.DatasetStore datasets, ModelExplainer explainer, AuditLog audit)
    : PipelineActivity<RegisterInput, RegisteredVersion>
{
    public override async Task<RegisteredVersion> RunAsync(RegisterInput input, CancellationToken cancellationToken)
    {
        var plan = input.Plan;
        var dataset = await datasets.GetManifestAsync(plan.Model, plan.DatasetVersion, cancellationToken)
            ?? throw new NotFoundException($"Dataset version '{plan.DatasetVersion}' of '{plan.Model}' disappeared before registration.");
        var draft = new ModelManifest
        {
            Model = plan.Model,
            Version = "",
            CreatedAt = DateTimeOffset.UtcNow,
            DatasetVersion = plan.DatasetVersion,
            DatasetSha256 = plan.DatasetSha256,
            Schema = dataset.Schema,
            Candidate = input.Winner.Candidate,
            PrimaryMetric = plan.PrimaryMetric,
            ValidationMetrics = input.Winner.ValidationMetrics,
            TestMetrics = input.WinnerTest.Metrics,
            BaselineTestMetrics = input.Baseline.Metrics,
            ChampionTestMetrics = input.Comparison?.ChampionMetrics ?? input.Champion?.Metrics,
            ChampionVersion = input.Comparison?.ChampionVersion ?? (input.Champion is null ? null : plan.ChampionVersion),
            Splits = input.Splits,
            ModelBlob = "",
            Sha256 = "",
            SizeBytes = 0,
            Reproducibility = ReproducibilityInfo.Capture(plan.Seed, input.Winner.Candidate, plan.SimplerWithin),
            OrchestrationId = input.OrchestrationId,
            RunId = input.Winner.RunId,
            GateNotes = input.GateNotes,
            Fit = input.Fit,
            TestMeasuredOn = MetricSet.TestOf(plan.DatasetVersion, input.Splits),
            TestInterval = input.WinnerTest.Interval,
            Selection = input.Winner.Selection,
            ChampionComparison = input.Comparison,
            Spec = plan.Spec,
            FeatureImportance = await explainer.ExplainAsync(input.Fit?.ModelBlob ?? input.Winner.ModelBlob!, input.Splits.Test, dataset.Schema, plan.PrimaryMetric, plan.Seed, cancellationToken),
            TraceParent = Activity.Current?.Id,
        };
        var manifest = await registry.RegisterAsync(draft, input.Fit?.ModelBlob ?? input.Winner.ModelBlob!, ModelCard.Render, cancellationToken);
        var refused = await registry.StageAsync(plan.Model, manifest.Version, input.Status, input.OrchestrationId,
            input.Status == VersionStatus.PendingApproval ? "registered; waits for a decision at the approval gate" : "registered; the spec asks for no approval", cancellationToken);
        var terminated = refused is not null && await registry.IsTerminatedAsync(plan.Model, input.OrchestrationId, cancellationToken);
        await audit.RecordAsync(AuditActions.Register, plan.Model, ModelRegistry.TrainingActor, $"winner of training run {input.OrchestrationId}",
            RegisterAuditDetails.Of(manifest, refused is null ? input.Status : terminated ? VersionStatus.Rejected : null), cancellationToken);
        if (terminated)
        {
            await audit.RecordAsync(AuditActions.Rejected, plan.Model, ModelRegistry.TrainingActor, $"training run {input.OrchestrationId} was terminated while it registered this version",
                new { manifest.Version, input.OrchestrationId }, cancellationToken);
        }
        return new RegisteredVersion(plan.Model, manifest.Version, manifest.Sha256);
    }
}

/// <summary>Records the outcome of the approval gate on a version still waiting for it, and audits it.</summary>
public sealed class SetVersionStatus(ModelRegistry registry, AuditLog audit) : PipelineActivity<VersionStatusInput, RegisteredVersion>
{
    public override async Task<RegisteredVersion> RunAsync(VersionStatusInput input, CancellationToken cancellationToken)
    {
        // Only a version still waiting: a terminate racing the decision may have recorded it (or rejected the version) first.
        if (await registry.DecidePendingAsync(input.Model, input.Version, input.Status, input.Actor, input.Reason, cancellationToken))
        {
            await audit.RecordAsync(input.Status, input.Model, input.Actor, input.Reason, new { input.Version }, cancellationToken);
        }
        var manifest = await registry.GetManifestAsync(input.Model, input.Version, cancellationToken);
        return new RegisteredVersion(input.Model, input.Version, manifest?.Sha256 ?? "");
    }
}

/// <summary>
/// Points <c>production</c> at a version if it still points at the champion the run compared against (a compare-and-swap
/// on the registry), audits the move and tells this process's prediction cache. When production moved meanwhile, nothing
/// changes and the answer names the new champion. A version whose stored bytes fail their check against its manifest is
/// never served, so production is not moved onto it (as a promotion by hand is refused; audited as an integrity failure).
/// </summary>
public sealed class PromoteModel(ModelRegistry registry, ModelIntegrity integrity, AuditLog audit, PredictionService predictions) : PipelineActivity<PromoteInput, PromotionResult>
{
    public override async Task<PromotionResult> RunAsync(PromoteInput input, CancellationToken cancellationToken)
    {
        try
        {
            await integrity.LoadAsync(input.Model, input.Version, input.Actor, cancellationToken);
        }
        catch (ModelUnavailableException e)
        {
            return new PromotionResult(input.Model, input.Version, input.ExpectedProduction, false, IntegrityFailure: e.Message);
        }
        var swap = await registry.CompareAndSetAliasAsync(
            input.Model, ModelRegistry.Production, input.Version, input.ExpectedProduction, input.Actor, input.Reason, cancellationToken, input.OrchestrationId);
        if (swap.Stopped)
        {
            // A person terminated the run while this promotion was on its way: production stays where it is.
            return new PromotionResult(input.Model, input.Version, swap.Current, false);
        }
        if (!swap.Swapped)
        {
            if (swap.Current == input.Version)
            {
                // This run's earlier attempt promoted it (the activity ran again after a crash): the same answer.
                return new PromotionResult(input.Model, input.Version, input.ExpectedProduction, true);
            }
            var current = swap.Current is null ? null : await registry.GetManifestAsync(input.Model, swap.Current, cancellationToken);
            return new PromotionResult(input.Model, input.Version, swap.Current, false, current?.ModelBlob, current?.Fit?.RowHashesBlob);
        }
        await audit.RecordAsync(AuditActions.Promote, input.Model, input.Actor, input.Reason, new { From = input.ExpectedProduction, To = input.Version }, cancellationToken);
        await predictions.RefreshAsync(input.Model, cancellationToken);
        return new PromotionResult(input.Model, input.Version, input.ExpectedProduction, true);
    }
}

/// <summary>
/// Records on the model (its registry's <c>championRetained</c> list) and in the audit that a run's winner did not replace
/// the champion, with both numbers, the rows they were measured on and the tolerance.
/// </summary>
public sealed class RecordChampionRetained(ModelRegistry registry, AuditLog audit) : PipelineActivity<ChampionRetainedInput, RegisteredVersion>
{
    public override async Task<RegisteredVersion> RunAsync(ChampionRetainedInput input, CancellationToken cancellationToken)
    {
        var c = input.Comparison;
        await registry.RecordChampionRetainedAsync(input.Model,
            new ChampionRetained(DateTimeOffset.UtcNow, input.OrchestrationId, input.Version, input.Candidate, c, input.Reason), cancellationToken);
        await audit.RecordAsync(AuditActions.ChampionRetained, input.Model, AuditActors.Training, input.Reason, new
        {
            input.Version,
            input.Champion,
            input.Candidate,
            input.OrchestrationId,
            Metric = c?.Metric,
            Challenger = c?.Challenger,
            ChampionValue = c?.Champion,
            Tolerance = c?.Tolerance,
            MeasuredOn = c?.MeasuredOn,
        }, cancellationToken);
        var manifest = input.Version is null ? null : await registry.GetManifestAsync(input.Model, input.Version, cancellationToken);
        return new RegisteredVersion(input.Model, input.Version ?? "", manifest?.Sha256 ?? "");
    }
}
