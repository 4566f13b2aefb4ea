using Serverless.Core.Monitoring;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Orchestrations;

/// <summary>
/// Starts a training run: which model, on which dataset version (null: the latest), and why (the trigger, and the reason
/// a person or the drift check gave); a drift-triggered run also names labelled live rows (<see cref="FeedbackRows"/>)
/// added to its train split and the recent rows it must beat the champion on.
/// </summary>
public sealed record TrainingRequest(string Model, string? DatasetVersion, string Trigger, string RequestedBy, FeedbackRows? Feedback = null, string? Reason = null)
{
    /// <summary>What the run's <c>trainingStarted</c> audit record gives as its reason: the trigger, and the reason given with it.</summary>
    public string Why => Reason is { Length: > 0 } reason ? $"{Trigger}: {reason}" : Trigger;
}

/// <summary>A run's train split and the feedback rows to add to it.</summary>
public sealed record FeedbackSplitInput(string Model, SplitRefs Splits, FeedbackRows Feedback);

/// <summary>
/// Everything the orchestrator decides with, resolved once by an activity so replays see the same plan (the
/// cross-validation settings too, so that every candidate of a run is scored the same way whichever host trains it).
/// </summary>
public sealed record TrainingPlan(
    string Model,
    string DatasetVersion,
    string DatasetSha256,
    TaskKind Task,
    string PrimaryMetric,
    int Seed,
    string? TimeColumn,
    IReadOnlyList<CandidateSpec> Candidates,
    IReadOnlyDictionary<string, double> Minimums,
    double ChampionTolerance,
    ApprovalMode Approval,
    TimeSpan ApprovalTimeout,
    string? ChampionVersion,
    string? ChampionModelBlob,
    string? ChampionRowHashesBlob = null,
    SpecSnapshot? Spec = null,
    int CrossValidationFolds = 0,
    long CrossValidationMaxRows = 0,
    double SimplerWithin = 0)
{
    /// <summary>
    /// The folds the candidates of this plan are compared by on a split: <see cref="CrossValidationFolds"/> when train and
    /// validation hold at most <see cref="CrossValidationMaxRows"/> rows and the split is not time-ordered, else 0 (the validation split).
    /// </summary>
    public int FoldsFor(SplitRefs splits) =>
        TrainingOptions.FoldsFor(splits.TrainRows + splits.ValidationRows, CrossValidationFolds, CrossValidationMaxRows, timeOrdered: splits.TimeColumn is not null);
}

/// <summary>A dataset version of a model, and the spec a run means to train it under (null: the one in force).</summary>
public sealed record DatasetRef(string Model, string DatasetVersion, SpecSnapshot? Spec = null);

/// <summary>A training run that starts or ends, for the audit: the run's status and the version it registered, if any.</summary>
public sealed record TrainingAuditInput(string Model, string InstanceId, string Action, string Actor, string Reason, string? Status = null, string? Version = null, string? DatasetVersion = null)
{
    public TrainingEventDetails Details => new(InstanceId, Status, Version, DatasetVersion);
}

/// <summary>The details of a run's <c>trainingStarted</c> and <c>trainingEnded</c> audit records, whoever writes them.</summary>
public sealed record TrainingEventDetails(string InstanceId, string? Status, string? Version, string? DatasetVersion);

/// <summary>A dataset version that passed validation: its verified sha256 and row count.</summary>
public sealed record DatasetCheck(string DatasetVersion, string Sha256, long Rows);

public sealed record SplitInput(string Model, string DatasetVersion, int Seed, string? TimeColumn);

public sealed record BaselineInput(string Model, string DatasetVersion, SplitRefs Splits);

/// <summary>What is registered: the winner, how it and its rivals scored on the test split, and the gate's notes.</summary>
public sealed record RegisterInput(
    TrainingPlan Plan,
    string OrchestrationId,
    CandidateResult Winner,
    EvaluationResult WinnerTest,
    EvaluationResult Baseline,
    EvaluationResult? Champion,
    SplitRefs Splits,
    IReadOnlyList<string> GateNotes,
    string Status,
    ModelFit? Fit = null,
    ChampionComparison? Comparison = null);

public sealed record RegisteredVersion(string Model, string Version, string Sha256);

public sealed record VersionStatusInput(string Model, string Version, string Status, string Actor, string? Reason);

/// <summary>
/// Move production to <paramref name="Version"/> only if it still points at <paramref name="ExpectedProduction"/> (null: no
/// production yet), and, for the training run <paramref name="OrchestrationId"/>, only if no person terminated it.
/// </summary>
public sealed record PromoteInput(string Model, string Version, string Actor, string Reason, string? ExpectedProduction, string? OrchestrationId = null);

/// <summary>
/// What a promotion did: <see cref="Promoted"/> false when production had moved to <see cref="Previous"/> (whose model blob is
/// <see cref="PreviousModelBlob"/>) since the run compared against its champion, or when the version's stored bytes failed
/// their check (<see cref="IntegrityFailure"/> says how): production did not move.
/// </summary>
public sealed record PromotionResult(string Model, string Version, string? Previous, bool Promoted, string? PreviousModelBlob = null, string? PreviousRowHashesBlob = null,
    string? IntegrityFailure = null);

/// <summary>
/// A winner that did not replace the champion: it trailed it on rows neither was trained on (then <see cref="Version"/> is
/// null: it was not registered), or it lost to a champion promoted while its run went on (registered, not promoted).
/// </summary>
public sealed record ChampionRetainedInput(string Model, string? Version, string Champion, string OrchestrationId, string Reason,
    string Candidate = "", ChampionComparison? Comparison = null);

/// <summary>The decision a person sends to the approval gate (event <see cref="TrainingOrchestrator.ApprovalEvent"/>).</summary>
public sealed record ApprovalDecision(bool Approved, string By, string? Reason);

/// <summary>
/// Where a training run stands, the orchestration's custom status (read back with <c>ReadCustomStatusAs&lt;TrainingProgress&gt;</c>).
/// <see cref="Stage"/> is one of <see cref="TrainingStages"/> while the run goes on, and its <see cref="TrainingStatus"/> (or
/// <see cref="TrainingStages.Failed"/>) once it has ended; a run stopped by a person reads <see cref="TrainingStages.Terminated"/>,
/// with the stage it was in as <see cref="StoppedDuring"/>. <see cref="Completed"/> and <see cref="Total"/> count the
/// candidates while they train and are left out of other stages' status (a run's last status once read 0 of 0).
/// </summary>
public sealed record TrainingProgress(
    string Stage,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] int Completed = 0,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] int Total = 0,
    string? Version = null,
    string? StoppedDuring = null)
{
    public string Detail => StoppedDuring is not null ? $"{Stage} during {StoppedDuring}" : Total > 0 ? $"{Stage} {Completed}/{Total}" : Stage;

    /// <summary>Where the run stands as a share of the whole, 0 to 1 (<see cref="TrainingStages.ShareOf"/>); null once it ended.</summary>
    public double? Share => StoppedDuring is null ? TrainingStages.ShareOf(Stage, Completed, Total) : null;
}

/// <summary>Values of <see cref="TrainingProgress.Stage"/> while a run goes on.</summary>
public static class TrainingStages
{
    public const string Planning = "planning";
    public const string Validating = "validating";
    public const string Splitting = "splitting";
    public const string Training = "training";
    public const string Refitting = "refitting";
    public const string Evaluating = "evaluating";
    public const string Registering = "registering";
    public const string AwaitingApproval = "awaitingApproval";
    public const string Promoting = "promoting";
    public const string Failed = "failed";

    /// <summary>Stopped by a person (<c>POST /api/orchestrations/{id}/terminate</c>); the engine runs none of the run's code after it.</summary>
    public const string Terminated = "terminated";

    /// <summary>Where each stage of a going run starts, as a share of the whole: training takes most of it, candidate by candidate.</summary>
    private static readonly Dictionary<string, double> Starts = new(StringComparer.Ordinal)
    {
        [Planning] = 0.05,
        [Validating] = 0.08,
        [Splitting] = 0.12,
        [Training] = 0.15,
        [Refitting] = 0.85,
        [Evaluating] = 0.88,
        [Registering] = 0.92,
        [AwaitingApproval] = 0.95,
        [Promoting] = 0.97,
    };

    /// <summary>
    /// Where a run at <paramref name="stage"/> stands as a share of the whole, 0 to 1, the training stage moving with its
    /// candidates; null for a stage that is not a going run's (failed, terminated, an outcome). What the dashboard's bar
    /// and <c>mlops upload --wait</c> show, so that both say the same.
    /// </summary>
    public static double? ShareOf(string stage, int completed, int total)
    {
        if (!Starts.TryGetValue(stage, out var start)) return null;
        return stage == Training && total > 0 ? start + (Starts[Refitting] - start) * completed / total : start;
    }
}

/// <summary>How a training run ended.</summary>
public sealed record TrainingOutcome(
    string Model,
    string Status,
    string DatasetVersion,
    string? Version,
    string? Winner,
    IReadOnlyDictionary<string, double>? TestMetrics,
    IReadOnlyList<CandidateSummary> Candidates,
    IReadOnlyList<string> Notes,
    string? Champion = null,
    string? FitOn = null,
    string? WinnerRunId = null);

/// <summary>
/// One candidate of a run as its outcome lists it: the trainer and parameters it was trained with, and how it did on the
/// rows the winner was chosen on (<see cref="Selection"/>: <c>validation</c>, or <c>cv5</c> and the like with each fold's score).
/// </summary>
public sealed record CandidateSummary(string RunId, string Trainer, IReadOnlyDictionary<string, double> Parameters, bool Succeeded, IReadOnlyDictionary<string, double> ValidationMetrics, string? Error,
    SelectionMeasure? Selection = null);

/// <summary>Values of <see cref="TrainingOutcome.Status"/>.</summary>
public static class TrainingStatus
{
    public const string Promoted = "promoted";
    public const string ChampionRetained = "championRetained";
    public const string GateFailed = "gateFailed";
    public const string Rejected = "rejected";
    public const string Expired = "expired";
}
