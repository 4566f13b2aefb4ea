using Azure;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations;

/// <summary>
/// Runs a drift check and acts on it: counts drifted checks in a row (at most one per scheduled interval), starts the
/// training orchestration when drift is confirmed (<c>drift.consecutive</c> checks), unless the last drift-triggered run
/// is still under way, its cooldown has not passed, or there is nothing new to train on; keeps the report, and audits
/// the check (<c>driftCheck</c>) and the run it started (<c>driftRetrain</c>). The state is written with its ETag before
/// a run starts, so two hosts checking at once start at most one run.
/// </summary>
public sealed class DriftMonitor(DriftChecker checker, DriftStore store, DatasetStore datasets, ModelRegistry registry, ModelSpecStore specs,
    LabelledRowsReader labelled, FeedbackRowsWriter feedbackRows, AuditLog audit, ILogger<DriftMonitor> logger)
{
    /// <summary>What a drift-triggered run's <see cref="TrainingRequest.Trigger"/> says.</summary>
    public const string DriftTrigger = "drift";

    /// <summary>The id of the run a drift check started: <c>train-{model}-drift-{check id}</c>.</summary>
    public static string DriftInstanceId(string model, string checkId) => $"train-{model}-drift-{checkId}";

    /// <summary>Checks the model now; <paramref name="reason"/>, a person's, goes into the check's audit record before its verdict.</summary>
    public async Task<DriftReport> CheckAsync(string model, string trigger, string actor, DurableTaskClient workflows, CancellationToken ct, string? reason = null)
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
            // A drifted check counts once the check schedule came due since the last one that counted (a check sooner
            // looks at nearly the same rows): asked twice in a row, the same drift confirms nothing twice.
            var counts = report.Status == DriftStatus.Drift && (counted == 0 || DriftTimer.IsDue(settings.Schedule, state.LastCountedAt, now));
            consecutive = report.Status switch
            {
                DriftStatus.Drift => counts ? counted + 1 : counted,
                DriftStatus.NoDrift => 0,
                _ => counted,
            };
            var lastRun = report.Status == DriftStatus.Drift && state.LastRetrainInstanceId is { } lastId
                ? await workflows.GetInstanceAsync(lastId, getInputsAndOutputs: false, ct).ConfigureAwait(false)
                : null;
            decision = Decide(report, settings, state, consecutive, counts, lastRun, now);
            if (decision is { Started: true } && await NothingNewForDriftAsync(model, report, now, ct).ConfigureAwait(false) is { } nothingNew)
            {
                decision = new RetrainDecision(false, $"Drift confirmed by {consecutive} consecutive checks, but {nothingNew}");
            }
            else if (decision is { Started: true } && await CannotTrainAsync(model, ct).ConfigureAwait(false) is { } refusal)
            {
                // As POST /train refuses it: a run would fail at its dataset check, and a failed run holds no cooldown, so
                // every later check would start another.
                decision = new RetrainDecision(false, $"Drift confirmed by {consecutive} consecutive checks, but no run is started: {refusal}");
            }
            var next = state with
            {
                LastCheckAt = now,
                Consecutive = consecutive,
                ConsecutiveVersion = report.ProductionVersion,
                LastCountedAt = counts ? now : state.LastCountedAt,
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
                    new TrainingRequest(model, dataset?.Version, DriftTrigger, actor, feedback, $"check {report.CheckId}: {report.Message}"), new Microsoft.DurableTask.StartOrchestrationOptions(instanceId), ct).ConfigureAwait(false);
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
            await audit.RecordAsync(AuditActions.DriftRetrain, model, actor, decision.Reason, new { instanceId, report.CheckId, report.Dataset, consecutive, feedback }, ct).ConfigureAwait(false);
            logger.LogWarning("Drift of {ModelName} confirmed by {Consecutive} checks: retraining started as {InstanceId}", model, consecutive, instanceId);
        }

        report = report with { Consecutive = consecutive, Retraining = decision };
        await store.SaveAsync(report, ct).ConfigureAwait(false);
        await audit.RecordAsync(AuditActions.DriftCheck, model, actor, reason is null ? report.Message : $"{reason}: {report.Message}", new
        {
            report.CheckId, report.Trigger, report.Status, report.ProductionVersion, report.CurrentRows, report.LoggedRows,
            report.Dataset?.Share, report.Dataset?.DriftedFeatures, report.Consecutive, Retraining = decision,
        }, ct).ConfigureAwait(false);
        logger.LogInformation("Drift check {CheckId} of {ModelName}: {DriftStatus}", report.CheckId, model, report.Status);
        Core.Telemetry.PipelineMetrics.RecordDriftCheck(model, report.ProductionVersion, report.Status == DriftStatus.Drift);
        return report;
    }

    internal static RetrainDecision? Decide(DriftReport report, DriftSettings settings, DriftState state, int consecutive, bool counted,
        OrchestrationMetadata? lastRun, DateTimeOffset now)
    {
        if (report.Status != DriftStatus.Drift) return null;
        if (!settings.Retrain) return new RetrainDecision(false, "Retraining on drift is off (drift.retrain is false).");
        if (consecutive < settings.Consecutive)
        {
            var once = counted ? "" : $"Drift seen again before the check schedule came due since the last check that counted ({state.LastCountedAt:u}): counted once. ";
            return new RetrainDecision(false, $"{once}Drift in {consecutive} of the {settings.Consecutive} consecutive checks that confirm it; no retraining yet.");
        }
        if (lastRun is { IsRunning: true } or { RuntimeStatus: OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended })
        {
            return new RetrainDecision(false, $"Drift confirmed, but the last drift-triggered run ({lastRun.InstanceId}) is still {lastRun.RuntimeStatus.ToString().ToLowerInvariant()}: "
                + "no second run starts while it is under way. Decide on it (approve, reject or terminate) if it waits for approval.");
        }
        // A run that failed or was terminated trained nothing: it holds no cooldown.
        var lastTrained = lastRun is null || !DropZone.IsRetried(lastRun.RuntimeStatus);
        if (lastTrained && state.LastRetrainAt is { } last && now < last + settings.Cooldown)
        {
            return new RetrainDecision(false, $"Drift confirmed, but the last drift-triggered run ({state.LastRetrainInstanceId}) started at {last:u}; the cooldown of {Core.Hosting.Durations.InWords(settings.Cooldown)} lasts until {last + settings.Cooldown:u}.");
        }
        return new RetrainDecision(true, $"Drift confirmed by {consecutive} consecutive checks: retraining.", DriftInstanceId(report.Model, report.CheckId));
    }

    /// <summary>
    /// Why a drift-triggered run would train nothing new, or null: production was fit on the latest data under the spec
    /// in force (<see cref="NothingNewAsync"/>), and no labelled live rows came in the window to add to it.
    /// </summary>
    private async Task<string?> NothingNewForDriftAsync(string model, DriftReport report, DateTimeOffset now, CancellationToken ct)
    {
        if (report.ProductionVersion is not { } production || await NothingNewAsync(model, production, ct).ConfigureAwait(false) is not { } unchanged) return null;
        await foreach (var _ in labelled.ReadAsync(model, report.WindowStart, now, ct: ct).ConfigureAwait(false)) return null;
        return $"there is nothing new to train on: {unchanged}, and no labelled live rows came in the window. A run would train the same model again. "
            + "Upload newer data, or send ground truth (POST feedback): the next check that confirms drift retrains on it.";
    }

    /// <summary>Why a run on the model's latest dataset version would fail at its dataset check under the spec in force (<see cref="SpecFit.Refusal"/>), or null.</summary>
    public async Task<string?> CannotTrainAsync(string model, CancellationToken ct) =>
        await datasets.GetLatestAsync(model, ct).ConfigureAwait(false) is { } latest
            ? SpecFit.Refusal(model, await specs.GetCurrentAsync(model, ct).ConfigureAwait(false), latest)
            : null;

    /// <summary>
    /// Why a run on the model's current data would train nothing new, or null: the production version was fit on the
    /// latest dataset version under a spec that trains like the one in force (<see cref="SpecSnapshot.TrainsLike"/>: its
    /// drift, shadow or approval settings may differ), and a run on just that (deterministic unless a candidate has
    /// several threads) would register the same model again as a new version.
    /// </summary>
    public async Task<string?> NothingNewAsync(string model, string production, CancellationToken ct)
    {
        var manifest = await registry.GetManifestAsync(model, production, ct).ConfigureAwait(false);
        var latest = await datasets.GetLatestAsync(model, ct).ConfigureAwait(false);
        if (manifest is null || latest is null || manifest.DatasetVersion != latest.Version) return null;
        var spec = SpecSnapshot.Of(await specs.GetCurrentAsync(model, ct).ConfigureAwait(false));
        if (manifest.Spec is not { } trainedUnder || !trainedUnder.TrainsLike(spec)) return null;
        return $"production {production} was trained on the latest data ({latest.Version}) with the training settings of the spec in force (version {spec.Version})";
    }
}
