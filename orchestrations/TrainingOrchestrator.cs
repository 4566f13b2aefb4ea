using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Orchestrations.Activities;

namespace Serverless.Orchestrations;

/// <summary>
/// The training workflow: plan → validate the dataset → deterministic split → fan out one activity per candidate (and a baseline) → pick the
/// winner on validation → score winner and champion on test → quality gates → register → approval → promote.
/// Deterministic: every decision is made on activity results, time and ids come from the context. Written once against the
/// Durable Task SDK: the local host runs it on the Durable Task engine, the Functions app through a one-line trampoline.
/// </summary>
public sealed class TrainingOrchestrator : TaskOrchestrator<TrainingRequest, TrainingOutcome>
{
    /// <summary>The external event that carries an <see cref="ApprovalDecision"/>.</summary>
    public const string ApprovalEvent = "approval";

    /// <summary>Storage-bound activities: transient faults are retried with backoff.</summary>
    internal static readonly TaskOptions StorageRetry =
        TaskOptions.FromRetryPolicy(new RetryPolicy(4, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(20)));

    /// <summary>Training a candidate: one more attempt; a candidate that fails twice is recorded as failed.</summary>
    internal static readonly TaskOptions TrainingRetry =
        TaskOptions.FromRetryPolicy(new RetryPolicy(2, TimeSpan.FromSeconds(2)));

    /// <summary>How many times a run re-compares its winner when production moved while it ran, before it gives up.</summary>
    internal const int MaxChampionChanges = 5;

    public override async Task<TrainingOutcome> RunAsync(TaskOrchestrationContext context, TrainingRequest input)
    {
        try
        {
            return await RunStagesAsync(context, input);
        }
        catch (Exception)
        {
            // The run's status shows where it ended, not the last stage it passed through.
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Failed));
            throw;
        }
    }

    private static async Task<TrainingOutcome> RunStagesAsync(TaskOrchestrationContext context, TrainingRequest input)
    {
        var logger = context.CreateReplaySafeLogger(nameof(TrainingOrchestrator));
        var notes = new List<string>();

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Planning));
        var plan = await context.CallActivityAsync<TrainingPlan>(nameof(LoadTrainingPlan), input, StorageRetry);
        logger.LogInformation("Training {ModelName} on {DatasetVersion}: {CandidateCount} candidates, primary metric {Metric}",
            plan.Model, plan.DatasetVersion, plan.Candidates.Count, plan.PrimaryMetric);

        // Not retried: a dataset that fails validation fails the same way again. The run fails with the reasons.
        context.SetCustomStatus(new TrainingProgress(TrainingStages.Validating));
        await context.CallActivityAsync<DatasetCheck>(nameof(ValidateDataset), new DatasetRef(plan.Model, plan.DatasetVersion));

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Splitting));
        var splits = await context.CallActivityAsync<SplitRefs>(
            nameof(SplitDataset), new SplitInput(plan.Model, plan.DatasetVersion, plan.Seed, plan.TimeColumn), StorageRetry);

        if (input.Feedback is { TrainRows: > 0 } feedback)
        {
            splits = await context.CallActivityAsync<SplitRefs>(nameof(AddFeedbackRows), new FeedbackSplitInput(plan.Model, splits, feedback), StorageRetry);
            notes.Add($"{feedback.TrainRows} labelled live rows (feedback) added to the train split.");
        }

        var baselineTask = context.CallActivityAsync<EvaluationResult>(
            nameof(EvaluateBaseline), new BaselineInput(plan.Model, plan.DatasetVersion, splits), StorageRetry);
        var candidates = await TrainCandidatesAsync(context, plan, splits);

        var succeeded = candidates.Where(c => c.Succeeded && c.ModelBlob is not null).ToList();
        if (succeeded.Count == 0)
        {
            throw new InvalidOperationException(
                $"No candidate of model '{plan.Model}' trained successfully: {string.Join("; ", candidates.Select(c => $"{c.Candidate}: {c.Error}"))}");
        }
        var metric = plan.PrimaryMetric;
        var winner = succeeded.Aggregate((best, next) =>
            Metrics.IsBetter(metric, next.ValidationMetrics.GetValueOrDefault(metric, double.NaN), best.ValidationMetrics.GetValueOrDefault(metric, double.NaN)) ? next : best);

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Evaluating));
        var winnerTestTask = context.CallActivityAsync<EvaluationResult>(
            nameof(EvaluateModel), new EvaluationInput(plan.Model, winner.ModelBlob!, splits.Test, plan.DatasetVersion, splits.Seed), StorageRetry);
        var championTask = ScoreChampionAsync(context, plan, splits, notes);
        var winnerTest = await winnerTestTask;
        var baseline = await baselineTask;
        var champion = await championTask;

        var summaries = candidates.Select(c => new CandidateSummary(c.RunId, c.Candidate.ToString(), c.Succeeded, c.ValidationMetrics, c.Error)).ToList();
        var comparedWith = plan.ChampionVersion;
        TrainingOutcome End(string status, string? version)
        {
            context.SetCustomStatus(new TrainingProgress(status, Version: version));
            return new(plan.Model, status, plan.DatasetVersion, version, winner.Candidate.ToString(), winnerTest.Metrics, summaries, notes, comparedWith);
        }

        var gate = QualityGate.Check(plan, winnerTest, baseline, champion);
        notes.AddRange(gate.Notes);
        if (!gate.Passed)
        {
            logger.LogWarning("{ModelName}: {Winner} failed the quality gate: {GateNotes}", plan.Model, winner.Candidate, string.Join(" ", gate.Notes));
            return End(TrainingStatus.GateFailed, null);
        }
        var trailsChampion = gate.TrailsChampion;
        if (input.Feedback is { RecentRows: > 0 } recent && await CompareOnRecentDataAsync(context, plan, winner, recent, splits, notes) is { } onRecent)
        {
            // Where labelled live rows exist, the champion comparison is made on them instead of the test split.
            trailsChampion = onRecent;
        }
        if (trailsChampion)
        {
            logger.LogInformation("{ModelName}: challenger trails champion {ChampionVersion}; champion retained", plan.Model, plan.ChampionVersion);
            return End(TrainingStatus.ChampionRetained, null);
        }

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Registering));
        var manual = plan.Approval == ApprovalMode.Manual;
        var registered = await context.CallActivityAsync<RegisteredVersion>(nameof(RegisterModel), new RegisterInput(
            plan, context.InstanceId, winner, winnerTest, baseline, champion, splits, notes,
            manual ? VersionStatus.PendingApproval : VersionStatus.Approved), StorageRetry);

        if (manual)
        {
            context.SetCustomStatus(new TrainingProgress(TrainingStages.AwaitingApproval, Version: registered.Version));
            ApprovalDecision decision;
            try
            {
                decision = await context.WaitForExternalEvent<ApprovalDecision>(ApprovalEvent, plan.ApprovalTimeout);
            }
            catch (TaskCanceledException)
            {
                await context.CallActivityAsync<RegisteredVersion>(nameof(SetVersionStatus), new VersionStatusInput(
                    plan.Model, registered.Version, VersionStatus.Expired, "system", $"no decision within {plan.ApprovalTimeout}"), StorageRetry);
                notes.Add($"Approval of {registered.Version} expired after {plan.ApprovalTimeout}.");
                return End(TrainingStatus.Expired, registered.Version);
            }
            var status = decision.Approved ? VersionStatus.Approved : VersionStatus.Rejected;
            await context.CallActivityAsync<RegisteredVersion>(nameof(SetVersionStatus), new VersionStatusInput(
                plan.Model, registered.Version, status, decision.By, decision.Reason ?? ""), StorageRetry);
            if (!decision.Approved)
            {
                notes.Add($"{registered.Version} rejected by {decision.By}: {decision.Reason}");
                return End(TrainingStatus.Rejected, registered.Version);
            }
        }

        // Promotion is a compare-and-swap on the registry: production moves only if it still points at the champion this
        // run was compared with. Runs of one model overlap (files dropped together); when another run promoted first,
        // the winner is compared with the new champion on this run's test split before anything moves.
        var expected = plan.ChampionVersion;
        for (var change = 0; ; change++)
        {
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Promoting, Version: registered.Version));
            var promotion = await context.CallActivityAsync<PromotionResult>(nameof(PromoteModel), new PromoteInput(
                plan.Model, registered.Version, manual ? "approval" : "auto", $"training run {context.InstanceId} ({input.Trigger})", expected), StorageRetry);
            if (promotion.Promoted) return End(TrainingStatus.Promoted, registered.Version);

            comparedWith = promotion.Previous;
            if (change + 1 >= MaxChampionChanges || promotion.PreviousModelBlob is null)
            {
                var why = promotion.PreviousModelBlob is null
                    ? $"Production moved from {expected ?? "none"} to {promotion.Previous}, whose model could not be found to compare with"
                    : $"Production moved {MaxChampionChanges} times while this run went on, last to {promotion.Previous}";
                notes.Add($"{why}; {registered.Version} stays registered but was not promoted.");
                await context.CallActivityAsync<RegisteredVersion>(nameof(RecordChampionRetained), new ChampionRetainedInput(
                    plan.Model, registered.Version, promotion.Previous ?? "none", context.InstanceId, why), StorageRetry);
                return End(TrainingStatus.ChampionRetained, registered.Version);
            }
            notes.Add($"Production moved from {expected ?? "none"} to {promotion.Previous} while this run went on; compared again with {promotion.Previous}.");
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Evaluating, Version: registered.Version));
            var rival = plan with { ChampionVersion = promotion.Previous, ChampionModelBlob = promotion.PreviousModelBlob };
            var rivalTest = await ScoreChampionAsync(context, rival, splits, notes);
            var recheck = QualityGate.Check(rival, winnerTest, baseline, rivalTest);
            notes.AddRange(recheck.Notes);
            if (!recheck.Passed || recheck.TrailsChampion)
            {
                await context.CallActivityAsync<RegisteredVersion>(nameof(RecordChampionRetained), new ChampionRetainedInput(
                    plan.Model, registered.Version, promotion.Previous!, context.InstanceId, string.Join(" ", recheck.Notes)), StorageRetry);
                return End(TrainingStatus.ChampionRetained, registered.Version);
            }
            expected = promotion.Previous;
        }
    }

    /// <summary>
    /// Scores winner and champion on the recent labelled rows and says whether the winner trails (no tolerance: it must be
    /// at least as good there); null when there is no champion or either cannot be scored, and the test split decides.
    /// </summary>
    private static async Task<bool?> CompareOnRecentDataAsync(TaskOrchestrationContext context, TrainingPlan plan, CandidateResult winner, FeedbackRows recent,
        SplitRefs splits, List<string> notes)
    {
        if (plan.ChampionModelBlob is null) return null;
        try
        {
            var mine = context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModel),
                new EvaluationInput(plan.Model, winner.ModelBlob!, recent.RecentBlob, plan.DatasetVersion, splits.Seed), StorageRetry);
            var theirs = context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModel),
                new EvaluationInput(plan.Model, plan.ChampionModelBlob, recent.RecentBlob, plan.DatasetVersion, splits.Seed), StorageRetry);
            var comparison = QualityGate.CompareWithChampion(plan with { ChampionTolerance = 0 }, await mine, await theirs, $" on {recent.RecentRows} recent labelled rows");
            if (comparison is null) return null;
            notes.Add(comparison.Value.Note);
            return comparison.Value.Trails;
        }
        catch (TaskFailedException e)
        {
            notes.Add($"Winner and champion could not be scored on the recent labelled rows ({e.FailureDetails.ErrorMessage}); compared on the test split.");
            return null;
        }
    }

    /// <summary>Scores the plan's champion on the test split; null when there is none or it cannot be scored on this data.</summary>
    private static async Task<EvaluationResult?> ScoreChampionAsync(TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits, List<string> notes)
    {
        if (plan.ChampionModelBlob is null) return null;
        try
        {
            return await context.CallActivityAsync<EvaluationResult>(
                nameof(EvaluateModel), new EvaluationInput(plan.Model, plan.ChampionModelBlob, splits.Test, plan.DatasetVersion, splits.Seed), StorageRetry);
        }
        catch (TaskFailedException e)
        {
            notes.Add($"The champion {plan.ChampionVersion} could not be scored on this data ({e.FailureDetails.ErrorMessage}); compared with the baseline only.");
            return null;
        }
    }

    /// <summary>Fans out one activity per candidate; a failed candidate is kept as a failed result and does not fail the run.</summary>
    private static async Task<IReadOnlyList<CandidateResult>> TrainCandidatesAsync(TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits)
    {
        var total = plan.Candidates.Count;
        context.SetCustomStatus(new TrainingProgress(TrainingStages.Training, 0, total));
        var pending = plan.Candidates.Select((candidate, index) => TrainOneAsync(context, plan, splits, candidate, $"{context.InstanceId}-c{index:D2}")).ToList();
        var remaining = pending.ToList();
        while (remaining.Count > 0)
        {
            var done = await Task.WhenAny(remaining);
            remaining.Remove(done);
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Training, total - remaining.Count, total));
        }
        return [.. pending.Select(t => t.Result)];
    }

    private static async Task<CandidateResult> TrainOneAsync(TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits, CandidateSpec candidate, string runId)
    {
        try
        {
            return await context.CallActivityAsync<CandidateResult>(nameof(TrainCandidate),
                new CandidateInput(plan.Model, plan.DatasetVersion, context.InstanceId, runId, candidate, splits), TrainingRetry);
        }
        catch (TaskFailedException e)
        {
            return new CandidateResult(runId, candidate, false, new Dictionary<string, double>(), null, 0, e.FailureDetails.ErrorMessage);
        }
    }
}
