using System.Diagnostics;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Orchestrations.Activities;

namespace Serverless.Orchestrations;

/// <summary>A run that failed in one of its activities, with that activity's reason as its message.</summary>
public sealed class TrainingFailedException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The training workflow: plan → validate the dataset → deterministic split → fan out one activity per candidate (and a baseline) → pick the
/// winner on validation (on small data, by k-fold cross-validation on train and validation) → refit it on train and validation → score it on test, and it and the champion on the test rows the
/// champion never trained on → quality gates → register → approval → promote.
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
        await context.CallActivityAsync<bool>(nameof(RecordTrainingEvent), new TrainingAuditInput(
            input.Model, context.InstanceId, AuditActions.TrainingStarted, input.RequestedBy, input.Why, DatasetVersion: input.DatasetVersion), StorageRetry);
        TrainingOutcome outcome;
        try
        {
            outcome = await RunStagesAsync(context, input);
        }
        catch (Exception e)
        {
            // The run's status shows where it ended, not the last stage it passed through.
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Failed));
            await context.CallActivityAsync<bool>(nameof(RecordTrainingEvent), new TrainingAuditInput(
                input.Model, context.InstanceId, AuditActions.TrainingEnded, input.RequestedBy, Failure(e), TrainingStages.Failed, DatasetVersion: input.DatasetVersion), StorageRetry);
            // The run's failure reads as the reason, not as "Task 'ValidateDataset' (#1) failed with an unhandled exception: ...".
            if (e is TaskFailedException) throw new TrainingFailedException(Failure(e), e);
            throw;
        }
        await context.CallActivityAsync<bool>(nameof(RecordTrainingEvent), new TrainingAuditInput(
            input.Model, context.InstanceId, AuditActions.TrainingEnded, input.RequestedBy, string.Join(" ", outcome.Notes) is { Length: > 0 } notes ? notes : outcome.Status,
            outcome.Status, outcome.Version, outcome.DatasetVersion), StorageRetry);
        return outcome;
    }

    /// <summary>Why a run failed, as its failure details or exception say.</summary>
    private static string Failure(Exception e) => e is TaskFailedException failed ? failed.FailureDetails.ErrorMessage : e.Message;

    private static async Task<TrainingOutcome> RunStagesAsync(TaskOrchestrationContext context, TrainingRequest input)
    {
        var logger = context.CreateReplaySafeLogger(nameof(TrainingOrchestrator));
        var notes = new List<string>();

        ActivityTelemetry.Tag(Activity.Current, input);
        context.SetCustomStatus(new TrainingProgress(TrainingStages.Planning));
        var plan = await context.CallActivityAsync<TrainingPlan>(nameof(LoadTrainingPlan), input, StorageRetry);
        // The orchestration's span (the SDK's, current in every episode) carries the model and versions as they are known.
        ActivityTelemetry.Tag(Activity.Current, plan);
        logger.LogInformation("Training {ModelName} on {DatasetVersion}: {CandidateCount} candidates, primary metric {Metric}",
            plan.Model, plan.DatasetVersion, plan.Candidates.Count, plan.PrimaryMetric);

        // Not retried: a dataset that fails validation fails the same way again. The run fails with the reasons.
        context.SetCustomStatus(new TrainingProgress(TrainingStages.Validating));
        await context.CallActivityAsync<DatasetCheck>(nameof(ValidateDataset), new DatasetRef(plan.Model, plan.DatasetVersion, plan.Spec));

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Splitting));
        var splits = await context.CallActivityAsync<SplitRefs>(
            nameof(SplitDataset), new SplitInput(plan.Model, plan.DatasetVersion, plan.Seed, plan.TimeColumn), StorageRetry);

        if (input.Feedback is { TrainRows: > 0 } feedback)
        {
            splits = await context.CallActivityAsync<SplitRefs>(nameof(AddFeedbackRows), new FeedbackSplitInput(plan.Model, splits, feedback), StorageRetry);
            notes.Add($"{feedback.TrainRows} labelled live rows (feedback) added to the train split.");
        }

        // Small data: too few validation rows to choose well, so every candidate is scored by the same k folds of train and validation.
        var folds = plan.FoldsFor(splits);
        // Data too small to split into rows to train on and rows to measure on fails here, saying so, before any training.
        if (splits.Shortfall(folds) is { } shortfall) throw new InvalidOperationException(shortfall);

        var baselineTask = context.CallActivityAsync<EvaluationResult>(
            nameof(EvaluateBaseline), new BaselineInput(plan.Model, plan.DatasetVersion, splits), StorageRetry);
        var candidates = await TrainCandidatesAsync(context, plan, splits, folds);

        var succeeded = candidates.Where(c => c.Succeeded && c.ModelBlob is not null).ToList();
        if (succeeded.Count == 0)
        {
            // Candidates that failed for the same reason (the data's, mostly) are named together, the reason said once.
            var reasons = candidates.GroupBy(c => c.Error).Select(g => $"{string.Join(", ", g.Select(c => c.Candidate))}: {g.Key}");
            throw new InvalidOperationException($"No candidate of model '{plan.Model}' trained successfully: {string.Join("; ", reasons)}");
        }
        // The best by the metric, or a candidate cheaper to serve whose shortfall the folds or parts cannot tell from chance.
        var choice = CandidateChoice.Choose(plan.PrimaryMetric, succeeded, plan.SimplerWithin);
        var winner = choice.Winner;
        if (choice.Note is { } chosenOver) notes.Add(chosenOver);

        // Validation chose the winner; refit on train and validation before the test split judges it and it is registered.
        context.SetCustomStatus(new TrainingProgress(TrainingStages.Refitting));
        var fit = await RefitAsync(context, plan, splits, winner, notes);

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Evaluating));
        var winnerTest = await context.CallActivityAsync<EvaluationResult>(
            nameof(EvaluateModel), new EvaluationInput(plan.Model, fit.ModelBlob, splits.Test, plan.DatasetVersion, splits.Seed, TestChance: true, Metric: plan.PrimaryMetric), StorageRetry);
        var champion = await CompareWithChampionAsync(context, plan, splits, fit.ModelBlob, winnerTest, notes);
        var baseline = await baselineTask;

        var summaries = candidates.Select(c => new CandidateSummary(c.RunId, c.Candidate.Trainer, c.Candidate.Parameters, c.Succeeded, c.ValidationMetrics, c.Error, c.Selection)).ToList();
        var comparedWith = plan.ChampionVersion;
        TrainingOutcome End(string status, string? version)
        {
            context.SetCustomStatus(new TrainingProgress(status, Version: version));
            return new(plan.Model, status, plan.DatasetVersion, version, winner.Candidate.ToString(), winnerTest.Metrics, summaries, notes, comparedWith, fit.On, winner.RunId);
        }

        var gate = QualityGate.Check(plan, winnerTest, baseline, champion);
        notes.AddRange(gate.Notes);
        if (!gate.Passed)
        {
            logger.LogWarning("{ModelName}: {Winner} failed the quality gate: {GateNotes}", plan.Model, winner.Candidate, string.Join(" ", gate.Notes));
            return End(TrainingStatus.GateFailed, null);
        }
        var trailsChampion = gate.TrailsChampion;
        IReadOnlyList<string> decidedBy = gate.Notes;
        var notesBefore = notes.Count;
        if (input.Feedback is { RecentRows: > 0 } recent && await CompareOnRecentDataAsync(context, plan, fit.ModelBlob, recent, splits, notes) is { } onRecent)
        {
            // Where labelled live rows exist, the champion comparison is made on them instead of the test split, and its
            // note says so: a champion retained on them is recorded with it, not only with the test split's comparison.
            trailsChampion = onRecent;
            decidedBy = [.. gate.Notes, .. notes.Skip(notesBefore)];
        }
        if (trailsChampion)
        {
            logger.LogInformation("{ModelName}: challenger trails champion {ChampionVersion}; champion retained", plan.Model, plan.ChampionVersion);
            await context.CallActivityAsync<RegisteredVersion>(nameof(RecordChampionRetained), new ChampionRetainedInput(
                plan.Model, null, plan.ChampionVersion!, context.InstanceId, string.Join(" ", decidedBy), winner.Candidate.ToString(), gate.Comparison), StorageRetry);
            return End(TrainingStatus.ChampionRetained, null);
        }

        context.SetCustomStatus(new TrainingProgress(TrainingStages.Registering));
        var manual = plan.Approval == ApprovalMode.Manual;
        var registered = await context.CallActivityAsync<RegisteredVersion>(nameof(RegisterModel), new RegisterInput(
            plan, context.InstanceId, winner, winnerTest, baseline, champion?.Champion, splits, notes,
            manual ? VersionStatus.PendingApproval : VersionStatus.Approved, fit, gate.Comparison), StorageRetry);
        ActivityTelemetry.Tag(Activity.Current, registered);

        string? approvedBy = null;
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
                    plan.Model, registered.Version, VersionStatus.Expired, AuditActors.System, $"no decision within {plan.ApprovalTimeout}"), StorageRetry);
                notes.Add($"Approval of {registered.Version} expired after {plan.ApprovalTimeout}.");
                return End(TrainingStatus.Expired, registered.Version);
            }
            catch (Exception e)
            {
                // The run fails here, and no decision can reach it after: its version does not stay waiting on staging.
                await context.CallActivityAsync<RegisteredVersion>(nameof(SetVersionStatus), new VersionStatusInput(
                    plan.Model, registered.Version, VersionStatus.Rejected, AuditActors.System, $"run failed while waiting for approval: {e.Message}"), StorageRetry);
                throw;
            }
            var status = decision.Approved ? VersionStatus.Approved : VersionStatus.Rejected;
            await context.CallActivityAsync<RegisteredVersion>(nameof(SetVersionStatus), new VersionStatusInput(
                plan.Model, registered.Version, status, decision.By, decision.Reason), StorageRetry);
            if (!decision.Approved)
            {
                notes.Add($"{registered.Version} rejected by {decision.By}{(decision.Reason is { } why ? $": {why}" : "")}");
                return End(TrainingStatus.Rejected, registered.Version);
            }
            approvedBy = string.IsNullOrEmpty(decision.Reason) ? $"approved by {decision.By}" : $"approved by {decision.By}: {decision.Reason}";
        }

        // Promotion is a compare-and-swap on the registry: production moves only if it still points at the champion this
        // run was compared with. Runs of one model overlap (files dropped together); when another run promoted first,
        // the winner is compared with the new champion on this run's test split before anything moves.
        var expected = plan.ChampionVersion;
        for (var change = 0; ; change++)
        {
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Promoting, Version: registered.Version));
            var promotion = await context.CallActivityAsync<PromotionResult>(nameof(PromoteModel), new PromoteInput(
                plan.Model, registered.Version, manual ? "approval" : "auto",
                // The alias history keeps the person's reason for an approved version, as the audit does.
                approvedBy is null ? $"training run {context.InstanceId} ({input.Trigger})" : $"{approvedBy} (training run {context.InstanceId}, {input.Trigger})", expected,
                context.InstanceId), StorageRetry);
            if (promotion.Promoted) return End(TrainingStatus.Promoted, registered.Version);
            if (promotion.IntegrityFailure is { } failure)
            {
                throw new InvalidOperationException($"{registered.Version} was not promoted: {failure} Production stays on {expected ?? "no version"}. {ModelIntegrity.Remedy(plan.Model)}");
            }

            comparedWith = promotion.Previous;
            if (change + 1 >= MaxChampionChanges || promotion.PreviousModelBlob is null)
            {
                var why = promotion.PreviousModelBlob is null
                    ? $"Production moved from {expected ?? "none"} to {promotion.Previous}, whose model could not be found to compare with"
                    : $"Production moved {MaxChampionChanges} times while this run went on, last to {promotion.Previous}";
                notes.Add($"{why}; {registered.Version} stays registered but was not promoted.");
                await context.CallActivityAsync<RegisteredVersion>(nameof(RecordChampionRetained), new ChampionRetainedInput(
                    plan.Model, registered.Version, promotion.Previous ?? "none", context.InstanceId, why, winner.Candidate.ToString()), StorageRetry);
                return End(TrainingStatus.ChampionRetained, registered.Version);
            }
            notes.Add($"Production moved from {expected ?? "none"} to {promotion.Previous} while this run went on; compared again with {promotion.Previous}.");
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Evaluating, Version: registered.Version));
            var rival = plan with
            {
                ChampionVersion = promotion.Previous, ChampionModelBlob = promotion.PreviousModelBlob, ChampionRowHashesBlob = promotion.PreviousRowHashesBlob,
            };
            var rivalScores = await CompareWithChampionAsync(context, rival, splits, fit.ModelBlob, winnerTest, notes);
            var recheck = QualityGate.Check(rival, winnerTest, baseline, rivalScores);
            // The baseline and chance checks do not depend on the champion: their notes are there once already.
            notes.AddRange(recheck.Notes.Where(note => !notes.Contains(note)));
            if (!recheck.Passed || recheck.TrailsChampion)
            {
                await context.CallActivityAsync<RegisteredVersion>(nameof(RecordChampionRetained), new ChampionRetainedInput(
                    plan.Model, registered.Version, promotion.Previous!, context.InstanceId, string.Join(" ", recheck.Notes),
                    winner.Candidate.ToString(), recheck.Comparison), StorageRetry);
                return End(TrainingStatus.ChampionRetained, registered.Version);
            }
            expected = promotion.Previous;
        }
    }

    /// <summary>
    /// Scores the winner and the champion on the recent labelled rows and says whether the winner trails there; null when
    /// there is no champion or either cannot be scored, and the test split decides.
    /// </summary>
    private static async Task<bool?> CompareOnRecentDataAsync(TaskOrchestrationContext context, TrainingPlan plan, string winnerBlob, FeedbackRows recent,
        SplitRefs splits, List<string> notes)
    {
        if (plan.ChampionModelBlob is null) return null;
        try
        {
            var mine = context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModel),
                new EvaluationInput(plan.Model, winnerBlob, recent.RecentBlob, plan.DatasetVersion, splits.Seed), StorageRetry);
            var theirs = context.CallActivityAsync<EvaluationResult>(nameof(EvaluateModel),
                new EvaluationInput(plan.Model, plan.ChampionModelBlob, recent.RecentBlob, plan.DatasetVersion, splits.Seed), StorageRetry);
            var comparison = QualityGate.CompareOnRecentRows(plan, await mine, await theirs, recent.RecentRows);
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

    /// <summary>
    /// Refits the winner on train and validation. If the refit fails, the winner as trained on train alone is kept (and
    /// the notes say so): a run that found a good model does not fail for want of a better one.
    /// </summary>
    private static async Task<ModelFit> RefitAsync(TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits, CandidateResult winner, List<string> notes)
    {
        var runId = $"{context.InstanceId}-refit";
        try
        {
            return await context.CallActivityAsync<ModelFit>(nameof(RefitWinner),
                new RefitInput(plan.Model, plan.DatasetVersion, context.InstanceId, runId, winner.Candidate, splits), TrainingRetry);
        }
        catch (TaskFailedException e)
        {
            notes.Add($"Refitting {winner.Candidate} on train and validation failed ({e.FailureDetails.ErrorMessage}); the model fit on train alone is kept.");
            return new ModelFit(winner.RunId, FitSets.Train, splits.TrainRows, winner.ModelBlob!, null);
        }
    }

    /// <summary>
    /// Scores the challenger and the plan's champion on the test rows the champion was not fit on (the challenger was fit on
    /// none of the test split); null when there is no champion, or it cannot be scored on this data.
    /// </summary>
    private static async Task<ChampionScores?> CompareWithChampionAsync(
        TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits, string challengerBlob, EvaluationResult challengerTest, List<string> notes)
    {
        if (plan.ChampionModelBlob is null || plan.ChampionVersion is null) return null;
        try
        {
            var set = await context.CallActivityAsync<ComparisonSet>(nameof(PrepareComparison),
                new ComparisonInput(plan.Model, plan.DatasetVersion, splits, plan.ChampionVersion, plan.ChampionRowHashesBlob), StorageRetry);
            if (set.Rows == 0)
            {
                notes.Add($"Every test row of this run is a row champion {plan.ChampionVersion} was trained on; with no row neither saw, they cannot be compared fairly, so the challenger is judged against the baseline only.");
                return null;
            }
            var championTask = context.CallActivityAsync<EvaluationResult>(
                nameof(EvaluateModel), new EvaluationInput(plan.Model, plan.ChampionModelBlob, set.DataBlob, plan.DatasetVersion, splits.Seed), StorageRetry);
            var challenger = set.ExcludedRows == 0 ? challengerTest : await context.CallActivityAsync<EvaluationResult>(
                nameof(EvaluateModel), new EvaluationInput(plan.Model, challengerBlob, set.DataBlob, plan.DatasetVersion, splits.Seed), StorageRetry);
            return new ChampionScores(set, plan.DatasetVersion, challenger, await championTask);
        }
        catch (TaskFailedException e)
        {
            notes.Add($"The champion {plan.ChampionVersion} could not be scored on this data: {e.FailureDetails.ErrorMessage}; compared with the baseline only.");
            return null;
        }
    }

    /// <summary>
    /// Fans out one activity per candidate, each scored on validation or by <paramref name="folds"/>-fold cross-validation
    /// (0: validation); a failed candidate is kept as a failed result and does not fail the run.
    /// </summary>
    private static async Task<IReadOnlyList<CandidateResult>> TrainCandidatesAsync(TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits, int folds)
    {
        var total = plan.Candidates.Count;
        context.SetCustomStatus(new TrainingProgress(TrainingStages.Training, 0, total));
        // Run ids are unique to this run even where its instance id was used before (a run purged, then its data uploaded
        // again): the registry takes a run id once, and the runs table keeps each run's rows.
        var execution = context.NewGuid().ToString("N")[..8];
        var pending = plan.Candidates.Select((candidate, index) => TrainOneAsync(context, plan, splits, candidate, CandidateRunId(context.InstanceId, execution, index), folds)).ToList();
        var remaining = pending.ToList();
        while (remaining.Count > 0)
        {
            var done = await Task.WhenAny(remaining);
            remaining.Remove(done);
            context.SetCustomStatus(new TrainingProgress(TrainingStages.Training, total - remaining.Count, total));
        }
        return [.. pending.Select(t => t.Result)];
    }

    /// <summary>A candidate's run id: <c>{instance id}-{8 hex digits of this run}-c{index}</c>.</summary>
    public static string CandidateRunId(string instanceId, string execution, int index) => $"{instanceId}-{execution}-c{index:D2}";

    private static async Task<CandidateResult> TrainOneAsync(TaskOrchestrationContext context, TrainingPlan plan, SplitRefs splits, CandidateSpec candidate, string runId, int folds)
    {
        try
        {
            return await context.CallActivityAsync<CandidateResult>(nameof(TrainCandidate),
                new CandidateInput(plan.Model, plan.DatasetVersion, context.InstanceId, runId, candidate, splits, folds, plan.Spec), TrainingRetry);
        }
        catch (TaskFailedException e)
        {
            return new CandidateResult(runId, candidate, false, new Dictionary<string, double>(), null, 0, e.FailureDetails.ErrorMessage);
        }
    }
}
