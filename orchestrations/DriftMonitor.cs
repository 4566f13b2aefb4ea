using Azure;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations;

/// <summary>
/// Runs a drift check and acts on it: counts drifted checks in a row, starts the training orchestration when drift is
/// confirmed (<c>drift.consecutive</c> checks) and the cooldown since the last drift-triggered run has passed, keeps the
/// report, and audits the check (<c>driftCheck</c>) and the run it started (<c>driftRetrain</c>). The state is written
/// with its ETag before a run starts, so two hosts checking at once start at most one run.
/// </summary>
public sealed class DriftMonitor(DriftChecker checker, DriftStore store, DatasetStore datasets, FeedbackRowsWriter feedbackRows, AuditLog audit, ILogger<DriftMonitor> logger)
{
    /// <summary>What a drift-triggered run's <see cref="TrainingRequest.Trigger"/> says.</summary>
    public const string DriftTrigger = "drift";

    /// <summary>The id of the run a drift check started: <c>train-{model}-drift-{check id}</c>.</summary>
    public static string DriftInstanceId(string model, string checkId) => $"train-{model}-drift-{checkId}";

    public async Task<DriftReport> CheckAsync(string model, string trigger, string actor, DurableTaskClient workflows, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var (report, settings) = await checker.CheckAsync(model, trigger, now, ct).ConfigureAwait(false);

        RetrainDecision? decision = null;
        var consecutive = 0;
        DriftState? before = null;
        for (var attempt = 0; ; attempt++)
        {
            var (state, etag) = await store.GetStateAsync(model, ct).ConfigureAwait(false);
            before = state;
            // Only a verdict moves the count: a check without one (no traffic, not enough data) leaves it as it was. The
            // count is of checks of one production version: after a promotion or rollback, the checks compare against
            // another version's reference, and drift seen before it confirms nothing about the new one.
            var counted = state.ConsecutiveVersion == report.ProductionVersion ? state.Consecutive : 0;
            consecutive = report.Status switch
            {
                DriftStatus.Drift => counted + 1,
                DriftStatus.NoDrift => 0,
                _ => counted,
            };
            decision = Decide(report, settings, state, consecutive, now);
            var next = state with
            {
                LastCheckAt = now,
                Consecutive = consecutive,
                ConsecutiveVersion = report.ProductionVersion,
                LastRetrainAt = decision?.Started == true ? now : state.LastRetrainAt,
                LastRetrainInstanceId = decision?.InstanceId ?? state.LastRetrainInstanceId,
            };
            try
            {
                await store.SetStateAsync(model, next, etag, ct).ConfigureAwait(false);
                break;
            }
            catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e) && attempt < 4)
            {
                // Another check of this model wrote first: decide again on what it wrote.
            }
        }

        if (decision is { Started: true, InstanceId: { } instanceId })
        {
            // The model's current data plus the window's labelled live rows: some added to the train split, the rest
            // held out as the recent data the new version must beat the champion on.
            FeedbackRows? feedback;
            Core.Datasets.DatasetManifest? dataset;
            try
            {
                dataset = await datasets.GetLatestAsync(model, ct).ConfigureAwait(false);
                feedback = dataset is null ? null : await feedbackRows.WriteAsync(dataset, report.CheckId, report.WindowStart, now, ct).ConfigureAwait(false);
                await workflows.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator),
                    new TrainingRequest(model, dataset?.Version, DriftTrigger, actor, feedback), new Microsoft.DurableTask.StartOrchestrationOptions(instanceId), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // No run started: give the cooldown back, so that the next check may start one (best effort).
                var (current, currentEtag) = await store.GetStateAsync(model, CancellationToken.None).ConfigureAwait(false);
                if (current.LastRetrainInstanceId == instanceId)
                {
                    await store.SetStateAsync(model, current with { LastRetrainAt = before?.LastRetrainAt, LastRetrainInstanceId = before?.LastRetrainInstanceId },
                        currentEtag, CancellationToken.None).ConfigureAwait(false);
                }
                logger.LogError(e, "Drift of {ModelName} confirmed, but retraining could not be started", model);
                throw;
            }
            decision = decision with
            {
                Reason = decision.Reason + (feedback is null
                    ? " No labelled live rows in the window: the run trains on the current data and is compared with the champion on its test split."
                    : $" {feedback.TrainRows} labelled live rows added to training, {feedback.RecentRows} held out to compare with the champion."),
            };
            await audit.RecordAsync(AuditActions.DriftRetrain, model, actor, new { instanceId, report.CheckId, report.Dataset, consecutive, feedback }, ct).ConfigureAwait(false);
            logger.LogWarning("Drift of {ModelName} confirmed by {Consecutive} checks: retraining started as {InstanceId}", model, consecutive, instanceId);
        }

        report = report with { Consecutive = consecutive, Retraining = decision };
        await store.SaveAsync(report, ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.DriftCheck, model, actor, new
        {
            report.CheckId, report.Trigger, report.Status, report.ProductionVersion, report.CurrentRows, report.LoggedRows,
            report.Dataset?.Share, report.Dataset?.DriftedFeatures, report.Consecutive, Retraining = decision,
        }, ct).ConfigureAwait(false);
        logger.LogInformation("Drift check {CheckId} of {ModelName}: {DriftStatus}", report.CheckId, model, report.Status);
        Core.Telemetry.PipelineMetrics.RecordDriftCheck(model, report.ProductionVersion, report.Status == DriftStatus.Drift);
        return report;
    }

    private static RetrainDecision? Decide(DriftReport report, DriftSettings settings, DriftState state, int consecutive, DateTimeOffset now)
    {
        if (report.Status != DriftStatus.Drift) return null;
        if (!settings.Retrain) return new RetrainDecision(false, "Retraining on drift is off (drift.retrain is false).");
        if (consecutive < settings.Consecutive)
        {
            return new RetrainDecision(false, $"Drift in {consecutive} of the {settings.Consecutive} consecutive checks that confirm it; no retraining yet.");
        }
        if (state.LastRetrainAt is { } last && now < last + settings.Cooldown)
        {
            return new RetrainDecision(false, $"Drift confirmed, but the last drift-triggered run ({state.LastRetrainInstanceId}) started at {last:u}; the cooldown of {Core.Hosting.Durations.InWords(settings.Cooldown)} lasts until {last + settings.Cooldown:u}.");
        }
        return new RetrainDecision(true, $"Drift confirmed by {consecutive} consecutive checks: retraining.", DriftInstanceId(report.Model, report.CheckId));
    }
}
