namespace Serverless.Core.Training;

/// <summary>Values of <see cref="SelectionMeasure.Set"/>: the rows a candidate's selection metrics were measured on.</summary>
public static class SelectionSets
{
    /// <summary>The validation split: each candidate trained on train and scored once on validation.</summary>
    public const string Validation = "validation";

    /// <summary>k-fold cross-validation on train and validation together, <c>cv5</c> for five folds.</summary>
    public static string CrossValidation(int folds) => $"cv{folds}";
}

/// <summary>One fold of a cross-validation: how many rows it held out, and the candidate's metrics on them.</summary>
public sealed record FoldScore(long Rows, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// How a candidate's selection metrics (the ones the winner is chosen by, kept as its <c>validationMetrics</c>) were
/// measured: <see cref="Set"/> is <c>validation</c> (one score on the validation split, <see cref="Rows"/> its rows, and
/// in <see cref="Folds"/> the scores of the split's consecutive parts, the same parts for every candidate) or
/// <c>cv{k}</c> (the mean over k folds of train and validation, <see cref="Rows"/> in all, each fold's score in
/// <see cref="Folds"/>); <see cref="StandardDeviation"/> is the spread of the folds' or parts' scores.
/// <see cref="ScoringCost"/> is what scoring one row costs the candidate (<see cref="Training.ScoringCost"/>); the choice
/// of the winner weighs it against the metric (<see cref="CandidateChoice"/>).
/// </summary>
public sealed record SelectionMeasure(
    string Set,
    long Rows,
    IReadOnlyList<FoldScore>? Folds = null,
    IReadOnlyDictionary<string, double>? StandardDeviation = null,
    double? ScoringCost = null)
{
    /// <summary>Scored on the validation split, with the scores of its parts when it was cut into some (<see cref="ValidationParts"/>).</summary>
    public static SelectionMeasure OnValidation(long rows, IReadOnlyList<FoldScore>? parts = null) =>
        parts is null ? new(SelectionSets.Validation, rows) : new(SelectionSets.Validation, rows, parts, Spread(parts).Spread);

    /// <summary>The validation split is cut into this many consecutive parts at most, each scored on its own.</summary>
    public const int ValidationParts = 10;

    /// <summary>Each part holds at least this many rows; a split too small for three parts is not cut.</summary>
    public const long MinRowsPerPart = 50;

    /// <summary>How many parts a validation split of this many rows is cut into: 0 when it is too small for three.</summary>
    public static int PartsFor(long validationRows) =>
        (int)Math.Min(ValidationParts, validationRows / MinRowsPerPart) is var parts && parts >= 3 ? parts : 0;

    /// <summary>The measure without its per-fold scores, as the registry's version list keeps it.</summary>
    public SelectionMeasure WithoutFolds() => this with { Folds = null };

    /// <summary>
    /// The mean of each metric over the folds that report it (AUC is undefined on a fold that holds one class only), and
    /// the measure with each fold's score and the standard deviation across folds (population, as numpy's std).
    /// </summary>
    public static (Dictionary<string, double> Mean, SelectionMeasure Measure) OfFolds(IReadOnlyList<FoldScore> folds)
    {
        var (mean, spread) = Spread(folds);
        return (mean, new SelectionMeasure(SelectionSets.CrossValidation(folds.Count), folds.Sum(f => f.Rows), folds, spread));
    }

    private static (Dictionary<string, double> Mean, Dictionary<string, double> Spread) Spread(IReadOnlyList<FoldScore> folds)
    {
        var mean = new Dictionary<string, double>(StringComparer.Ordinal);
        var spread = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var name in folds.SelectMany(f => f.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var values = folds.Where(f => f.Metrics.ContainsKey(name)).Select(f => f.Metrics[name]).ToList();
            var average = values.Average();
            mean[name] = average;
            spread[name] = Math.Sqrt(values.Average(v => (v - average) * (v - average)));
        }
        return (mean, spread);
    }
}
