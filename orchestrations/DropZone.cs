using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;

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

    public async Task<DropZoneResult> HandleAsync(string blobName, DurableTaskClient workflows, CancellationToken cancellationToken)
    {
        var outcome = await ingestor.IngestAsync(blobName, cancellationToken);
        logger.LogInformation("Ingested {BlobName}: {IngestionStatus} {DatasetVersion} {ReasonCodes}",
            blobName, outcome.Status, outcome.DatasetVersion, string.Join(",", outcome.ReasonCodes));
        if (outcome.DatasetVersion is null || outcome.Status is not (IngestionStatus.Accepted or IngestionStatus.Duplicate))
        {
            return new DropZoneResult(outcome, null);
        }

        var instanceId = TrainingInstanceId(outcome.Model, outcome.DatasetVersion);
        var started = await StartOnceAsync(workflows, instanceId,
            new TrainingRequest(outcome.Model, outcome.DatasetVersion, $"upload {blobName}", "blob-trigger"), cancellationToken);
        if (started)
        {
            logger.LogInformation("Started training {InstanceId} for {ModelName} on {DatasetVersion}", instanceId, outcome.Model, outcome.DatasetVersion);
        }
        return new DropZoneResult(outcome, instanceId);
    }

    /// <summary>
    /// Starts a training run under a caller-chosen id unless one under that id exists and has not failed or been
    /// terminated: the same data trained on already (or being trained on) starts nothing. Two hosts racing for the same
    /// id are settled by the engine's de-duplication, which refuses the second start.
    /// </summary>
    public static async Task<bool> StartOnceAsync(DurableTaskClient workflows, string instanceId, TrainingRequest request, CancellationToken cancellationToken)
    {
        var existing = await workflows.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (existing is not null && existing.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated))
        {
            return false;
        }
        var options = new StartOrchestrationOptions(instanceId).WithDedupeStatuses(
            OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Suspended);
        try
        {
            await workflows.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator), request, options, cancellationToken);
            return true;
        }
        catch (OrchestrationAlreadyExistsException)
        {
            return false;
        }
    }
}
