using Serverless.Core.Training;

namespace Serverless.Orchestrations;

/// <summary>The verdict of the quality gate on a winner.</summary>
public sealed record GateResult(bool Passed, bool TrailsChampion, IReadOnlyList<string> Notes);

/// <summary>
/// Promotion rules: the spec's minimums on the test split, beating the deterministic baseline on the primary metric
/// (so a model that learned nothing is never registered), and not trailing the champion beyond the tolerance.
/// </summary>
public static class QualityGate
{
    public static GateResult Check(TrainingPlan plan, EvaluationResult winner, EvaluationResult baseline, EvaluationResult? champion)
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
            if (!Metrics.IsBetter(primary, mine, floor))
            {
                notes.Add($"Gate: {primary} = {mine:G4} does not beat the baseline's {floor:G4}; the model learned nothing useful.");
                passed = false;
            }
            else
            {
                notes.Add($"Beats the baseline on {primary}: {mine:G4} against {floor:G4}.");
            }
        }

        var trails = false;
        if (champion is not null && CompareWithChampion(plan, winner, champion, "") is { } comparison)
        {
            trails = comparison.Trails;
            notes.Add(comparison.Note);
        }
        return new GateResult(passed, trails, notes);
    }

    /// <summary>
    /// Whether the challenger trails the champion on the primary metric by more than the plan's tolerance, where
    /// (<paramref name="where"/>, e.g. " on recent data"; empty for the test split) both were scored; null when the champion has no value of the metric.
    /// </summary>
    public static (bool Trails, string Note)? CompareWithChampion(TrainingPlan plan, EvaluationResult challenger, EvaluationResult champion, string where)
    {
        var primary = plan.PrimaryMetric;
        var mine = challenger.Metrics.GetValueOrDefault(primary, double.NaN);
        if (!champion.Metrics.TryGetValue(primary, out var incumbent) || double.IsNaN(incumbent)) return null;
        var tolerance = plan.ChampionTolerance * Math.Max(Math.Abs(incumbent), 1e-12);
        var trails = Metrics.HigherIsBetter(primary) ? mine < incumbent - tolerance : mine > incumbent + tolerance;
        return (trails, trails
            ? $"Challenger {primary} = {mine:G4}{where} trails champion {plan.ChampionVersion} ({incumbent:G4}) by more than {plan.ChampionTolerance:P1}."
            : $"Challenger {primary} = {mine:G4}{where} against champion {plan.ChampionVersion} ({incumbent:G4}): within tolerance or better.");
    }
}
