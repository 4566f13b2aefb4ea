using System.Diagnostics;
using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Telemetry;
using static Serverless.Core.Telemetry.PipelineTelemetry;

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

    /// <summary>
    /// Handles one uploaded blob in the span that starts its trace (<see cref="Spans.DropZone"/>): ingestion is a child
    /// span, and so is the Durable Task client's start of the training run, whose trace context the engine carries on.
    /// </summary>
    public async Task<DropZoneResult> HandleAsync(string blobName, DurableTaskClient workflows, CancellationToken cancellationToken)
    {
        using var span = Start(Spans.DropZone, blobName.Split('/')[0], ActivityKind.Consumer);
        span?.SetTag(Tags.Blob, blobName);
        try
        {
            var result = await IngestAndStartAsync(blobName, workflows, cancellationToken);
            span?.SetTag(Tags.IngestionStatus, result.Ingestion.Status.ToString());
            if (result.Ingestion.DatasetVersion is { } datasetVersion) span?.SetTag(Tags.DatasetVersion, datasetVersion);
            if (result.InstanceId is { } instanceId) span?.SetTag(Tags.InstanceId, instanceId);
            return result;
        }
        catch (Exception e)
        {
            span.Fail(e);
            throw;
        }
    }

    private async Task<DropZoneResult> IngestAndStartAsync(string blobName, DurableTaskClient workflows, CancellationToken cancellationToken)
    {
        var outcome = await IngestAsync(blobName, cancellationToken);
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

    /// <summary>Ingests the blob in its own span; a quarantined file is counted (<see cref="PipelineMetrics.RecordQuarantined"/>).</summary>
    private async Task<IngestionOutcome> IngestAsync(string blobName, CancellationToken cancellationToken)
    {
        using var span = Start(Spans.Ingest, blobName.Split('/')[0]);
        span?.SetTag(Tags.Blob, blobName);
        try
        {
            var outcome = await ingestor.IngestAsync(blobName, cancellationToken);
            span?.SetTag(Tags.IngestionStatus, outcome.Status.ToString());
            if (outcome.DatasetVersion is { } datasetVersion) span?.SetTag(Tags.DatasetVersion, datasetVersion);
            if (outcome.Status == IngestionStatus.Quarantined)
            {
                var reason = outcome.ReasonCodes.FirstOrDefault() ?? "unknown";
                span?.SetTag(Tags.Reason, reason);
                PipelineMetrics.RecordQuarantined(outcome.Model, reason);
            }
            return outcome;
        }
        catch (Exception e)
        {
            span.Fail(e);
            throw;
        }
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
