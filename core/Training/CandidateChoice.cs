using System.Globalization;

namespace Serverless.Core.Training;

/// <summary>The winner of a run's candidates, the best by the metric, and why the winner is not the best when it is not.</summary>
public sealed record CandidateChoiceResult(CandidateResult Winner, CandidateResult Best, string? Note);

/// <summary>
/// Chooses a run's winner among the candidates that trained. The best by the primary metric wins, unless a candidate
/// that costs less to score a row is within noise of it: its shortfall on the metric is at most
/// <c>simplerWithin</c> standard errors of the paired difference between the two, measured over the folds of the
/// cross-validation or the parts of the validation split (the same rows for every candidate). Then the cheapest such
/// candidate wins. This is the one-standard-error rule of model selection, made paired: a difference the rows cannot tell
/// from chance does not buy a model that costs more to serve. Without folds or parts, or a known cost, the best wins.
/// Each candidate's standard error is its own, so a candidate can pass while another that scores better falls short by
/// less than the first but more than its own, steadier error. The rule never picks a candidate that another one beats on
/// both counts: when a candidate cheaper than the cheapest within noise scores at least as well as it, the cheapest such
/// candidate wins instead.
/// A candidate that costs nothing to score (trees without a split, as a tree trainer makes on fewer rows than a leaf
/// needs) answers every row alike: that is the baseline the quality gate measures against, not a simpler model, so the
/// rule never chooses it.
/// </summary>
public static class CandidateChoice
{
    /// <summary>The words that join the winner and the best in the note of a choice the rule made (<see cref="CandidateChoiceResult.Note"/>).</summary>
    public const string ChosenOver = " chosen over ";

    /// <summary>Fewer paired scores than this give no standard error to trust, and the best wins.</summary>
    public const int MinPairs = 3;

    public static CandidateChoiceResult Choose(string metric, IReadOnlyList<CandidateResult> succeeded, double simplerWithin)
    {
        if (succeeded.Count == 0) throw new ArgumentException("There is no candidate to choose from.", nameof(succeeded));
        var best = succeeded.Aggregate((b, next) => Metrics.IsBetter(metric, Value(next, metric), Value(b, metric)) ? next : b);
        if (simplerWithin <= 0 || best.Selection?.ScoringCost is not { } bestCost) return new(best, best, null);

        var cheaper = succeeded
            .Where(c => !ReferenceEquals(c, best) && c.Selection?.ScoringCost is > 0 and var cost && cost < bestCost)
            .Select(c => (Candidate: c, Gap: Gap(metric, c, best)))
            .Where(x => x.Gap is not null)
            .Select(x => (x.Candidate, Gap: x.Gap!.Value, Within: x.Gap!.Value.Shortfall <= simplerWithin * x.Gap!.Value.StandardError))
            .ToList();
        // The cheapest within noise; then the cheapest candidate at most as far behind the best as that one.
        var within = cheaper.Where(x => x.Within).OrderBy(x => x.Candidate.Selection!.ScoringCost!.Value).ThenBy(x => x.Gap.Shortfall).FirstOrDefault();
        if (within.Candidate is null) return new(best, best, null);
        var chosen = cheaper
            .Where(x => x.Gap.Shortfall <= within.Gap.Shortfall)
            .OrderBy(x => x.Candidate.Selection!.ScoringCost!.Value)
            .ThenBy(x => x.Gap.Shortfall)
            .First();

        var candidate = chosen.Candidate;
        var set = best.Selection!.Set;
        var over = set == SelectionSets.Validation ? "parts of the validation split" : "folds";
        var cost = string.Create(CultureInfo.InvariantCulture,
            $"it costs {Share(candidate.Selection!.ScoringCost!.Value / bestCost)} as much to score a row ({candidate.Selection.ScoringCost:F0} against {bestCost:F0} tree splits).");
        var why = chosen.Within
            ? string.Create(CultureInfo.InvariantCulture,
                $"the gap is within {simplerWithin:G3} standard error(s) of the paired difference over {chosen.Gap.Pairs} {over} ({chosen.Gap.StandardError:G3}), and {cost}")
            : string.Create(CultureInfo.InvariantCulture,
                $"{within.Candidate.Candidate}, which costs more, trails the best as far or further ({Value(within.Candidate, metric):G4}) and is within {simplerWithin:G3} standard error(s) of " +
                $"the paired difference over {within.Gap.Pairs} {over} ({within.Gap.StandardError:G3}); this candidate scores at least as well as that one, and {cost}");
        var note = string.Create(CultureInfo.InvariantCulture,
            $"{candidate.Candidate}{ChosenOver}{best.Candidate}, the best on {set} {metric} ({Value(best, metric):G4} against {Value(candidate, metric):G4}): {why}");
        return new(candidate, best, note);
    }

    /// <summary>A share as a whole percentage, or "under 1%" rather than a 0% that reads as free.</summary>
    private static string Share(double fraction) =>
        fraction < 0.01 ? "under 1%" : string.Create(CultureInfo.InvariantCulture, $"{100 * fraction:F0}%");

    private static double Value(CandidateResult c, string metric) => c.ValidationMetrics.GetValueOrDefault(metric, double.NaN);

    /// <summary>
    /// How far <paramref name="candidate"/> falls short of <paramref name="best"/> on the metric, and the standard error of
    /// the paired difference over the folds or parts both were scored on; null when they were not scored on the same ones.
    /// </summary>
    internal static (double Shortfall, double StandardError, int Pairs)? Gap(string metric, CandidateResult candidate, CandidateResult best)
    {
        if (candidate.Selection?.Folds is not { } mine || best.Selection?.Folds is not { } theirs) return null;
        if (candidate.Selection.Set != best.Selection.Set || mine.Count != theirs.Count) return null;
        var sign = Metrics.HigherIsBetter(metric) ? -1 : 1;
        var differences = new List<double>();
        for (var i = 0; i < mine.Count; i++)
        {
            if (mine[i].Rows != theirs[i].Rows) return null;
            if (mine[i].Metrics.TryGetValue(metric, out var a) && theirs[i].Metrics.TryGetValue(metric, out var b) && double.IsFinite(a) && double.IsFinite(b))
            {
                differences.Add(sign * (a - b));
            }
        }
        var shortfall = sign * (Value(candidate, metric) - Value(best, metric));
        if (differences.Count < MinPairs || !double.IsFinite(shortfall)) return null;
        var mean = differences.Average();
        var variance = differences.Sum(d => (d - mean) * (d - mean)) / (differences.Count - 1);
        return (shortfall, Math.Sqrt(variance / differences.Count), differences.Count);
    }
}
