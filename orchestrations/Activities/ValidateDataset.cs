using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations.Activities;

/// <summary>A dataset version that must not be trained on: its data is gone or changed, or the run's spec no longer describes it.</summary>
public sealed class DatasetValidationException(string message) : Exception(message);

/// <summary>
/// Checks a dataset version before anything trains on it: its data blob exists and was not rewritten since ingestion (its
/// ETag), and the run's spec still describes it:
/// same label, task and time column, and no column the spec now calls sensitive or excluded among the features the data
/// was ingested with. A spec changed after ingestion in these respects needs the data ingested again; training on the old
/// version would silently ignore the change. The spec is compared with the snapshot kept in the dataset version, so this
/// reads no data: the data's sha256 is checked where it is read (<see cref="Serverless.Core.Training.ModelTrainer.SplitAsync"/>).
/// </summary>
public sealed class ValidateDataset(PipelineStorage storage, DatasetStore datasets, ModelSpecStore specs, AuditLog audit)
    : PipelineActivity<DatasetRef, DatasetCheck>
{
    public override async Task<DatasetCheck> RunAsync(DatasetRef input, CancellationToken cancellationToken)
    {
        var manifest = await datasets.GetManifestAsync(input.Model, input.DatasetVersion, cancellationToken)
            ?? throw new DatasetValidationException($"Model '{input.Model}' has no dataset version '{input.DatasetVersion}'.");
        var problems = new List<string>();
        var etag = await ETagAsync(manifest.DataBlob, cancellationToken);
        if (etag is null)
        {
            problems.Add($"The data of {manifest.Version} (datasets/{manifest.DataBlob}) is missing.");
        }
        else if (manifest.DataETag is { } recorded && recorded != etag)
        {
            // The blob was rewritten since ingestion: whatever it holds now is not what was checked and profiled.
            var integrity = $"The data of {manifest.Version} was changed after ingestion: the blob datasets/{manifest.DataBlob} was rewritten (ETag {etag}, the manifest records {recorded}). Upload the data again.";
            await audit.RecordAsync(AuditActions.IntegrityFailure, input.Model, "training", integrity, new { input.DatasetVersion }, cancellationToken);
            throw new DatasetValidationException($"Dataset {input.Model}/{manifest.Version} cannot be trained on: {integrity}");
        }

        var spec = input.Spec ?? SpecSnapshot.Of(await specs.GetCurrentAsync(input.Model, cancellationToken));
        // The same spec the data was ingested under describes it by construction.
        if (manifest.Spec?.Sha256 != spec.Sha256) problems.AddRange(Mismatches(spec.Spec, manifest));

        if (problems.Count > 0)
        {
            await audit.RecordAsync(AuditActions.DatasetRejected, input.Model, "training", string.Join(" ", problems), new { input.DatasetVersion, Problems = problems }, cancellationToken);
            var remedy = problems.Any(p => p.Contains("spec", StringComparison.Ordinal))
                ? " Upload the data again so that it is ingested under the current spec."
                : "";
            throw new DatasetValidationException($"Dataset {input.Model}/{manifest.Version} cannot be trained on: {string.Join(" ", problems)}{remedy}");
        }
        return new DatasetCheck(manifest.Version, manifest.Sha256, manifest.Rows);
    }

    /// <summary>Where a spec no longer describes a dataset version ingested under another spec.</summary>
    public static IEnumerable<string> Mismatches(ModelSpec spec, DatasetManifest manifest)
    {
        var schema = manifest.Schema;
        if (spec.Label is { } label && !label.Equals(schema.Label, StringComparison.Ordinal))
        {
            yield return $"The spec's label is '{label}', but {manifest.Version} was ingested with label '{schema.Label}'.";
        }
        if (spec.Task is { } task && task != schema.Task)
        {
            yield return $"The spec's task is {task}, but {manifest.Version} was ingested as {schema.Task}.";
        }
        if (spec.TimeColumn is { } time && schema.Columns.All(c => c.Name != time))
        {
            yield return $"The spec's time column '{time}' is not a column of {manifest.Version}.";
        }
        foreach (var column in (spec.Sensitive ?? []).Intersect(schema.Features, StringComparer.Ordinal))
        {
            yield return $"Column '{column}' is sensitive in the spec, but {manifest.Version} was ingested with it as a feature.";
        }
        foreach (var column in (spec.Exclude ?? []).Intersect(schema.Features, StringComparer.Ordinal))
        {
            yield return $"Column '{column}' is excluded in the spec, but {manifest.Version} was ingested with it as a feature.";
        }
    }

    private async Task<string?> ETagAsync(string blob, CancellationToken ct)
    {
        try
        {
            return (await storage.Datasets.GetBlobClient(blob).GetPropertiesAsync(cancellationToken: ct)).Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound || e.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            return null;
        }
    }
}
