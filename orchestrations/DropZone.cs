using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Workflows;

namespace Serverless.Orchestrations;

/// <summary>What the blob trigger did with one uploaded blob.</summary>
public sealed record DropZoneResult(IngestionOutcome Ingestion, string? InstanceId);

/// <summary>
/// The blob trigger's logic, shared by both hosts: ingest the uploaded blob and, for new data, start a training run whose
/// instance id is derived from the dataset version, so the same content never starts two runs.
/// </summary>
public sealed class DropZone(DatasetIngestor ingestor, ILogger<DropZone> logger)
{
    public static string TrainingInstanceId(string model, string datasetVersion) => $"train-{model}-{datasetVersion}";

    public async Task<DropZoneResult> HandleAsync(string blobName, IWorkflowClient workflows, CancellationToken cancellationToken)
    {
        var outcome = await ingestor.IngestAsync(blobName, cancellationToken);
        logger.LogInformation("Ingested {BlobName}: {IngestionStatus} {DatasetVersion} {ReasonCodes}",
            blobName, outcome.Status, outcome.DatasetVersion, string.Join(",", outcome.ReasonCodes));
        if (outcome.DatasetVersion is null || outcome.Status is not (IngestionStatus.Accepted or IngestionStatus.Duplicate))
        {
            return new DropZoneResult(outcome, null);
        }

        var instanceId = TrainingInstanceId(outcome.Model, outcome.DatasetVersion);
        if (outcome.Status == IngestionStatus.Duplicate && await workflows.GetAsync(instanceId, cancellationToken) is not null)
        {
            // The same data was trained on already (or is being trained on): nothing to do.
            return new DropZoneResult(outcome, instanceId);
        }
        await workflows.StartAsync(nameof(TrainingOrchestrator),
            new TrainingRequest(outcome.Model, outcome.DatasetVersion, $"upload {blobName}", "blob-trigger"), instanceId, cancellationToken);
        logger.LogInformation("Started training {InstanceId} for {ModelName} on {DatasetVersion}", instanceId, outcome.Model, outcome.DatasetVersion);
        return new DropZoneResult(outcome, instanceId);
    }
}
