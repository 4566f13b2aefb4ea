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
/// ETag), and the run's spec still describes it (<see cref="SpecFit"/>). The spec is compared with the snapshot kept in
/// the dataset version, so this reads no data: the data's sha256 is checked where it is read
/// (<see cref="Serverless.Core.Training.ModelTrainer.SplitAsync"/>).
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
            await audit.RecordAsync(AuditActions.IntegrityFailure, input.Model, AuditActors.Training, integrity, new { input.DatasetVersion }, cancellationToken);
            throw new DatasetValidationException($"Dataset {input.Model}/{manifest.Version} cannot be trained on: {integrity}");
        }

        var spec = input.Spec ?? SpecSnapshot.Of(await specs.GetCurrentAsync(input.Model, cancellationToken));
        var mismatches = SpecFit.Mismatches(spec.Spec, spec.Sha256, manifest);
        problems.AddRange(mismatches);

        if (problems.Count > 0)
        {
            await audit.RecordAsync(AuditActions.DatasetRejected, input.Model, AuditActors.Training, string.Join(" ", problems), new { input.DatasetVersion, Problems = problems }, cancellationToken);
            var remedy = mismatches.Count > 0 ? " " + SpecFit.Remedy : "";
            throw new DatasetValidationException($"Dataset {input.Model}/{manifest.Version} cannot be trained on: {string.Join(" ", problems)}{remedy}");
        }
        return new DatasetCheck(manifest.Version, manifest.Sha256, manifest.Rows);
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
