using System.Diagnostics;
using DurableTask.Core.Exceptions;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Telemetry;
using Serverless.Core.Tracking;
using static Serverless.Core.Telemetry.PipelineTelemetry;

namespace Serverless.Orchestrations;

/// <summary>What the blob trigger did with one uploaded blob.</summary>
public sealed record DropZoneResult(IngestionOutcome Ingestion, string? InstanceId);

/// <summary>
/// The blob trigger's logic, shared by both hosts: ingest the uploaded blob and, for new data, start a training run whose
/// instance id is derived from the dataset version, so the same content never starts two runs.
/// </summary>
public sealed class DropZone(DatasetIngestor ingestor, PurgedRuns purged, ILogger<DropZone> logger)
{
    /// <summary>How many runs the uploads of one dataset version start at most: one more each time the one before failed or was terminated.</summary>
    public const int MaxTrainingAttempts = 20;

    /// <summary>
    /// The id of the run of a dataset version's uploads: <c>train-{model}-{dataset version}</c>, and for a later attempt
    /// (the earlier ones failed, were terminated or were purged) <c>-r{attempt}</c> after it. An id is never used for a
    /// second run, so what the registry, the approval gate and the experiment runs keep under it is that one run's.
    /// </summary>
    public static string TrainingInstanceId(string model, string datasetVersion, int attempt = 1) =>
        attempt == 1 ? $"train-{model}-{datasetVersion}" : $"train-{model}-{datasetVersion}-r{attempt}";

    /// <summary>Whether a run in this state is one the same data's next upload starts again (under the next attempt's id).</summary>
    public static bool IsRetried(OrchestrationRuntimeStatus status) => status is OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;

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

        var (instanceId, started) = await StartOnceAsync(workflows,
            new TrainingRequest(outcome.Model, outcome.DatasetVersion, $"upload {blobName}", AuditActors.Upload), cancellationToken);
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
    /// Starts the training run of an upload's data unless one is under way or has completed: the same data trained on
    /// already (or being trained on) starts nothing. When the last run of that data failed or was terminated, the next
    /// attempt starts under its own id, and so does one whose last run was purged (<see cref="TrainingInstanceId"/>). Two
    /// hosts racing for the same id are settled by the engine's de-duplication, which refuses the second start. Returns
    /// the run's id and whether this call started it.
    /// </summary>
    public async Task<(string InstanceId, bool Started)> StartOnceAsync(DurableTaskClient workflows, TrainingRequest request, CancellationToken cancellationToken)
    {
        var datasetVersion = request.DatasetVersion ?? throw new ArgumentException("An upload's run names its dataset version.", nameof(request));
        var instanceId = TrainingInstanceId(request.Model, datasetVersion);
        for (var attempt = 1; attempt <= MaxTrainingAttempts; attempt++)
        {
            instanceId = TrainingInstanceId(request.Model, datasetVersion, attempt);
            var existing = await workflows.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
            if (existing is null)
            {
                // The engine forgets a purged run, but what it left under its id stays: its id is not given again.
                if (await purged.FindAsync(instanceId, cancellationToken) is not null) continue;
                return (instanceId, await StartAsync(workflows, instanceId, request, cancellationToken));
            }
            if (!IsRetried(existing.RuntimeStatus)) return (instanceId, false);
        }
        logger.LogWarning("Dataset version {DatasetVersion} of {ModelName} has failed or been stopped {Attempts} times; its upload starts no run (POST the train route to run it)",
            datasetVersion, request.Model, MaxTrainingAttempts);
        return (instanceId, false);
    }

    private static async Task<bool> StartAsync(DurableTaskClient workflows, string instanceId, TrainingRequest request, CancellationToken cancellationToken)
    {
        var options = new StartOrchestrationOptions(instanceId).WithDedupeStatuses(Enum.GetValues<OrchestrationRuntimeStatus>());
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
