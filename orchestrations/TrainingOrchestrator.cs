using Microsoft.Extensions.Logging;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Core.Workflows;
using Serverless.Orchestrations.Activities;

namespace Serverless.Orchestrations;

/// <summary>
/// The training workflow: plan → validate the dataset → deterministic split → fan out one activity per candidate (and a baseline) → pick the
/// winner on validation → score winner and champion on test → quality gates → register → approval → promote.
/// Deterministic: every decision is made on activity results, time and ids come from the context.
/// </summary>
public sealed class TrainingOrchestrator : Workflow<TrainingRequest, TrainingOutcome>
{
    /// <summary>The external event that carries an <see cref="ApprovalDecision"/>.</summary>
    public const string ApprovalEvent = "approval";

    private static readonly WorkflowTaskOptions StorageRetry =
        WorkflowTaskOptions.WithRetry(new WorkflowRetryPolicy(4, TimeSpan.FromSeconds(1), 2.0, TimeSpan.FromSeconds(20)));

    private static readonly WorkflowTaskOptions TrainingRetry =
        WorkflowTaskOptions.WithRetry(new WorkflowRetryPolicy(2, TimeSpan.FromSeconds(2)));

    public override async Task<TrainingOutcome> RunAsync(IWorkflowContext context, TrainingRequest input)
    {
        var logger = context.CreateReplaySafeLogger(nameof(TrainingOrchestrator));
        var notes = new List<string>();

        context.SetCustomStatus(new TrainingProgress("planning"));
        var plan = await context.CallActivityAsync<TrainingPlan>(nameof(LoadTrainingPlan), input, StorageRetry);
        logger.LogInformation("Training {ModelName} on {DatasetVersion}: {CandidateCount} candidates, primary metric {Metric}",
            plan.Model, plan.DatasetVersion, plan.Candidates.Count, plan.PrimaryMetric);

        // Not retried: a dataset that fails validation fails the same way again. The run fails with the reasons.
        context.SetCustomStatus(new TrainingProgress("validating"));
        await context.CallActivityAsync<DatasetCheck>(nameof(ValidateDataset), new DatasetRef(plan.Model, plan.DatasetVersion));

        context.SetCustomStatus(new TrainingProgress("splitting"));
        var splits = await context.CallActivityAsync<SplitRefs>(
            nameof(SplitDataset), new SplitInput(plan.Model, plan.DatasetVersion, plan.Seed, plan.TimeColumn), StorageRetry);

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

        context.SetCustomStatus(new TrainingProgress("evaluating"));
        var winnerTestTask = context.CallActivityAsync<EvaluationResult>(
            nameof(EvaluateModel), new EvaluationInput(plan.Model, winner.ModelBlob!, splits.Test, plan.DatasetVersion), StorageRetry);
        var championTask = plan.ChampionModelBlob is null
            ? null
            : context.CallActivityAsync<EvaluationResult>(
                nameof(EvaluateModel), new EvaluationInput(plan.Model, plan.ChampionModelBlob, splits.Test, plan.DatasetVersion), StorageRetry);
        var winnerTest = await winnerTestTask;
        var baseline = await baselineTask;
        EvaluationResult? champion = null;
        if (championTask is not null)
        {
            try
            {
                champion = await championTask;
            }
            catch (WorkflowTaskFailedException e)
            {
                notes.Add($"The champion {plan.ChampionVersion} could not be scored on this data ({e.FailureDetails.ErrorMessage}); compared with the baseline only.");
            }
        }

        var summaries = candidates.Select(c => new CandidateSummary(c.RunId, c.Candidate.ToString(), c.Succeeded, c.ValidationMetrics, c.Error)).ToList();
        TrainingOutcome Outcome(string status, string? version) =>
            new(plan.Model, status, plan.DatasetVersion, version, winner.Candidate.ToString(), winnerTest.Metrics, summaries, notes);

        var gate = QualityGate.Check(plan, winnerTest, baseline, champion);
        notes.AddRange(gate.Notes);
        if (!gate.Passed)
        {
            logger.LogWarning("{ModelName}: {Winner} failed the quality gate: {GateNotes}", plan.Model, winner.Candidate, string.Join(" ", gate.Notes));
            return Outcome(TrainingStatus.GateFailed, null);
        }
        if (gate.TrailsChampion)
        {
            logger.LogInformation("{ModelName}: challenger trails champion {ChampionVersion}; champion retained", plan.Model, plan.ChampionVersion);
            return Outcome(TrainingStatus.ChampionRetained, null);
        }

        context.SetCustomStatus(new TrainingProgress("registering"));
        var manual = plan.Approval == ApprovalMode.Manual;
        var registered = await context.CallActivityAsync<RegisteredVersion>(nameof(RegisterModel), new RegisterInput(
            plan, context.InstanceId, winner, winnerTest, baseline, champion, splits, notes,
            manual ? VersionStatus.PendingApproval : VersionStatus.Approved), StorageRetry);

        if (manual)
        {
            context.SetCustomStatus(new TrainingProgress("awaitingApproval", Version: registered.Version));
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
                return Outcome(TrainingStatus.Expired, registered.Version);
            }
            var status = decision.Approved ? VersionStatus.Approved : VersionStatus.Rejected;
            await context.CallActivityAsync<RegisteredVersion>(nameof(SetVersionStatus), new VersionStatusInput(
                plan.Model, registered.Version, status, decision.By, decision.Reason ?? ""), StorageRetry);
            if (!decision.Approved)
            {
                notes.Add($"{registered.Version} rejected by {decision.By}: {decision.Reason}");
                return Outcome(TrainingStatus.Rejected, registered.Version);
            }
        }

        context.SetCustomStatus(new TrainingProgress("promoting", Version: registered.Version));
        await context.CallActivityAsync<PromotionResult>(nameof(PromoteModel), new PromoteInput(
            plan.Model, registered.Version, manual ? "approval" : "auto", $"training run {context.InstanceId} ({input.Trigger})"), StorageRetry);
        context.SetCustomStatus(new TrainingProgress("done", Version: registered.Version));
        return Outcome(TrainingStatus.Promoted, registered.Version);
    }

    /// <summary>Fans out one activity per candidate; a failed candidate is kept as a failed result and does not fail the run.</summary>
    private static async Task<IReadOnlyList<CandidateResult>> TrainCandidatesAsync(IWorkflowContext context, TrainingPlan plan, SplitRefs splits)
    {
        var total = plan.Candidates.Count;
        context.SetCustomStatus(new TrainingProgress("training", 0, total));
        var pending = plan.Candidates.Select((candidate, index) => TrainOneAsync(context, plan, splits, candidate, $"{context.InstanceId}-c{index:D2}")).ToList();
        var remaining = pending.ToList();
        while (remaining.Count > 0)
        {
            var done = await Task.WhenAny(remaining);
            remaining.Remove(done);
            context.SetCustomStatus(new TrainingProgress("training", total - remaining.Count, total));
        }
        return [.. pending.Select(t => t.Result)];
    }

    private static async Task<CandidateResult> TrainOneAsync(IWorkflowContext context, TrainingPlan plan, SplitRefs splits, CandidateSpec candidate, string runId)
    {
        try
        {
            return await context.CallActivityAsync<CandidateResult>(nameof(TrainCandidate),
                new CandidateInput(plan.Model, plan.DatasetVersion, context.InstanceId, runId, candidate, splits), TrainingRetry);
        }
        catch (WorkflowTaskFailedException e)
        {
            return new CandidateResult(runId, candidate, false, new Dictionary<string, double>(), null, 0, e.FailureDetails.ErrorMessage);
        }
    }
}
