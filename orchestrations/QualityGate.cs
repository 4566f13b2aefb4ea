using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Orchestrations;

/// <summary>The verdict of the quality gate on a winner; <see cref="Comparison"/> when it met a champion.</summary>
public sealed record GateResult(bool Passed, bool TrailsChampion, IReadOnlyList<string> Notes, ChampionComparison? Comparison = null);

/// <summary>Challenger and champion scored on the same <see cref="ComparisonSet"/>: rows neither was trained on.</summary>
public sealed record ChampionScores(ComparisonSet Set, string DatasetVersion, EvaluationResult Challenger, EvaluationResult Champion);

/// <summary>
/// Promotion rules: the spec's minimums on the test split, beating the deterministic baseline on the primary metric
/// and chance (so a model that learned nothing is never registered), and not trailing the champion beyond the tolerance, both
/// measured on the same rows, which neither was trained on.
/// </summary>
public static class QualityGate
{
    /// <summary>The largest share of label shuffles a winner's test metric may be matched by (<see cref="ChanceTest"/>).</summary>
    public const double MaxChancePValue = 0.05;

    /// <summary>How the note of a winner that beat chance begins.</summary>
    public const string NotChance = "Not chance";

    public static GateResult Check(TrainingPlan plan, EvaluationResult winner, EvaluationResult baseline, ChampionScores? champion)
    {
        var notes = new List<string>();
        var passed = true;
        foreach (var (metric, bound) in plan.Minimums.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!winner.Metrics.TryGetValue(metric, out var value) || double.IsNaN(value))
            {
                notes.Add($"Gate: metric '{metric}' named in the spec's minimums is not reported for this task.");
                passed = false;
                continue;
            }
            var ok = Metrics.HigherIsBetter(metric) ? value >= bound : value <= bound;
            if (!ok)
            {
                notes.Add($"Gate: {metric} = {value:G4} on test, the spec requires {(Metrics.HigherIsBetter(metric) ? "at least" : "at most")} {bound:G4}.");
                passed = false;
            }
        }

        var primary = plan.PrimaryMetric;
        var mine = winner.Metrics.GetValueOrDefault(primary, double.NaN);
        var floor = baseline.Metrics.GetValueOrDefault(primary, double.NaN);
        if (!double.IsNaN(floor))
        {
            var (shownMine, shownFloor) = Metrics.Apart(mine, floor);
            if (!Metrics.IsBetter(primary, mine, floor))
            {
                notes.Add($"Gate: {primary} = {shownMine} does not beat the baseline's {shownFloor}; the model learned nothing useful.");
                passed = false;
            }
            else
            {
                notes.Add($"Beats the baseline on {primary}: {shownMine} against {shownFloor}.");
            }
        }
        // A model that learned nothing beats the constant baseline about half the time (a classifier's AUC is 0.5 give
        // or take chance): its answers must also fit the test labels better than nearly every shuffle of those labels does.
        if (winner.ChancePValue is { } p)
        {
            var tested = ChanceTest.MetricOf(plan.Task);
            var value = winner.Metrics.GetValueOrDefault(tested, double.NaN);
            if (p > MaxChancePValue)
            {
                notes.Add($"Gate: {tested} = {value:G4} on {winner.Rows:N0} test rows is matched or beaten by {p:P1} of {ChanceTest.Permutations:N0} " +
                    $"shuffles of their labels (p = {p:G3}; the gate asks for at most {MaxChancePValue:G3}): the model's answers are not shown to say " +
                    "anything about the label. Upload more rows, or columns that explain the label.");
                passed = false;
            }
            else
            {
                notes.Add($"{NotChance}: {tested} = {value:G4} on {winner.Rows:N0} test rows, p = {p:G3} over {ChanceTest.Permutations:N0} shuffles of their labels.");
            }
        }
        // The baseline is the mean of the train labels: on a label the features do not explain, a model refit on more
        // rows can beat it by chance while doing worse than the test rows' own mean. R² above 0 asks for better than that.
        if (plan.Task == TaskKind.Regression && winner.Metrics.TryGetValue(Metrics.R2, out var r2) && r2 <= 0)
        {
            notes.Add($"Gate: r² = {r2:G4} on test: the model does not beat the baseline of the test rows' own mean (r² 0); it learned nothing useful.");
            passed = false;
        }

        var trails = false;
        ChampionComparison? comparison = null;
        if (champion is not null && champion.Champion.Metrics.TryGetValue(primary, out var incumbent) && !double.IsNaN(incumbent))
        {
            var challenger = champion.Challenger.Metrics.GetValueOrDefault(primary, double.NaN);
            trails = Trails(primary, challenger, incumbent, plan.ChampionTolerance);
            var set = champion.Set;
            var rows = set.ChampionRowsKnown
                ? $"on {set.Rows:N0} test rows neither was trained on ({set.ExcludedRows:N0} the champion was fit on left out)"
                : $"on {set.Rows:N0} test rows (the champion's training rows are not recorded, so some may be rows it was trained on)";
            var gain = RelativeGain(primary, challenger, incumbent);
            notes.Add(trails
                ? $"Challenger {primary} = {challenger:G4} trails champion {plan.ChampionVersion} ({incumbent:G4}) by {-gain:P1}, more than the {plan.ChampionTolerance:P1} allowed, {rows}."
                : $"Challenger {primary} = {challenger:G4} against champion {plan.ChampionVersion} ({incumbent:G4}): " +
                  (gain > 0 ? $"better by {gain:P1}" : gain == 0 ? "as good" : $"trails by {-gain:P1}, within the {plan.ChampionTolerance:P1} allowed") + $", {rows}.");
            comparison = new ChampionComparison(set.ChampionVersion, primary, challenger, incumbent, plan.ChampionTolerance, trails,
                new MetricSet(champion.DatasetVersion, set.ChampionRowsKnown ? $"test rows unseen by {set.ChampionVersion}" : "test", set.DataBlob, set.Rows),
                set.ExcludedRows, set.ChampionRowsKnown, champion.Challenger.Metrics, champion.Champion.Metrics);
        }
        return new GateResult(passed, trails, notes, comparison);
    }

    /// <summary>
    /// Challenger and champion scored on recent labelled rows (the feedback window): whether the challenger trails with no
    /// tolerance (it must be at least as good there), and the note that says so; null when the champion has no value of the metric.
    /// </summary>
    public static (bool Trails, string Note)? CompareOnRecentRows(TrainingPlan plan, EvaluationResult challenger, EvaluationResult champion, long rows)
    {
        var primary = plan.PrimaryMetric;
        var mine = challenger.Metrics.GetValueOrDefault(primary, double.NaN);
        if (!champion.Metrics.TryGetValue(primary, out var incumbent) || double.IsNaN(incumbent)) return null;
        var trails = Trails(primary, mine, incumbent, 0);
        // Said in so many words: the note on the test split's comparison stands above it, and may say the opposite.
        const string decides = "this comparison decides promotion, not the one on the test split";
        return (trails, trails
            ? $"Challenger {primary} = {mine:G4} on {rows:N0} recent labelled rows trails champion {plan.ChampionVersion} ({incumbent:G4}); {decides}."
            : $"Challenger {primary} = {mine:G4} on {rows:N0} recent labelled rows against champion {plan.ChampionVersion} ({incumbent:G4}): as good or better; {decides}.");
    }

    /// <summary>How much better the challenger is than the incumbent, relative to the incumbent (negative: worse; NaN unscored).</summary>
    private static double RelativeGain(string metric, double challenger, double incumbent) =>
        (Metrics.HigherIsBetter(metric) ? challenger - incumbent : incumbent - challenger) / Math.Max(Math.Abs(incumbent), 1e-12);

    /// <summary>Whether <paramref name="challenger"/> is worse than <paramref name="incumbent"/> by more than the relative tolerance (an unscored challenger trails).</summary>
    private static bool Trails(string metric, double challenger, double incumbent, double relativeTolerance)
    {
        var tolerance = relativeTolerance * Math.Max(Math.Abs(incumbent), 1e-12);
        return double.IsNaN(challenger) || (Metrics.HigherIsBetter(metric) ? challenger < incumbent - tolerance : challenger > incumbent + tolerance);
    }
}
