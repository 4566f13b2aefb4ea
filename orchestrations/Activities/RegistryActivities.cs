using System.Reflection;
using System.Runtime.InteropServices;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Tracking;
using Serverless.Core.Training;

namespace Serverless.Orchestrations.Activities;

/// <summary>Registers the winner as the next immutable version, with its manifest and model card, and audits it.</summary>
public sealed class RegisterModel(ModelRegistry registry, Serverless.Core.Datasets.DatasetStore datasets, AuditLog audit)
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
            ChampionTestMetrics = input.Champion?.Metrics,
            ChampionVersion = input.Champion is null ? null : plan.ChampionVersion,
            Splits = input.Splits,
            ModelBlob = "",
            Sha256 = "",
            SizeBytes = 0,
            Reproducibility = Reproducibility(plan.Seed),
            OrchestrationId = input.OrchestrationId,
            RunId = input.Winner.RunId,
            GateNotes = input.GateNotes,
        };
        var manifest = await registry.RegisterAsync(draft, input.Winner.ModelBlob!, ModelCard.Render, cancellationToken);
        await registry.SetStatusAsync(plan.Model, manifest.Version, input.Status, cancellationToken);
        await registry.SetAliasAsync(plan.Model, ModelRegistry.Staging, manifest.Version, "training", $"registered by {input.OrchestrationId}", cancellationToken);
        await audit.RecordAsync("register", plan.Model, "training", new
        {
            manifest.Version,
            manifest.DatasetVersion,
            manifest.Candidate.Trainer,
            manifest.Candidate.Parameters,
            manifest.TestMetrics,
            manifest.Sha256,
            input.OrchestrationId,
            input.Status,
        }, cancellationToken);
        return new RegisteredVersion(plan.Model, manifest.Version, manifest.Sha256);
    }

    /// <summary>What it takes to train the same model again: seed, library and code versions, runtime.</summary>
    public static Reproducibility Reproducibility(int seed) => new(
        seed,
        typeof(Microsoft.ML.MLContext).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(Microsoft.ML.MLContext).Assembly.GetName().Version?.ToString() ?? "unknown",
        typeof(RegisterModel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription);
}

/// <summary>Records the outcome of the approval gate on a version and audits it.</summary>
public sealed class SetVersionStatus(ModelRegistry registry, AuditLog audit) : PipelineActivity<VersionStatusInput, RegisteredVersion>
{
    public override async Task<RegisteredVersion> RunAsync(VersionStatusInput input, CancellationToken cancellationToken)
    {
        await registry.SetStatusAsync(input.Model, input.Version, input.Status, cancellationToken);
        await audit.RecordAsync(input.Status, input.Model, input.Actor, new { input.Version, input.Reason }, cancellationToken);
        var manifest = await registry.GetManifestAsync(input.Model, input.Version, cancellationToken);
        return new RegisteredVersion(input.Model, input.Version, manifest?.Sha256 ?? "");
    }
}

/// <summary>
/// Points <c>production</c> at a version if it still points at the champion the run compared against (a compare-and-swap
/// on the registry), audits the move and tells this process's prediction cache. When production moved meanwhile, nothing
/// changes and the answer names the new champion.
/// </summary>
public sealed class PromoteModel(ModelRegistry registry, AuditLog audit, PredictionService predictions) : PipelineActivity<PromoteInput, PromotionResult>
{
    public override async Task<PromotionResult> RunAsync(PromoteInput input, CancellationToken cancellationToken)
    {
        var swap = await registry.CompareAndSetAliasAsync(
            input.Model, ModelRegistry.Production, input.Version, input.ExpectedProduction, input.Actor, input.Reason, cancellationToken);
        if (!swap.Swapped)
        {
            if (swap.Current == input.Version)
            {
                // This run's earlier attempt promoted it (the activity ran again after a crash): the same answer.
                return new PromotionResult(input.Model, input.Version, input.ExpectedProduction, true);
            }
            var blob = swap.Current is null ? null : (await registry.GetManifestAsync(input.Model, swap.Current, cancellationToken))?.ModelBlob;
            return new PromotionResult(input.Model, input.Version, swap.Current, false, blob);
        }
        await audit.RecordAsync("promote", input.Model, input.Actor, new { From = input.ExpectedProduction, To = input.Version, input.Reason }, cancellationToken);
        await predictions.RefreshAsync(input.Model, cancellationToken);
        return new PromotionResult(input.Model, input.Version, input.ExpectedProduction, true);
    }
}

/// <summary>Records on the model and in the audit that a registered winner lost to a champion promoted while its run went on.</summary>
public sealed class RecordChampionRetained(ModelRegistry registry, AuditLog audit) : PipelineActivity<ChampionRetainedInput, RegisteredVersion>
{
    public override async Task<RegisteredVersion> RunAsync(ChampionRetainedInput input, CancellationToken cancellationToken)
    {
        await audit.RecordAsync("championRetained", input.Model, "training", new { input.Version, input.Champion, input.OrchestrationId, input.Reason }, cancellationToken);
        var manifest = await registry.GetManifestAsync(input.Model, input.Version, cancellationToken);
        return new RegisteredVersion(input.Model, input.Version, manifest?.Sha256 ?? "");
    }
}
