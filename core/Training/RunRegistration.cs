using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;

namespace Serverless.Core.Training;

/// <summary>
/// Registers one candidate run as a new version by hand, as MLflow users register a run's model: the run's model.zip as it
/// was trained (on the train split), scored on its split's test rows and against the baseline, recorded with what it was
/// fit on, and audited. It is registered, not promoted.
/// </summary>
public sealed class RunRegistration(
    ExperimentRuns runs,
    ModelTrainer trainer,
    ModelRegistry registry,
    DatasetStore datasets,
    ModelSpecStore specs,
    ModelExplainer explainer,
    AuditLog audit)
{
    /// <summary>Registers the run; <see cref="NotFoundException"/> for an unknown run, <see cref="ConflictException"/> where it cannot be registered.</summary>
    public async Task<ModelManifest> RegisterAsync(string model, string runId, string actor, string? reason, CancellationToken ct)
    {
        var run = await runs.GetAsync(model, runId, ct).ConfigureAwait(false)
            ?? throw new NotFoundException($"Model '{model}' has no run '{runId}'; GET {Api.ApiRoutes.RunsOf(model)} lists its runs.");
        if (run.Status != RunStatus.Succeeded)
        {
            throw new ConflictException($"Run '{runId}' {run.Status}{(run.Error is null ? "" : $" ({run.Error})")}: only a run that trained successfully has a model to register.");
        }
        var input = await trainer.GetRunInputAsync(model, runId, ct).ConfigureAwait(false)
            ?? throw new ConflictException($"Run '{runId}' kept no record of the split it was trained on, so its test metrics cannot be measured; train the model again and register one of the new runs.");
        var modelBlob = ModelTrainer.RunPrefix(model, runId) + "model.zip";
        if (await registry.FindRunAsync(model, runId, ct).ConfigureAwait(false) is { } registered)
        {
            throw new ConflictException($"Run '{runId}' is already registered as {registered.Version}.");
        }
        var dataset = await datasets.GetManifestAsync(model, input.DatasetVersion, ct).ConfigureAwait(false)
            ?? throw new ConflictException($"Run '{runId}' was trained on dataset version '{input.DatasetVersion}', which no longer exists.");

        // Measured as a training run measures its winner: the test interval with the metrics, and feature importance.
        var baseline = await trainer.EvaluateBaselineAsync(model, input.DatasetVersion, input.Splits, ct).ConfigureAwait(false);
        var fit = await trainer.DescribeTrainFitAsync(input, ct).ConfigureAwait(false);
        // The spec the run was trained under, as its training run kept it; a run from before runs kept it has the spec in force now.
        var snapshot = input.Spec ?? SpecSnapshot.Of(await specs.GetCurrentAsync(model, ct).ConfigureAwait(false));
        var spec = snapshot.Spec;
        var primary = spec.Metric is { } m && Metrics.For(dataset.Schema.Task).Contains(m, StringComparer.Ordinal) ? m : Metrics.DefaultPrimary(dataset.Schema.Task);
        var test = await trainer.EvaluateAsync(new EvaluationInput(model, modelBlob, input.Splits.Test, input.DatasetVersion, input.Splits.Seed, TestChance: true, Metric: primary), ct).ConfigureAwait(false);
        var why = $"registered by hand by {actor}{(string.IsNullOrWhiteSpace(reason) ? "" : $": {reason}")}";
        var draft = new ModelManifest
        {
            Model = model,
            Version = "",
            CreatedAt = DateTimeOffset.UtcNow,
            DatasetVersion = input.DatasetVersion,
            DatasetSha256 = dataset.Sha256,
            Schema = dataset.Schema,
            Candidate = input.Candidate,
            PrimaryMetric = primary,
            ValidationMetrics = run.Metrics,
            TestMetrics = test.Metrics,
            BaselineTestMetrics = baseline.Metrics,
            Splits = input.Splits,
            ModelBlob = "",
            Sha256 = "",
            SizeBytes = 0,
            Reproducibility = ReproducibilityInfo.Capture(input.Splits.Seed, input.Candidate),
            OrchestrationId = input.OrchestrationId,
            RunId = runId,
            GateNotes = [$"Run {runId} {why}; not judged by the quality gate or against the champion."
                         + (input.Spec is null ? $" The run kept no record of its spec: the spec in force when it was registered (version {snapshot.Version}) is recorded." : "")],
            Fit = fit,
            TestMeasuredOn = MetricSet.TestOf(input.DatasetVersion, input.Splits),
            Selection = run.Selection,
            TestInterval = test.Interval,
            Spec = snapshot,
            FeatureImportance = await explainer.ExplainAsync(modelBlob, input.Splits.Test, dataset.Schema, primary, input.Splits.Seed, ct).ConfigureAwait(false),
            RegisteredBy = actor,
            // Not judged by the gate: promoting it to production takes an explicit force, as for a version that failed one.
            GatePassed = false,
        };
        var (manifest, created) = await registry.RegisterOnceAsync(draft, modelBlob, ModelCard.Render, ct).ConfigureAwait(false);
        // Registered by another call while this one measured it: one run makes one version, and one audit record.
        if (!created) throw new ConflictException($"Run '{runId}' is already registered as {manifest.Version}.");
        await audit.RecordAsync(AuditActions.Register, model, actor, why,
            RegisterAuditDetails.Of(manifest, VersionStatus.Registered) with { Manual = true, Reason = reason }, ct).ConfigureAwait(false);
        return manifest;
    }
}
