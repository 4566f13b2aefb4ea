using Cronos;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations;

/// <summary>
/// What the drift timer does when it wakes up (the local host's cron service and the Functions <c>TimerTrigger</c> both
/// call it): for every model with a production version, a drift check when its schedule (<c>drift.schedule</c>, else
/// <c>Pipeline:Drift:Schedule</c>) came due since its last check, and a scheduled retraining when the spec's
/// <c>drift.retrainSchedule</c> came due. One model's failure is logged and does not stop the others.
/// </summary>
public sealed class DriftTimer(ModelRegistry registry, ModelSpecStore specs, DriftStore store, DriftMonitor monitor,
    AuditLog audit, IOptions<DriftOptions> options, ILogger<DriftTimer> logger)
{
    public const string Actor = "timer";

    /// <summary>What a scheduled run's <see cref="TrainingRequest.Trigger"/> says.</summary>
    public const string ScheduleTrigger = "schedule";

    public async Task<IReadOnlyList<DriftReport>> TickAsync(DateTimeOffset now, DurableTaskClient workflows, CancellationToken ct)
    {
        var reports = new List<DriftReport>();
        foreach (var model in await registry.ListModelsAsync(ct).ConfigureAwait(false))
        {
            try
            {
                var doc = await registry.GetAsync(model, ct).ConfigureAwait(false);
                if (doc is null || !doc.Aliases.ContainsKey(ModelRegistry.Production)) continue;
                var spec = await specs.GetAsync(model, ct).ConfigureAwait(false);
                var settings = DriftSettings.From(spec.Drift, options.Value);
                var (state, etag) = await store.GetStateAsync(model, ct).ConfigureAwait(false);
                if (IsDue(settings.Schedule, state.LastCheckAt, now))
                {
                    reports.Add(await monitor.CheckAsync(model, Actor, Actor, workflows, ct).ConfigureAwait(false));
                    (state, etag) = await store.GetStateAsync(model, ct).ConfigureAwait(false);
                }
                if (settings.RetrainSchedule is not null && state.LastScheduledRetrainAt is null)
                {
                    // A schedule seen for the first time counts from now: setting a weekly schedule does not retrain at once.
                    await store.SetStateAsync(model, state with { LastScheduledRetrainAt = now }, etag, ct).ConfigureAwait(false);
                }
                else if (settings.RetrainSchedule is { } cron && IsDue(cron, state.LastScheduledRetrainAt, now))
                {
                    // The state's ETag makes the run start once when two hosts wake up together.
                    await store.SetStateAsync(model, state with { LastScheduledRetrainAt = now }, etag, ct).ConfigureAwait(false);
                    if (await monitor.NothingNewAsync(model, doc.Aliases[ModelRegistry.Production], ct).ConfigureAwait(false) is { } unchanged)
                    {
                        await audit.RecordAsync(AuditActions.ScheduledRetrain, model, Actor,
                            $"skipped: {unchanged}; a scheduled run would train the same model again. It runs when new data or a new spec comes in.",
                            new { skipped = true, schedule = cron }, ct).ConfigureAwait(false);
                        continue;
                    }
                    if (await monitor.CannotTrainAsync(model, ct).ConfigureAwait(false) is { } refusal)
                    {
                        await audit.RecordAsync(AuditActions.ScheduledRetrain, model, Actor, $"skipped: {refusal}", new { skipped = true, schedule = cron }, ct).ConfigureAwait(false);
                        continue;
                    }
                    var instanceId = $"train-{model}-schedule-{now.UtcTicks}";
                    await workflows.ScheduleNewOrchestrationInstanceAsync(nameof(TrainingOrchestrator),
                        new TrainingRequest(model, null, ScheduleTrigger, Actor), new StartOrchestrationOptions(instanceId), ct).ConfigureAwait(false);
                    await audit.RecordAsync(AuditActions.ScheduledRetrain, model, Actor, new { instanceId, schedule = cron }, ct).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "The drift timer could not handle {ModelName}", model);
            }
        }
        return reports;
    }

    /// <summary>Whether a 5-field cron schedule has an occurrence after <paramref name="last"/> and no later than <paramref name="now"/> (never run: due).</summary>
    public static bool IsDue(string schedule, DateTimeOffset? last, DateTimeOffset now) =>
        last is null || CronExpression.Parse(schedule).GetNextOccurrence(last.Value, TimeZoneInfo.Utc) is { } next && next <= now;
}
