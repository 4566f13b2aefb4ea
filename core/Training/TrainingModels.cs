using System.Globalization;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// The deterministic train / validation / test split of a dataset version, as blob names in the datasets container, with
/// the seed and fractions it was made with (recorded in every manifest); <see cref="TimeColumn"/> names the column the
/// rows were ordered by when the split is time-ordered (oldest train, newest test), else null (a seeded shuffle).
/// </summary>
public sealed record SplitRefs(
    string Train,
    string Validation,
    string Test,
    int Seed,
    long TrainRows,
    long ValidationRows,
    long TestRows,
    double ValidationFraction = TrainingOptions.DefaultValidationFraction,
    double TestFraction = TrainingOptions.DefaultTestFraction,
    string? TimeColumn = null,
    IReadOnlyList<SplitClass>? Classes = null)
{
    /// <summary>
    /// The fewest rows a run measures a model on: the test split, and the validation split where candidates are chosen on
    /// it rather than by cross-validation. Below two rows an error has no spread and r² no variance to explain, and a
    /// test split of none would register a model nothing has measured.
    /// </summary>
    public const int MinMeasuredRows = 2;

    /// <summary>
    /// The rows a run's winner is refit on (train and validation), by which every fit of the run sets the regularization
    /// ML.NET would derive from a row count (<see cref="TrainerCatalog.SdcaRegressionL2"/>): the folds, the candidate's own
    /// fit on train and the refit then fit the model the choice was made on.
    /// </summary>
    public long FitRows => TrainRows + ValidationRows;

    /// <summary>
    /// Why this split cannot carry a run, naming its counts and what to do, or null when it can. <paramref name="folds"/>:
    /// the run's cross-validation folds (0 when it chooses on the validation split).
    /// </summary>
    public string? Shortfall(int folds)
    {
        var total = TrainRows + ValidationRows + TestRows;
        var counts = string.Create(CultureInfo.InvariantCulture,
            $"The split of {total:N0} rows gave {TrainRows:N0} train, {ValidationRows:N0} validation and {TestRows:N0} test rows");
        var more = string.Create(CultureInfo.InvariantCulture,
            $"Upload more rows: the split holds out about {TestFraction * 100:0.#}% of them for test and {ValidationFraction * 100:0.#}% for validation, row by row, so a few dozen rows are the least that reliably gives both.");
        if (TestRows < MinMeasuredRows)
        {
            return $"{counts}: a run needs at least {MinMeasuredRows} test rows to measure its model on rows it did not train on. {more}";
        }
        if (folds == 0 && ValidationRows < MinMeasuredRows)
        {
            return $"{counts}: a run that chooses among candidates on the validation split{(TimeColumn is null ? "" : " (a time-ordered split is never cross-validated)")} needs at least {MinMeasuredRows} validation rows. {more}";
        }
        if (TrainRows == 0) return $"{counts}: there is nothing to train on. {more}";
        return Classes?.Select(c => c.Shortfall(folds)).FirstOrDefault(s => s is not null);
    }
}

/// <summary>
/// How many rows of one class of a binary label each part of a split holds, the class named as the file writes it
/// (<see cref="Datasets.DatasetSchema.ClassAsWritten"/>). Every measure of a binary model (AUC and the others) needs rows of
/// both classes, so a part without any fails the run; known at the split, it fails before any candidate trains.
/// </summary>
public sealed record SplitClass(string Name, long TrainRows, long ValidationRows, long TestRows)
{
    /// <summary>
    /// Why this class's rows cannot carry a run, or null: none to train on, none in test, none in validation where the run
    /// chooses on it, or fewer in train and validation than <paramref name="folds"/> cross-validation folds (then some fold
    /// holds none of them; more does not promise every fold one, which the fold's measure then says).
    /// </summary>
    public string? Shortfall(int folds)
    {
        var where = TrainRows == 0 ? "none to train on"
            : TestRows == 0 ? "none in test to measure the model on"
            : folds == 0 && ValidationRows == 0 ? "none in validation to choose among the candidates on"
            : folds >= 2 && TrainRows + ValidationRows < folds
                ? string.Create(CultureInfo.InvariantCulture, $"fewer in train and validation than the {folds} cross-validation folds that each need one")
            : null;
        return where is null ? null : string.Create(CultureInfo.InvariantCulture,
            $"The label's class '{Name}' has {TrainRows + ValidationRows + TestRows:N0} rows, and the split put {TrainRows:N0} in train, {ValidationRows:N0} in validation and {TestRows:N0} in test: {where}. " +
            $"Every measure of a binary model needs rows of both classes, and the rows of '{Name}' are too few to hold out some for each (each cross-validation fold, the validation and the test split): upload more rows of it.");
    }
}

/// <summary>One candidate to train: a trainer and one combination of its parameters.</summary>
public sealed record CandidateSpec(string Trainer, IReadOnlyDictionary<string, double> Parameters)
{
    public override string ToString() =>
        Parameters.Count == 0 ? Trainer : string.Create(CultureInfo.InvariantCulture, $"{Trainer}({string.Join(", ", Parameters.OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}")))})");

    /// <summary>The candidate that <see cref="ToString"/> describes (the registry's version list keeps candidates in that form).</summary>
    public static CandidateSpec Parse(string description)
    {
        var open = description.IndexOf('(');
        if (open <= 0 || !description.EndsWith(')')) return new(description, new Dictionary<string, double>());
        var parameters = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var pair in description[(open + 1)..^1].Split(", "))
        {
            var equals = pair.IndexOf('=');
            if (equals > 0 && double.TryParse(pair[(equals + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) parameters[pair[..equals]] = value;
        }
        return new(description[..open], parameters);
    }
}

/// <summary>
/// Input of the activity that trains one candidate on the train split and scores it: on validation, or, when
/// <see cref="CrossValidationFolds"/> is 2 or more (small data), by that many folds of train and validation together.
/// <see cref="Spec"/> is the spec its training run planned under, kept with the run so that a run registered by hand
/// later records the spec it was trained under, not the one in force then (null for runs that kept none).
/// </summary>
public sealed record CandidateInput(
    string Model,
    string DatasetVersion,
    string OrchestrationId,
    string RunId,
    CandidateSpec Candidate,
    SplitRefs Splits,
    int CrossValidationFolds = 0,
    Specs.SpecSnapshot? Spec = null);

/// <summary>
/// Outcome of one candidate run; a failed run has <see cref="Succeeded"/> false and an <see cref="Error"/>. The winner is
/// chosen by <see cref="ValidationMetrics"/>, measured as <see cref="Selection"/> says (null: on the validation split).
/// </summary>
public sealed record CandidateResult(
    string RunId,
    CandidateSpec Candidate,
    bool Succeeded,
    IReadOnlyDictionary<string, double> ValidationMetrics,
    string? ModelBlob,
    double DurationMs,
    string? Error = null,
    SelectionMeasure? Selection = null);

/// <summary>
/// Input of the activity that scores a stored model (a candidate or a registered version) on a split;
/// <paramref name="Seed"/> is the run's (null: the host's default); <paramref name="TestChance"/> asks for the
/// <see cref="ChanceTest"/> of its answers and the bootstrap interval of the same metric too (the gate's winner on test).
/// </summary>
/// <param name="Metric">The metric whose bootstrap interval is wanted with the chance test (the run's primary metric); null: the task's own.</param>
public sealed record EvaluationInput(string Model, string ModelBlob, string DataBlob, string DatasetVersion, int? Seed = null, bool TestChance = false, string? Metric = null);

/// <summary>Metrics of one model on one split.</summary>
/// <param name="ChancePValue">How often a model whose answers have nothing to do with the labels does as well on these
/// rows (<see cref="ChanceTest"/>); null when not asked for, for the baseline, or rows of one label value.</param>
/// <param name="Interval">How far the tested metric could move on other rows drawn alike (<see cref="BootstrapInterval"/>); null when <paramref name="ChancePValue"/> is.</param>
public sealed record EvaluationResult(string ModelBlob, IReadOnlyDictionary<string, double> Metrics, long Rows, double? ChancePValue = null, MetricInterval? Interval = null);

/// <summary>Names, defaults and directions of the metrics the pipeline computes.</summary>
public static class Metrics
{
    /// <summary>
    /// Two metrics written with four significant digits, or as many more as it takes to tell them apart: a note saying a
    /// model beats the baseline with "0.3892 against 0.3892" reads as a contradiction.
    /// </summary>
    public static (string A, string B) Apart(double a, double b)
    {
        for (var digits = 4; digits < 17; digits++)
        {
            var (x, y) = (a.ToString("G" + digits, System.Globalization.CultureInfo.InvariantCulture), b.ToString("G" + digits, System.Globalization.CultureInfo.InvariantCulture));
            if (x != y || a == b) return (x, y);
        }
        return (a.ToString("R", System.Globalization.CultureInfo.InvariantCulture), b.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
    }

    public static string DefaultPrimary(TaskKind task) => task switch
    {
        TaskKind.Regression => Rmse,
        TaskKind.Binary => Auc,
        TaskKind.Multiclass => MacroAccuracy,
        _ => throw new ArgumentOutOfRangeException(nameof(task)),
    };

    /// <summary>The errors and losses: lower is better, and 0 is the least they can be.</summary>
    private static readonly string[] Errors = [Rmse, Mae, LogLoss];

    /// <summary>Whether a larger value of the metric is better (accuracy, AUC, R²) or worse (the errors and losses), the name in any case.</summary>
    public static bool HigherIsBetter(string metric) => !Errors.Contains(metric, StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="a"/> is strictly better than <paramref name="b"/> on <paramref name="metric"/>.</summary>
    public static bool IsBetter(string metric, double a, double b) =>
        !double.IsNaN(a) && (double.IsNaN(b) || (HigherIsBetter(metric) ? a > b : a < b));

    /// <summary>The root of the mean squared error (regression's tested metric).</summary>
    public const string Rmse = "rmse";

    /// <summary>The area under the ROC curve (binary's tested metric).</summary>
    public const string Auc = "auc";

    /// <summary>The mean over classes of each class's share of rows answered with it (multiclass's tested metric).</summary>
    public const string MacroAccuracy = "macroAccuracy";

    /// <summary>The mean negative log-likelihood of the label, in nats.</summary>
    public const string LogLoss = "logLoss";

    /// <summary>The harmonic mean of precision and recall of the positive class (binary).</summary>
    public const string F1 = "f1";

    /// <summary>R², the share of the variance of the scored rows' labels that the model explains: 0 for their own mean.</summary>
    public const string R2 = "r2";

    /// <summary>The mean absolute error.</summary>
    public const string Mae = "mae";

    /// <summary>The share of rows answered with their label (binary, at the model's threshold).</summary>
    public const string Accuracy = "accuracy";

    /// <summary>The share of rows answered with their class (multiclass; macro accuracy averages it per class).</summary>
    public const string MicroAccuracy = "microAccuracy";

    /// <summary>
    /// The values a metric can take, and so the values a quality gate's <c>minimum</c> can ask for: errors and losses from
    /// 0 up, r² up to 1 (below 0 for a model worse than the mean), the shares (accuracies, auc, f1) from 0 to 1.
    /// </summary>
    public static (double Low, double High, string Rule) Bounds(string metric) => metric switch
    {
        _ when Errors.Contains(metric, StringComparer.Ordinal) => (0, double.PositiveInfinity, "an error is 0 or more"),
        R2 => (double.NegativeInfinity, 1, "r2 is at most 1"),
        _ => (0, 1, $"{metric} is from 0 to 1"),
    };

    /// <summary>The metrics each task reports.</summary>
    public static IReadOnlyList<string> For(TaskKind task) => task switch
    {
        TaskKind.Regression => [Rmse, Mae, R2],
        TaskKind.Binary => [Auc, Accuracy, F1, LogLoss],
        TaskKind.Multiclass => [MacroAccuracy, MicroAccuracy, LogLoss],
        _ => throw new ArgumentOutOfRangeException(nameof(task)),
    };
}
