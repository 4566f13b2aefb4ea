using System.Collections.Concurrent;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Tracking;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Orchestrations;
using Serverless.Orchestrations.Activities;
using Serverless.Testing;

namespace Serverless.Tests.Orchestrations;

/// <summary>
/// The decisions of the real <see cref="TrainingOrchestrator"/>, run on the in-memory Durable Task engine with stub
/// activities: quality gate, champion/challenger, approval, failed candidates and promotion as a compare-and-swap.
/// </summary>
public sealed class TrainingOrchestratorTests
{
    [Fact]
    public async Task RunAsync_WinnerNoBetterThanBaseline_EndsGateFailedWithoutRegistering()
    {
        await using var run = new StubbedTrainingRun();
        run.TestMetrics[StubbedTrainingRun.WinnerBlob] = StubbedTrainingRun.Scores(rmse: 9.5, r2: 0.0);

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.GateFailed, outcome.Status);
        Assert.Null(outcome.Version);
        Assert.Contains(outcome.Notes, n => n.Contains("does not beat the baseline", StringComparison.Ordinal));
        Assert.Equal(TrainingStatus.GateFailed, StubbedTrainingRun.Progress(done).Stage);
        Assert.Empty(run.InputsOf<RegisterInput>(nameof(RegisterModel)));
    }

    [Fact]
    public async Task RunAsync_MinimumNotMet_EndsGateFailedWithoutRegistering()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { Minimums = new Dictionary<string, double> { ["r2"] = 0.95 } };

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.GateFailed, outcome.Status);
        Assert.Contains(outcome.Notes, n => n.Contains("r2", StringComparison.Ordinal) && n.Contains("at least", StringComparison.Ordinal));
        Assert.Equal(TrainingStatus.GateFailed, StubbedTrainingRun.Progress(done).Stage);
        Assert.Empty(run.InputsOf<RegisterInput>(nameof(RegisterModel)));
    }

    [Fact]
    public async Task RunAsync_ChampionClearlyBetter_RetainsChampionWithoutRegistering()
    {
        await using var run = new StubbedTrainingRun();
        run.TestMetrics[StubbedTrainingRun.ChampionBlob] = StubbedTrainingRun.Scores(rmse: 1.0, r2: 0.97);

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.ChampionRetained, outcome.Status);
        Assert.Null(outcome.Version);
        Assert.Equal("v3", outcome.Champion);
        Assert.Equal(TrainingStatus.ChampionRetained, StubbedTrainingRun.Progress(done).Stage);
        Assert.Empty(run.InputsOf<RegisterInput>(nameof(RegisterModel)));
        Assert.Empty(run.InputsOf<PromoteInput>(nameof(PromoteModel)));
        var retained = Assert.Single(run.InputsOf<ChampionRetainedInput>(nameof(RecordChampionRetained)));
        Assert.Null(retained.Version);
        var comparison = retained.Comparison!;
        Assert.Equal(("v3", "rmse", 2.1, 1.0, 0.01, true), (comparison.ChampionVersion, comparison.Metric, comparison.Challenger, comparison.Champion, comparison.Tolerance, comparison.ChallengerTrails));
        Assert.Equal((StubbedTrainingRun.UnseenByChampion, 120L), (comparison.MeasuredOn.DataBlob, comparison.MeasuredOn.Rows));
    }

    [Fact]
    public async Task RunAsync_WinnerChosenOnValidation_IsRefitOnTrainAndValidationBeforeTestAndRegistration()
    {
        await using var run = new StubbedTrainingRun();

        var done = await run.RunToCompletionAsync();

        Assert.Equal("train+validation", StubbedTrainingRun.Outcome(done).FitOn);
        var refit = Assert.Single(run.InputsOf<RefitInput>(nameof(RefitWinner)));
        Assert.Equal((StubbedTrainingRun.FastTree.ToString(), StubbedTrainingRun.Splits), (refit.Candidate.ToString(), refit.Splits));
        var refitBlob = StubbedTrainingRun.RefitBlob("FastTree");
        Assert.Contains(run.InputsOf<EvaluationInput>(nameof(EvaluateModel)), e => e.ModelBlob == refitBlob && e.DataBlob == StubbedTrainingRun.Splits.Test);
        Assert.DoesNotContain(run.InputsOf<EvaluationInput>(nameof(EvaluateModel)), e => e.ModelBlob == StubbedTrainingRun.WinnerBlob);
        var registered = Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel)));
        Assert.Equal((refitBlob, FitSets.TrainAndValidation), (registered.Fit!.ModelBlob, registered.Fit.On));
        var order = run.ActivityNames();
        Assert.True(order.IndexOf(nameof(RefitWinner)) < order.IndexOf(nameof(EvaluateModel)), string.Join(", ", order));
    }

    [Fact]
    public async Task RunAsync_RefitFails_RegistersTheWinnerFitOnTrainAndSaysSo()
    {
        await using var run = new StubbedTrainingRun { RefitFails = true };

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal((TrainingStatus.Promoted, "train"), (outcome.Status, outcome.FitOn));
        Assert.Contains(outcome.Notes, n => n.Contains("refit ran out of memory", StringComparison.Ordinal));
        Assert.Equal(StubbedTrainingRun.WinnerBlob, Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel))).Fit!.ModelBlob);
    }

    [Fact]
    public async Task RunAsync_WithChampion_ComparesBothOnlyOnTestRowsTheChampionNeverSaw()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { ChampionRowHashesBlob = "taxi/runs/v3-refit/fit-rows.bin" };

        var done = await run.RunToCompletionAsync();

        Assert.Equal(TrainingStatus.Promoted, StubbedTrainingRun.Outcome(done).Status);
        var prepared = Assert.Single(run.InputsOf<ComparisonInput>(nameof(PrepareComparison)));
        Assert.Equal(("v3", "taxi/runs/v3-refit/fit-rows.bin"), (prepared.ChampionVersion, prepared.ChampionRowHashesBlob));
        var onUnseen = run.InputsOf<EvaluationInput>(nameof(EvaluateModel)).Where(e => e.DataBlob == StubbedTrainingRun.UnseenByChampion).Select(e => e.ModelBlob).ToHashSet();
        Assert.Equal([StubbedTrainingRun.ChampionBlob, StubbedTrainingRun.RefitBlob("FastTree")], onUnseen);
        Assert.DoesNotContain(run.InputsOf<EvaluationInput>(nameof(EvaluateModel)), e => e.ModelBlob == StubbedTrainingRun.ChampionBlob && e.DataBlob == StubbedTrainingRun.Splits.Test);
        var registered = Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel)));
        Assert.Equal((StubbedTrainingRun.UnseenByChampion, 2.6), (registered.Comparison!.MeasuredOn.DataBlob, registered.Comparison.Champion));
    }

    [Fact]
    public async Task RunAsync_NoTestRowTheChampionNeverSaw_JudgesAgainstTheBaselineOnlyAndSaysSo()
    {
        await using var run = new StubbedTrainingRun();
        run.TestMetrics[StubbedTrainingRun.ChampionBlob] = StubbedTrainingRun.Scores(rmse: 0.5, r2: 0.99);
        run.Comparison = input => new ComparisonSet(input.ChampionVersion, StubbedTrainingRun.UnseenBy(input.ChampionVersion), 0, 150, ChampionRowsKnown: true);

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Promoted, outcome.Status);
        Assert.Contains(outcome.Notes, n => n.Contains("cannot be compared fairly", StringComparison.Ordinal));
        Assert.DoesNotContain(run.InputsOf<EvaluationInput>(nameof(EvaluateModel)), e => e.ModelBlob == StubbedTrainingRun.ChampionBlob);
    }

    [Fact]
    public async Task RunAsync_ManualApprovalApproved_ApprovesThenPromotes()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { Approval = ApprovalMode.Manual };
        var id = await run.StartAsync();
        var waiting = await run.WaitForStageAsync(id, TrainingStages.AwaitingApproval);

        await run.Client.RaiseEventAsync(id, TrainingOrchestrator.ApprovalEvent, new ApprovalDecision(true, "alice", "ok"), run.Timeout);
        var done = await run.WaitForCompletionAsync(id);

        Assert.Equal(StubbedTrainingRun.NewVersion, StubbedTrainingRun.Progress(waiting).Version);
        Assert.Equal(VersionStatus.PendingApproval, Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel))).Status);
        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Promoted, outcome.Status);
        Assert.Equal(StubbedTrainingRun.NewVersion, outcome.Version);
        Assert.Equal(TrainingStatus.Promoted, StubbedTrainingRun.Progress(done).Stage);
        var approval = Assert.Single(run.InputsOf<VersionStatusInput>(nameof(SetVersionStatus)));
        Assert.Equal((VersionStatus.Approved, "alice", "ok"), (approval.Status, approval.Actor, approval.Reason));
        var promotion = Assert.Single(run.InputsOf<PromoteInput>(nameof(PromoteModel)));
        Assert.Equal(("approval", "v3"), (promotion.Actor, promotion.ExpectedProduction));
        var order = run.ActivityNames();
        Assert.True(order.IndexOf(nameof(SetVersionStatus)) < order.IndexOf(nameof(PromoteModel)), string.Join(", ", order));
    }

    [Fact]
    public async Task RunAsync_ManualApprovalRejected_MarksRejectedWithoutPromoting()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { Approval = ApprovalMode.Manual };
        var id = await run.StartAsync();
        await run.WaitForStageAsync(id, TrainingStages.AwaitingApproval);

        await run.Client.RaiseEventAsync(id, TrainingOrchestrator.ApprovalEvent, new ApprovalDecision(false, "bob", "not yet"), run.Timeout);
        var done = await run.WaitForCompletionAsync(id);

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Rejected, outcome.Status);
        Assert.Equal(StubbedTrainingRun.NewVersion, outcome.Version);
        Assert.Equal(TrainingStatus.Rejected, StubbedTrainingRun.Progress(done).Stage);
        var rejection = Assert.Single(run.InputsOf<VersionStatusInput>(nameof(SetVersionStatus)));
        Assert.Equal((VersionStatus.Rejected, "bob", "not yet"), (rejection.Status, rejection.Actor, rejection.Reason));
        Assert.Empty(run.InputsOf<PromoteInput>(nameof(PromoteModel)));
    }

    [Fact]
    public async Task RunAsync_NoApprovalWithinTimeout_MarksExpiredWithoutPromoting()
    {
        await using var run = new StubbedTrainingRun();
        run.Plan = run.Plan with { Approval = ApprovalMode.Manual, ApprovalTimeout = TimeSpan.FromSeconds(2) };

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Expired, outcome.Status);
        Assert.Equal(StubbedTrainingRun.NewVersion, outcome.Version);
        Assert.Equal(TrainingStatus.Expired, StubbedTrainingRun.Progress(done).Stage);
        var expiry = Assert.Single(run.InputsOf<VersionStatusInput>(nameof(SetVersionStatus)));
        Assert.Equal((VersionStatus.Expired, "system"), (expiry.Status, expiry.Actor));
        Assert.Empty(run.InputsOf<PromoteInput>(nameof(PromoteModel)));
    }

    [Fact]
    public async Task RunAsync_Promoted_AuditsItsStartAndEndWithTheOutcome()
    {
        await using var run = new StubbedTrainingRun();

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        var events = run.InputsOf<TrainingAuditInput>(nameof(RecordTrainingEvent));
        Assert.Equal([AuditActions.TrainingStarted, AuditActions.TrainingEnded], events.Select(e => e.Action).ToArray());
        Assert.Equal((TrainingStatus.Promoted, outcome.Version, "tests"), (events[1].Status, events[1].Version, events[1].Actor));
        Assert.All(events, e => Assert.Equal(done.InstanceId, e.InstanceId));
    }

    [Fact]
    public async Task RunAsync_EveryCandidateFailsAfterItStarted_AuditsTheFailureAsItsEnd()
    {
        await using var run = new StubbedTrainingRun();
        run.FailingTrainers.UnionWith(["FastTree", "Sdca"]);

        await run.RunToCompletionAsync();

        var ended = run.InputsOf<TrainingAuditInput>(nameof(RecordTrainingEvent))[^1];
        Assert.Equal((AuditActions.TrainingEnded, TrainingStages.Failed), (ended.Action, ended.Status));
        Assert.Contains(StubbedTrainingRun.FastTree.ToString(), ended.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EveryCandidateFails_FailsNamingTheCandidates()
    {
        await using var run = new StubbedTrainingRun();
        run.FailingTrainers.UnionWith(["FastTree", "Sdca"]);

        var done = await run.RunToCompletionAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        var message = done.FailureDetails?.ErrorMessage ?? "";
        Assert.Contains(StubbedTrainingRun.FastTree.ToString(), message, StringComparison.Ordinal);
        Assert.Contains(StubbedTrainingRun.Sdca.ToString(), message, StringComparison.Ordinal);
        Assert.Equal(TrainingStages.Failed, StubbedTrainingRun.Progress(done).Stage);
        // TrainingRetry: each candidate is tried twice before it counts as failed.
        Assert.Equal(4, run.InputsOf<CandidateInput>(nameof(TrainCandidate)).Count);
        Assert.Empty(run.InputsOf<RegisterInput>(nameof(RegisterModel)));
    }

    [Fact]
    public async Task RunAsync_EveryCandidateFailsForOneReason_SaysTheReasonOnceNamingThemAll()
    {
        const string reason = "40 rows scored together hold no row of class 'yes'";
        await using var run = new StubbedTrainingRun { SharedTrainingError = reason };
        run.FailingTrainers.UnionWith(["FastTree", "Sdca"]);

        var done = await run.RunToCompletionAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        var message = done.FailureDetails?.ErrorMessage ?? "";
        Assert.Contains($"{StubbedTrainingRun.FastTree}, {StubbedTrainingRun.Sdca}: {reason}", message, StringComparison.Ordinal);
        Assert.Equal(message.IndexOf(reason, StringComparison.Ordinal), message.LastIndexOf(reason, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_DatasetCheckRefuses_FailsWithTheCheckReasonAsItsMessage()
    {
        const string reason = "Dataset taxi/ds-1 cannot be trained on: the data is missing.";
        await using var run = new StubbedTrainingRun { DatasetCheckError = reason };

        var done = await run.RunToCompletionAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Equal(reason, done.FailureDetails?.ErrorMessage);
        Assert.Empty(run.InputsOf<SplitInput>(nameof(SplitDataset)));
        Assert.Equal(reason, run.InputsOf<TrainingAuditInput>(nameof(RecordTrainingEvent))[^1].Reason);
    }

    [Fact]
    public async Task RunAsync_SplitWithoutTestRows_FailsSayingSoBeforeAnyTraining()
    {
        await using var run = new StubbedTrainingRun { Split = StubbedTrainingRun.Splits with { TrainRows = 8, ValidationRows = 0, TestRows = 0 } };

        var done = await run.RunToCompletionAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        var message = done.FailureDetails?.ErrorMessage ?? "";
        Assert.Contains("The split of 8 rows gave 8 train, 0 validation and 0 test rows", message, StringComparison.Ordinal);
        Assert.Contains($"at least {SplitRefs.MinMeasuredRows} test rows", message, StringComparison.Ordinal);
        Assert.Contains("Upload more rows", message, StringComparison.Ordinal);
        Assert.Empty(run.InputsOf<CandidateInput>(nameof(TrainCandidate)));
        Assert.Empty(run.InputsOf<BaselineInput>(nameof(EvaluateBaseline)));
        var ended = run.InputsOf<TrainingAuditInput>(nameof(RecordTrainingEvent))[^1];
        Assert.Equal((AuditActions.TrainingEnded, TrainingStages.Failed), (ended.Action, ended.Status));
        Assert.Contains("0 test rows", ended.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TimeOrderedSplitWithOneValidationRow_FailsNamingTheValidationSplit()
    {
        // A time-ordered split is never cross-validated: its candidates are chosen on validation, which needs rows.
        await using var run = new StubbedTrainingRun { Split = StubbedTrainingRun.Splits with { TrainRows = 9, ValidationRows = 1, TestRows = 3, TimeColumn = "day" } };

        var done = await run.RunToCompletionAsync();

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        var message = done.FailureDetails?.ErrorMessage ?? "";
        Assert.Contains("gave 9 train, 1 validation and 3 test rows", message, StringComparison.Ordinal);
        Assert.Contains($"a time-ordered split is never cross-validated) needs at least {SplitRefs.MinMeasuredRows} validation rows", message, StringComparison.Ordinal);
        Assert.Empty(run.InputsOf<CandidateInput>(nameof(TrainCandidate)));
    }

    [Fact]
    public async Task RunAsync_SmallSplitCrossValidated_TrainsWithTwoTestRowsAndNoValidationRows()
    {
        // Cross-validated, a split needs no validation rows of its own; two test rows are enough to run.
        await using var run = new StubbedTrainingRun { Split = StubbedTrainingRun.Splits with { TrainRows = 14, ValidationRows = 0, TestRows = 2 } };
        run.Plan = run.Plan with { CrossValidationFolds = 5, CrossValidationMaxRows = TrainingOptions.DefaultCrossValidationMaxRows };

        var done = await run.RunToCompletionAsync();

        Assert.Equal(TrainingStatus.Promoted, StubbedTrainingRun.Outcome(done).Status);
        Assert.All(run.InputsOf<CandidateInput>(nameof(TrainCandidate)), c => Assert.Equal(5, c.CrossValidationFolds));
    }

    [Fact]
    public async Task RunAsync_OneCandidateFails_ContinuesAndReportsTheFailure()
    {
        await using var run = new StubbedTrainingRun();
        run.FailingTrainers.Add("Sdca");

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Promoted, outcome.Status);
        Assert.Equal(StubbedTrainingRun.FastTree.ToString(), outcome.Winner);
        var failed = Assert.Single(outcome.Candidates, c => c.Trainer == StubbedTrainingRun.Sdca.Trainer);
        Assert.False(failed.Succeeded);
        Assert.Contains(StubbedTrainingRun.TrainingError("Sdca"), failed.Error, StringComparison.Ordinal);
        Assert.True(Assert.Single(outcome.Candidates, c => c.Trainer == StubbedTrainingRun.FastTree.Trainer).Succeeded);
    }

    [Fact]
    public async Task RunAsync_ChampionCannotBeScored_PromotesAndNotesIt()
    {
        await using var run = new StubbedTrainingRun();
        run.TestMetrics.Remove(StubbedTrainingRun.ChampionBlob);

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Promoted, outcome.Status);
        Assert.Equal(TrainingStatus.Promoted, StubbedTrainingRun.Progress(done).Stage);
        Assert.Contains(outcome.Notes, n => n.Contains("champion v3 could not be scored", StringComparison.Ordinal));
        Assert.Null(Assert.Single(run.InputsOf<RegisterInput>(nameof(RegisterModel))).Champion);
    }

    [Fact]
    public async Task RunAsync_ProductionMovedToBetterChampion_RetainsNewChampion()
    {
        await using var run = new StubbedTrainingRun();
        run.ProductionMoves.Enqueue(("v9", StubbedTrainingRun.RivalBlob));
        run.TestMetrics[StubbedTrainingRun.RivalBlob] = StubbedTrainingRun.Scores(rmse: 1.0, r2: 0.97);

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.ChampionRetained, outcome.Status);
        Assert.Equal(StubbedTrainingRun.NewVersion, outcome.Version);
        Assert.Equal(TrainingStatus.ChampionRetained, StubbedTrainingRun.Progress(done).Stage);
        var rivalScoring = Assert.Single(run.InputsOf<EvaluationInput>(nameof(EvaluateModel)), e => e.ModelBlob == StubbedTrainingRun.RivalBlob);
        Assert.Equal(StubbedTrainingRun.UnseenBy("v9"), rivalScoring.DataBlob);
        var retained = Assert.Single(run.InputsOf<ChampionRetainedInput>(nameof(RecordChampionRetained)));
        Assert.Equal(("v9", StubbedTrainingRun.NewVersion), (retained.Champion, retained.Version));
        Assert.Single(run.InputsOf<PromoteInput>(nameof(PromoteModel)));
    }

    [Fact]
    public async Task RunAsync_ProductionMovedToWorseChampion_PromotesOverIt()
    {
        await using var run = new StubbedTrainingRun();
        run.ProductionMoves.Enqueue(("v9", StubbedTrainingRun.RivalBlob));
        run.TestMetrics[StubbedTrainingRun.RivalBlob] = StubbedTrainingRun.Scores(rmse: 3.0, r2: 0.8);

        var done = await run.RunToCompletionAsync();

        var outcome = StubbedTrainingRun.Outcome(done);
        Assert.Equal(TrainingStatus.Promoted, outcome.Status);
        Assert.Equal(TrainingStatus.Promoted, StubbedTrainingRun.Progress(done).Stage);
        Assert.Single(run.InputsOf<EvaluationInput>(nameof(EvaluateModel)), e => e.ModelBlob == StubbedTrainingRun.RivalBlob);
        var promotions = run.InputsOf<PromoteInput>(nameof(PromoteModel));
        Assert.Equal(new[] { "v3", "v9" }, promotions.Select(p => p.ExpectedProduction));
        Assert.Empty(run.InputsOf<ChampionRetainedInput>(nameof(RecordChampionRetained)));
    }
}

/// <summary>
/// One training run of the real <see cref="TrainingOrchestrator"/> on a <see cref="DurableTaskTestHost"/> of its own, every activity
/// a stub that answers from the canned data below and records its input (each retry attempt included). By default: two
/// candidates, FastTree the winner, a champion v3 it beats, automatic approval, production still on v3 at promotion.
/// </summary>
internal sealed class StubbedTrainingRun : IAsyncDisposable
{
    public const string Model = "taxi";
    public const string NewVersion = "v4";
    public const string ChampionBlob = "taxi/v3/model.zip";
    public const string RivalBlob = "taxi/v9/model.zip";
    public static readonly string WinnerBlob = CandidateBlob("FastTree");
    public const string UnseenByChampion = "taxi/ds-1/test-unseen-by-v3.csv";

    public static readonly CandidateSpec FastTree = new("FastTree", new Dictionary<string, double> { ["numberOfLeaves"] = 20 });
    public static readonly CandidateSpec Sdca = new("Sdca", new Dictionary<string, double>());
    public static readonly SplitRefs Splits = new("taxi/ds-1/train.csv", "taxi/ds-1/validation.csv", "taxi/ds-1/test.csv", 42, 700, 150, 150);

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private readonly ConcurrentQueue<(string Activity, object Input)> _calls = new();
    private readonly object _promotionLock = new();
    private DurableTaskTestHost? _host;

    /// <summary>The split the stub of <c>SplitDataset</c> answers.</summary>
    public SplitRefs Split { get; set; } = Splits;

    public TrainingPlan Plan { get; set; } = new(
        Model, "ds-1", "sha-ds-1", TaskKind.Regression, "rmse", 42, null, [FastTree, Sdca], new Dictionary<string, double>(),
        0.01, ApprovalMode.Auto, TimeSpan.FromHours(1), "v3", ChampionBlob);

    /// <summary>Validation rmse by trainer; the lower wins.</summary>
    public Dictionary<string, double> ValidationRmse { get; } = new() { ["FastTree"] = 2.0, ["Sdca"] = 3.0 };

    /// <summary>How a trainer's validation metric was measured, when a test sets it (else plain validation or folds, no parts, no cost).</summary>
    public Dictionary<string, SelectionMeasure> Selections { get; } = [];

    /// <summary>Whether refitting the winner throws on every attempt.</summary>
    public bool RefitFails { get; set; }

    /// <summary>The comparison set with the champion: by default 120 test rows it never saw, 30 it was fit on left out.</summary>
    public Func<ComparisonInput, ComparisonSet> Comparison { get; set; } =
        input => new ComparisonSet(input.ChampionVersion, UnseenBy(input.ChampionVersion), 120, 30, ChampionRowsKnown: true);

    public static string UnseenBy(string version) => $"taxi/ds-1/test-unseen-by-{version}.csv";

    /// <summary>The model.zip of the winner refit on train and validation.</summary>
    public static string RefitBlob(string trainer) => CandidateBlob(trainer).Replace("model.zip", "refit/model.zip", StringComparison.Ordinal);

    /// <summary>Why the dataset check refuses the data, when a test sets it.</summary>
    public string? DatasetCheckError { get; set; }

    /// <summary>The error every failing trainer throws, when a test sets one (else each its own, <see cref="TrainingError"/>).</summary>
    public string? SharedTrainingError { get; set; }

    /// <summary>Trainers whose training throws on every attempt.</summary>
    public HashSet<string> FailingTrainers { get; } = [];

    /// <summary>Test metrics by model blob; scoring a blob not listed throws.</summary>
    public Dictionary<string, IReadOnlyDictionary<string, double>> TestMetrics { get; } = new()
    {
        [CandidateBlob("FastTree")] = Scores(rmse: 2.1, r2: 0.9),
        [CandidateBlob("Sdca")] = Scores(rmse: 3.1, r2: 0.8),
        [ChampionBlob] = Scores(rmse: 2.6, r2: 0.85),
    };

    public IReadOnlyDictionary<string, double> BaselineMetrics { get; set; } = Scores(rmse: 9.0, r2: 0.0);

    /// <summary>Versions another run promotes first: each <c>PromoteModel</c> call takes one and reports production moved to it.</summary>
    public Queue<(string Version, string ModelBlob)> ProductionMoves { get; } = new();

    public CancellationToken Timeout => _timeout.Token;

    public DurableTaskClient Client => _host?.Client ?? throw new InvalidOperationException("The run has not started.");

    public static IReadOnlyDictionary<string, double> Scores(double rmse, double r2) =>
        new Dictionary<string, double> { ["rmse"] = rmse, ["mae"] = rmse * 0.8, ["r2"] = r2 };

    public static string TrainingError(string trainer) => $"{trainer} ran out of memory";

    public static TrainingOutcome Outcome(OrchestrationMetadata done)
    {
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        return done.ReadOutputAs<TrainingOutcome>() ?? throw new InvalidOperationException("The run has no output.");
    }

    public static TrainingProgress Progress(OrchestrationMetadata state) =>
        state.ReadCustomStatusAs<TrainingProgress>() ?? throw new InvalidOperationException("The run has no custom status.");

    /// <summary>Inputs the stub of <paramref name="activity"/> received, in call order.</summary>
    public IReadOnlyList<T> InputsOf<T>(string activity) =>
        [.. _calls.Where(c => c.Activity == activity).Select(c => (T)c.Input)];

    /// <summary>Names of the activities called, in call order.</summary>
    public List<string> ActivityNames() => [.. _calls.Select(c => c.Activity)];

    public async Task<OrchestrationMetadata> RunToCompletionAsync() => await WaitForCompletionAsync(await StartAsync());

    public async Task<string> StartAsync()
    {
        _host = await DurableTaskTestHost.StartAsync(Register, new DurableTaskTestHostOptions
        {
            Port = AzuriteProcess.FreePort(),
            ConfigureServices = services => services.AddSingleton<DataConverter>(DurablePayloads.Converter),
        }, Timeout);
        return await Client.ScheduleNewOrchestrationInstanceAsync(
            nameof(TrainingOrchestrator), new TrainingRequest(Model, "ds-1", "test", "tests"), Timeout);
    }

    public async Task<OrchestrationMetadata> WaitForCompletionAsync(string id) =>
        await Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, Timeout);

    public async Task<OrchestrationMetadata> WaitForStageAsync(string id, string stage)
    {
        while (true)
        {
            var state = await Client.GetInstanceAsync(id, getInputsAndOutputs: true, Timeout)
                ?? throw new InvalidOperationException($"Instance {id} does not exist.");
            if (state.ReadCustomStatusAs<TrainingProgress>()?.Stage == stage) return state;
            Assert.False(state.IsCompleted, $"Run ended as {state.RuntimeStatus} before reaching {stage}: {state.SerializedCustomStatus}");
            await Task.Delay(100, Timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null) await _host.DisposeAsync();
        _timeout.Dispose();
    }

    private static string CandidateBlob(string trainer) => $"taxi/candidates/{trainer}/model.zip";

    private T Record<T>(string activity, object input, Func<T> answer)
    {
        _calls.Enqueue((activity, input));
        return answer();
    }

    private void Register(DurableTaskRegistry tasks)
    {
        tasks.AddOrchestrator<TrainingOrchestrator>();
        tasks.AddActivityFunc<TrainingRequest, TrainingPlan>(nameof(LoadTrainingPlan),
            (_, input) => Record(nameof(LoadTrainingPlan), input, () => Plan));
        tasks.AddActivityFunc<DatasetRef, DatasetCheck>(nameof(ValidateDataset),
            (_, input) => Record(nameof(ValidateDataset), input, () => DatasetCheckError is { } error
                ? throw new DatasetValidationException(error)
                : new DatasetCheck(input.DatasetVersion, Plan.DatasetSha256, 1000)));
        tasks.AddActivityFunc<SplitInput, SplitRefs>(nameof(SplitDataset),
            (_, input) => Record(nameof(SplitDataset), input, () => Split));
        tasks.AddActivityFunc<BaselineInput, EvaluationResult>(nameof(EvaluateBaseline),
            (_, input) => Record(nameof(EvaluateBaseline), input, () => new EvaluationResult("baseline", BaselineMetrics, Splits.TestRows)));
        tasks.AddActivityFunc<CandidateInput, CandidateResult>(nameof(TrainCandidate),
            (_, input) => Record(nameof(TrainCandidate), input, () => Train(input)));
        tasks.AddActivityFunc<RefitInput, ModelFit>(nameof(RefitWinner),
            (_, input) => Record(nameof(RefitWinner), input, () => RefitFails
                ? throw new InvalidOperationException("refit ran out of memory")
                : new ModelFit(input.RunId, FitSets.TrainAndValidation, 850, RefitBlob(input.Candidate.Trainer), $"taxi/runs/{input.RunId}/fit-rows.bin")));
        tasks.AddActivityFunc<ComparisonInput, ComparisonSet>(nameof(PrepareComparison),
            (_, input) => Record(nameof(PrepareComparison), input, () => Comparison(input)));
        tasks.AddActivityFunc<EvaluationInput, EvaluationResult>(nameof(EvaluateModel),
            (_, input) => Record(nameof(EvaluateModel), input, () => Evaluate(input)));
        tasks.AddActivityFunc<RegisterInput, RegisteredVersion>(nameof(RegisterModel),
            (_, input) => Record(nameof(RegisterModel), input, () => new RegisteredVersion(input.Plan.Model, NewVersion, "sha-v4")));
        tasks.AddActivityFunc<VersionStatusInput, RegisteredVersion>(nameof(SetVersionStatus),
            (_, input) => Record(nameof(SetVersionStatus), input, () => new RegisteredVersion(input.Model, input.Version, "sha-v4")));
        tasks.AddActivityFunc<PromoteInput, PromotionResult>(nameof(PromoteModel),
            (_, input) => Record(nameof(PromoteModel), input, () => Promote(input)));
        tasks.AddActivityFunc<ChampionRetainedInput, RegisteredVersion>(nameof(RecordChampionRetained),
            (_, input) => Record(nameof(RecordChampionRetained), input, () => new RegisteredVersion(input.Model, input.Version ?? "", "sha-v4")));
        tasks.AddActivityFunc<TrainingAuditInput, bool>(nameof(RecordTrainingEvent),
            (_, input) => Record(nameof(RecordTrainingEvent), input, () => true));
    }

    private CandidateResult Train(CandidateInput input)
    {
        var trainer = input.Candidate.Trainer;
        if (FailingTrainers.Contains(trainer)) throw new InvalidOperationException(SharedTrainingError ?? TrainingError(trainer));
        var selection = input.CrossValidationFolds > 0
            ? new SelectionMeasure(SelectionSets.CrossValidation(input.CrossValidationFolds), input.Splits.TrainRows + input.Splits.ValidationRows)
            : SelectionMeasure.OnValidation(input.Splits.ValidationRows);
        selection = Selections.GetValueOrDefault(trainer, selection);
        return new CandidateResult(input.RunId, input.Candidate, true,
            new Dictionary<string, double> { ["rmse"] = ValidationRmse[trainer] }, CandidateBlob(trainer), 10, Selection: selection);
    }

    /// <summary>A refit model scores as its candidate does unless <see cref="TestMetrics"/> names it.</summary>
    private EvaluationResult Evaluate(EvaluationInput input) =>
        TestMetrics.TryGetValue(input.ModelBlob, out var metrics) || TestMetrics.TryGetValue(input.ModelBlob.Replace("refit/", "", StringComparison.Ordinal), out metrics)
            ? new EvaluationResult(input.ModelBlob, metrics, Splits.TestRows)
            : throw new InvalidDataException($"Model {input.ModelBlob} cannot read {input.DataBlob}.");

    private PromotionResult Promote(PromoteInput input)
    {
        lock (_promotionLock)
        {
            return ProductionMoves.TryDequeue(out var moved)
                ? new PromotionResult(input.Model, input.Version, moved.Version, false, moved.ModelBlob)
                : new PromotionResult(input.Model, input.Version, input.ExpectedProduction, true);
        }
    }
}
