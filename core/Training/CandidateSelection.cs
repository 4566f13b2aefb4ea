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
/// measured: <see cref="Set"/> is <c>validation</c> (one score on the validation split, <see cref="Rows"/> its rows) or
/// <c>cv{k}</c> (the mean over k folds of train and validation, <see cref="Rows"/> in all, each fold's score in
/// <see cref="Folds"/> and the spread in <see cref="StandardDeviation"/>).
/// </summary>
public sealed record SelectionMeasure(
    string Set,
    long Rows,
    IReadOnlyList<FoldScore>? Folds = null,
    IReadOnlyDictionary<string, double>? StandardDeviation = null)
{
    public static SelectionMeasure OnValidation(long rows) => new(SelectionSets.Validation, rows);

    /// <summary>The measure without its per-fold scores, as the registry's version list keeps it.</summary>
    public SelectionMeasure WithoutFolds() => this with { Folds = null };

    /// <summary>
    /// The mean of each metric over the folds that report it (AUC is undefined on a fold that holds one class only), and
    /// the measure with each fold's score and the standard deviation across folds (population, as numpy's std).
    /// </summary>
    public static (Dictionary<string, double> Mean, SelectionMeasure Measure) OfFolds(IReadOnlyList<FoldScore> folds)
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
        return (mean, new SelectionMeasure(SelectionSets.CrossValidation(folds.Count), folds.Sum(f => f.Rows), folds, spread));
    }
}
