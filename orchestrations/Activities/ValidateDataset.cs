using System.Security.Cryptography;
using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations.Activities;

/// <summary>A dataset version that must not be trained on: changed since ingestion, or no longer described by the model's spec.</summary>
public sealed class DatasetValidationException(string message) : Exception(message);

/// <summary>
/// Checks a dataset version before anything trains on it: its data is the data that was ingested (sha256 of the stored
/// blob against the manifest), and the model's current spec still describes it: same label, task and time column, and
/// no column the spec now calls sensitive or excluded among the features the data was ingested with. A spec changed
/// after ingestion needs the data uploaded again; training on the old version would silently ignore the change.
/// </summary>
public sealed class ValidateDataset(PipelineStorage storage, DatasetStore datasets, ModelSpecStore specs, AuditLog audit)
    : PipelineActivity<DatasetRef, DatasetCheck>
{
    public override async Task<DatasetCheck> RunAsync(DatasetRef input, CancellationToken cancellationToken)
    {
        var manifest = await datasets.GetManifestAsync(input.Model, input.DatasetVersion, cancellationToken)
            ?? throw new DatasetValidationException($"Model '{input.Model}' has no dataset version '{input.DatasetVersion}'.");
        var problems = new List<string>();
        var sha = await HashAsync(manifest.DataBlob, cancellationToken);
        if (sha is null)
        {
            problems.Add($"The data of {manifest.Version} (datasets/{manifest.DataBlob}) is missing.");
        }
        else if (!sha.Equals(manifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"The data of {manifest.Version} was changed after ingestion: its sha256 is {sha}, the manifest records {manifest.Sha256}.");
        }

        var spec = await specs.GetAsync(input.Model, cancellationToken);
        var schema = manifest.Schema;
        if (spec.Label is { } label && !label.Equals(schema.Label, StringComparison.Ordinal))
        {
            problems.Add($"The spec's label is '{label}', but {manifest.Version} was ingested with label '{schema.Label}'.");
        }
        if (spec.Task is { } task && task != schema.Task)
        {
            problems.Add($"The spec's task is {task}, but {manifest.Version} was ingested as {schema.Task}.");
        }
        if (spec.TimeColumn is { } time && schema.Columns.All(c => c.Name != time))
        {
            problems.Add($"The spec's time column '{time}' is not a column of {manifest.Version}.");
        }
        foreach (var column in (spec.Sensitive ?? []).Intersect(schema.Features, StringComparer.Ordinal))
        {
            problems.Add($"Column '{column}' is sensitive in the spec, but {manifest.Version} was ingested with it as a feature.");
        }
        foreach (var column in (spec.Exclude ?? []).Intersect(schema.Features, StringComparer.Ordinal))
        {
            problems.Add($"Column '{column}' is excluded in the spec, but {manifest.Version} was ingested with it as a feature.");
        }

        if (problems.Count > 0)
        {
            await audit.RecordAsync("datasetRejected", input.Model, "training", new { input.DatasetVersion, Problems = problems }, cancellationToken);
            var remedy = problems.Any(p => p.Contains("spec", StringComparison.Ordinal))
                ? " Upload the data again so that it is ingested under the current spec."
                : "";
            throw new DatasetValidationException($"Dataset {input.Model}/{manifest.Version} cannot be trained on: {string.Join(" ", problems)}{remedy}");
        }
        return new DatasetCheck(manifest.Version, manifest.Sha256, manifest.Rows);
    }

    private async Task<string?> HashAsync(string blob, CancellationToken ct)
    {
        try
        {
            await using var stream = await storage.Datasets.GetBlobClient(blob).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = 4 << 20 }, ct);
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct));
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
        {
            return null;
        }
    }
}
