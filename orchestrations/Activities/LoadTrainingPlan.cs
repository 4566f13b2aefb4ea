using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Microsoft.Extensions.Options;

namespace Serverless.Orchestrations.Activities;

/// <summary>Resolves the dataset version, the spec, the candidates and the current champion into one plan.</summary>
public sealed class LoadTrainingPlan(DatasetStore datasets, ModelSpecStore specs, ModelTrainer trainer, ModelRegistry registry, IOptions<TrainingOptions> options)
    : PipelineActivity<TrainingRequest, TrainingPlan>
{
    public override async Task<TrainingPlan> RunAsync(TrainingRequest input, CancellationToken cancellationToken)
    {
        // A bad training setting fails the run here, naming the setting, before any work is done.
        options.Value.Validate();
        var dataset = input.DatasetVersion is null
            ? await datasets.GetLatestAsync(input.Model, cancellationToken)
            : await datasets.GetManifestAsync(input.Model, input.DatasetVersion, cancellationToken);
        if (dataset is null)
        {
            throw new NotFoundException(input.DatasetVersion is null
                ? $"Model '{input.Model}' has no dataset yet; drop a data file into incoming/{input.Model}/."
                : $"Model '{input.Model}' has no dataset version '{input.DatasetVersion}'.");
        }
        // The spec in force now is the run's snapshot: every later step reads it from the plan, never the live spec.
        var snapshot = SpecSnapshot.Of(await specs.GetCurrentAsync(input.Model, cancellationToken));
        var spec = snapshot.Spec;
        var schema = dataset.Schema;
        var metric = spec.Metric ?? Metrics.DefaultPrimary(schema.Task);
        if (!Metrics.For(schema.Task).Contains(metric, StringComparer.Ordinal))
        {
            throw new InvalidOperationException(
                $"The spec's metric '{metric}' is not reported for a {ModelSpecValidation.TaskName(schema.Task)} task; use one of {string.Join(", ", Metrics.For(schema.Task))}.");
        }

        string? championVersion = await registry.ResolveAliasAsync(input.Model, ModelRegistry.Production, cancellationToken);
        var champion = championVersion is null ? null : await registry.GetManifestAsync(input.Model, championVersion, cancellationToken);

        return new TrainingPlan(
            input.Model,
            dataset.Version,
            dataset.Sha256,
            schema.Task,
            metric,
            spec.Seed ?? options.Value.Seed,
            spec.TimeColumn ?? schema.TimeColumn,
            trainer.Candidates(dataset, spec),
            spec.Minimum ?? [],
            spec.ChampionTolerance ?? 0.01,
            spec.Approval ?? ApprovalMode.Auto,
            spec.ApprovalTimeout ?? TimeSpan.FromHours(72),
            championVersion,
            champion?.ModelBlob,
            champion?.Fit?.RowHashesBlob,
            snapshot,
            options.Value.CrossValidationFolds,
            options.Value.CrossValidationMaxRows,
            spec.SimplerWithin ?? options.Value.SimplerWithin);
    }
}
