namespace Serverless.Core.Training;

/// <summary>Which rows a stored model was fit on: values of <see cref="ModelFit.On"/>.</summary>
public static class FitSets
{
    /// <summary>The train split only: every candidate, and a candidate registered by hand.</summary>
    public const string Train = "train";

    /// <summary>Train and validation together: the winner, refit once validation has chosen it.</summary>
    public const string TrainAndValidation = "train+validation";
}

/// <summary>
/// What a stored model was fit on: the rows (<see cref="On"/>, one of <see cref="FitSets"/>, and how many), its
/// <c>model.zip</c>, and the sorted 64-bit hashes of those rows (<see cref="RowHashesBlob"/>, models container; null when
/// not recorded), kept so a later model can be compared with it only on rows neither was trained on.
/// </summary>
public sealed record ModelFit(string RunId, string On, long Rows, string ModelBlob, string? RowHashesBlob, double DurationMs = 0);

/// <summary>Input of the activity that refits the winning candidate on train plus validation.</summary>
public sealed record RefitInput(string Model, string DatasetVersion, string OrchestrationId, string RunId, CandidateSpec Candidate, SplitRefs Splits);

/// <summary>
/// Rows metrics were measured on: a dataset version's split, or the part of it another model never trained on
/// (<see cref="Set"/> names which), with the data blob and row count. Shown beside every metric so that numbers side by
/// side are known to be comparable, or not.
/// </summary>
public sealed record MetricSet(string DatasetVersion, string Set, string DataBlob, long Rows)
{
    /// <summary>The test split of a dataset version.</summary>
    public static MetricSet TestOf(string datasetVersion, SplitRefs splits) => new(datasetVersion, "test", splits.Test, splits.TestRows);
}

/// <summary>
/// The test rows of a run that a champion never trained on: <see cref="DataBlob"/> (datasets container) holds them,
/// <see cref="ExcludedRows"/> were left out because the champion's fit rows hold them. When the champion's rows are
/// unknown (a version registered before they were kept), nothing is left out and <see cref="ChampionRowsKnown"/> is false.
/// </summary>
public sealed record ComparisonSet(string ChampionVersion, string DataBlob, long Rows, long ExcludedRows, bool ChampionRowsKnown);

/// <summary>Input of the activity that writes the <see cref="ComparisonSet"/> of a run's test split against a champion.</summary>
public sealed record ComparisonInput(string Model, string DatasetVersion, SplitRefs Splits, string ChampionVersion, string? ChampionRowHashesBlob);

/// <summary>
/// Challenger against champion on the same rows, which neither was trained on: the primary metric of each, the set, the
/// tolerance the challenger may trail by, and the verdict.
/// </summary>
public sealed record ChampionComparison(
    string ChampionVersion,
    string Metric,
    double Challenger,
    double Champion,
    double Tolerance,
    bool ChallengerTrails,
    MetricSet MeasuredOn,
    long ExcludedRows,
    bool ChampionRowsKnown,
    IReadOnlyDictionary<string, double> ChallengerMetrics,
    IReadOnlyDictionary<string, double> ChampionMetrics);
