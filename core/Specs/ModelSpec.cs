using System.Text.Json.Serialization;

namespace Serverless.Core.Specs;

/// <summary>The learning task a model solves.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TaskKind>))]
public enum TaskKind { Regression, Binary, Multiclass }

/// <summary>How a column is read and featurized.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ColumnKind>))]
public enum ColumnKind { Numeric, Boolean, Categorical, Text, DateTime }

/// <summary>Whether a registered version is promoted at once or waits for a person.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ApprovalMode>))]
public enum ApprovalMode { Auto, Manual }

/// <summary>Whether a new file replaces the model's data or is appended to it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DataPolicy>))]
public enum DataPolicy { Replace, Append }

/// <summary>
/// The user's description of a model (<c>incoming/{model}/model.json</c> or <c>PUT /api/models/{model}/spec</c>).
/// Every field is optional; what is left out is inferred from the data and written into the dataset version.
/// </summary>
public sealed record ModelSpec
{
    /// <summary>The label column; default: the column named <c>label</c> (any case), else the last column.</summary>
    public string? Label { get; init; }

    /// <summary>The task; default: inferred from the label's values.</summary>
    public TaskKind? Task { get; init; }

    /// <summary>Column kinds that override inference, by column name.</summary>
    public Dictionary<string, ColumnKind>? Columns { get; init; }

    /// <summary>Allowed numeric ranges per column; a row with a value outside is rejected (and counted against the threshold).</summary>
    public Dictionary<string, ValueRange>? Ranges { get; init; }

    /// <summary>Columns kept in the dataset but never used as features.</summary>
    public List<string>? Exclude { get; init; }

    /// <summary>Columns that are never features and never logged (prediction logs, samples in reports).</summary>
    public List<string>? Sensitive { get; init; }

    /// <summary>A column that orders the rows in time; the split is then time-ordered instead of shuffled.</summary>
    public string? TimeColumn { get; init; }

    /// <summary>Whether the file has a header row; default: sniffed.</summary>
    public bool? HasHeader { get; init; }

    /// <summary>Column names for a file without a header row.</summary>
    public List<string>? ColumnNames { get; init; }

    /// <summary>
    /// The character that starts a comment line (e.g. <c>"#"</c>): such lines are skipped and counted. Default: none;
    /// every line is data, and a header line starting with '#' (ML.NET's text format) is read as the header.
    /// </summary>
    public string? Comment { get; init; }

    /// <summary>
    /// The decimal separator of the file's numbers: <c>"."</c> (3.5) or <c>","</c> (3,5). Default: a point, or a comma
    /// for a file separated by ';' whose numbers are written with one (<see cref="Datasets.DecimalMark.Infer"/>).
    /// </summary>
    public string? DecimalSeparator { get; init; }

    /// <summary>The primary metric that picks the winner (e.g. <c>rmse</c>, <c>auc</c>, <c>macroAccuracy</c>).</summary>
    public string? Metric { get; init; }

    /// <summary>Quality gate: the least (or, for error metrics, the most) each named metric may be on the test split.</summary>
    public Dictionary<string, double>? Minimum { get; init; }

    /// <summary>Candidate trainers and their parameter grids; default: a set per task.</summary>
    public List<TrainerGrid>? Trainers { get; init; }

    public ApprovalMode? Approval { get; init; }

    public DataPolicy? Policy { get; init; }

    /// <summary>Relative tolerance by which a challenger may trail the champion and still be promoted (default 0.01).</summary>
    public double? ChampionTolerance { get; init; }

    /// <summary>
    /// This model's trade of accuracy for scoring cost: a candidate cheaper to score wins over the best when it trails by at
    /// most this many standard errors of the paired difference (0: the best always wins; up to 3). Default: the host's
    /// <c>Pipeline:Training:SimplerWithin</c> (1).
    /// </summary>
    public double? SimplerWithin { get; init; }

    /// <summary>How long a manual approval waits before the version expires (default 72 h).</summary>
    public TimeSpan? ApprovalTimeout { get; init; }

    /// <summary>
    /// The longest duration a spec may give (<c>approvalTimeout</c>, <c>drift.window</c>, <c>drift.cooldown</c>): 3,650
    /// days. Each is added to or taken from the clock, and a longer one (the format allows ten million days) has no date
    /// to land on: it would fail the run or the check that used it rather than the spec that set it.
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);

    /// <summary>What <see cref="MaxDuration"/> asks, as a problem's text.</summary>
    public const string MaxDurationRule = "at most 3650.00:00:00 (3,650 days)";

    /// <summary>The seed of every random choice of training (split, trainers); default 42.</summary>
    public int? Seed { get; init; }

    public DriftSpec? Drift { get; init; }

    /// <summary>
    /// Shadow scoring: when true and a <c>staging</c> version other than production exists, every logged production
    /// request is scored by staging too, off the request path; both answers go into the prediction log and their
    /// agreement (and, with feedback, their metrics) shows in the model's view. Default false.
    /// </summary>
    public bool? Shadow { get; init; }

    /// <summary>
    /// The spec without what does not change the model a run trains: drift monitoring, shadow scoring and the approval
    /// gate. Two specs with equal training parts train the same model on the same data.
    /// </summary>
    public ModelSpec TrainingPart() => this with { Drift = null, Shadow = null, Approval = null, ApprovalTimeout = null };
}

/// <summary>The inclusive bounds a numeric column's values must lie within; either bound may be left out.</summary>
public sealed record ValueRange(double? Min = null, double? Max = null);

/// <summary>One trainer and the values of its parameters to try; each combination is one candidate.</summary>
public sealed record TrainerGrid
{
    public required string Name { get; init; }
    public Dictionary<string, List<double>>? Grid { get; init; }
}

/// <summary>
/// Drift detection, its thresholds and schedule, and drift- or schedule-triggered retraining. Every field is optional;
/// the defaults follow Evidently's: a reference of at most <see cref="SmallReference"/> rows is tested with
/// Kolmogorov–Smirnov (numeric) or chi-squared (categorical; a z-test for two categories) at p &lt; 0.05, a larger one by
/// normalized Wasserstein (numeric) or Jensen–Shannon distance (categorical) at 0.1; the dataset has drifted when the
/// share of drifted features is at least <see cref="RetrainShare"/> (0.5).
/// </summary>
public sealed record DriftSpec
{
    /// <summary>Population stability index at or above which a column counts as drifted when its method is <c>psi</c> (default 0.2).</summary>
    public double? PsiThreshold { get; init; }

    /// <summary>Share of drifted features at or above which the dataset has drifted, and, persisting, starts retraining (default 0.5).</summary>
    public double? RetrainShare { get; init; }

    /// <summary>Cron expression (5 fields, UTC) of scheduled retraining, if any.</summary>
    public string? RetrainSchedule { get; init; }

    /// <summary>Share of predictions written to the prediction log (default 1.0).</summary>
    public double? SampleRate { get; init; }

    /// <summary>Cron expression (5 fields, UTC) of this model's drift checks; default: <c>Pipeline:Drift:Schedule</c>.</summary>
    public string? Schedule { get; init; }

    /// <summary>
    /// The test of every feature: <c>auto</c> (default; Evidently's choice by reference size and column kind), <c>ks</c>,
    /// <c>chisquare</c>, <c>ztest</c>, <c>wasserstein</c>, <c>jensenshannon</c> or <c>psi</c>.
    /// </summary>
    public string? Method { get; init; }

    /// <summary>p-value below which <c>ks</c>, <c>chisquare</c> and <c>ztest</c> call a column drifted (default 0.05).</summary>
    public double? PValueThreshold { get; init; }

    /// <summary>Distance at or above which <c>wasserstein</c> and <c>jensenshannon</c> call a column drifted (default 0.1).</summary>
    public double? DistanceThreshold { get; init; }

    /// <summary>Per-feature method and threshold, overriding <see cref="Method"/> and the thresholds above.</summary>
    public Dictionary<string, ColumnDriftSpec>? Columns { get; init; }

    /// <summary>The reference size up to which <c>auto</c> uses the p-value tests (Evidently: 1,000 rows).</summary>
    public int? SmallReference { get; init; }

    /// <summary>How far back a check reads the prediction log (default 1 day).</summary>
    public TimeSpan? Window { get; init; }

    /// <summary>Fewest logged rows a check needs; below it the report says "not enough data" (default 200).</summary>
    public int? MinRows { get; init; }

    /// <summary>Most logged rows a check compares; a larger window is sampled deterministically (default 100,000).</summary>
    public int? MaxRows { get; init; }

    /// <summary>Most training rows in the reference; a larger dataset is sampled deterministically (default 100,000).</summary>
    public int? MaxReferenceRows { get; init; }

    /// <summary>Consecutive drifted checks that confirm drift and start retraining (default 2).</summary>
    public int? Consecutive { get; init; }

    /// <summary>Least time between two drift-triggered retrainings (default 1 day).</summary>
    public TimeSpan? Cooldown { get; init; }

    /// <summary>Whether confirmed drift starts retraining (default true); false only reports it.</summary>
    public bool? Retrain { get; init; }

    /// <summary>
    /// Concept drift: the relative degradation of the live metric (from feedback) against the production version's
    /// validation metric at or above which the report flags concept drift (default 0.1).
    /// </summary>
    public double? MetricTolerance { get; init; }
}

/// <summary>The drift test of one feature and its threshold (a p-value for <c>ks</c>, <c>chisquare</c>, <c>ztest</c>; a distance otherwise).</summary>
public sealed record ColumnDriftSpec
{
    public string? Method { get; init; }
    public double? Threshold { get; init; }
}
