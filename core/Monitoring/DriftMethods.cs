using Serverless.Core.Specs;

namespace Serverless.Core.Monitoring;

/// <summary>The drift tests a spec may name, which kind of threshold each takes, and the checks of a <see cref="DriftSpec"/>.</summary>
public static class DriftMethods
{
    public const string Auto = "auto";
    public const string Ks = "ks";
    public const string ChiSquare = "chisquare";
    public const string ZTest = "ztest";
    public const string Wasserstein = "wasserstein";
    public const string JensenShannon = "jensenshannon";
    public const string Psi = "psi";

    /// <summary>Every test a feature may use (<see cref="Auto"/> chooses one of them).</summary>
    public static readonly IReadOnlyList<string> All = [Ks, ChiSquare, ZTest, Wasserstein, JensenShannon, Psi];

    /// <summary>Tests that need numbers; a categorical feature falls back to <see cref="Auto"/>'s choice.</summary>
    public static bool NeedsNumbers(string method) => method is Ks or Wasserstein;

    /// <summary>Whether the method's threshold is a p-value (drifted below it) rather than a distance (drifted at or above it).</summary>
    public static bool IsPValue(string method) => method is Ks or ChiSquare or ZTest;

    /// <summary>Adds a problem per bad field of <paramref name="drift"/> (paths as <c>drift.field</c>).</summary>
    public static void Validate(DriftSpec drift, Action<string, string> add)
    {
        // Method names are matched as written: "KS" gets "did you mean 'ks'?" with the names.
        string Names(string given) => Specs.NameSuggestions.Hint(given, [Auto, .. All]);
        if (drift.Method is { } method && method != Auto && !All.Contains(method)) add("drift.method", $"unknown method '{method}'; {Names(method)}");
        if (drift.PsiThreshold is { } psi && !(psi > 0 && double.IsFinite(psi))) add("drift.psiThreshold", "must be a positive number");
        if (drift.RetrainShare is { } share && !(share > 0 && share <= 1)) add("drift.retrainShare", "a fraction above 0, at most 1");
        if (drift.SampleRate is < 0 or > 1) add("drift.sampleRate", "a fraction from 0 to 1");
        if (drift.PValueThreshold is { } p && !(p > 0 && p < 1)) add("drift.pValueThreshold", "a p-value above 0 and below 1");
        if (drift.DistanceThreshold is { } d && !(d > 0 && double.IsFinite(d))) add("drift.distanceThreshold", "must be a positive number");
        if (drift.MetricTolerance is { } tolerance && !(tolerance > 0 && double.IsFinite(tolerance))) add("drift.metricTolerance", "must be a positive fraction");
        if (drift.SmallReference is < 0) add("drift.smallReference", "must not be negative");
        if (drift.Window is { } window && window <= TimeSpan.Zero) add("drift.window", "must be positive");
        if (drift.Window > Specs.ModelSpec.MaxDuration) add("drift.window", Specs.ModelSpec.MaxDurationRule);
        if (drift.MinRows is < 1) add("drift.minRows", "at least 1");
        if (drift.MaxRows is < 1) add("drift.maxRows", "at least 1");
        if (drift is { MinRows: { } min, MaxRows: { } max } && max < min) add("drift.maxRows", $"must not be below minRows ({min})");
        if (drift.MaxReferenceRows is < 1) add("drift.maxReferenceRows", "at least 1");
        if (drift.Consecutive is < 1) add("drift.consecutive", "at least 1");
        if (drift.Cooldown is { } cooldown && cooldown < TimeSpan.Zero) add("drift.cooldown", "must not be negative");
        if (drift.Cooldown > Specs.ModelSpec.MaxDuration) add("drift.cooldown", Specs.ModelSpec.MaxDurationRule);
        foreach (var (field, cron) in new[] { ("drift.retrainSchedule", drift.RetrainSchedule), ("drift.schedule", drift.Schedule) })
        {
            if (cron is null) continue;
            try
            {
                Cronos.CronExpression.Parse(cron);
            }
            catch (Cronos.CronFormatException e)
            {
                // Cronos ends some messages with two periods, and names the end of the text as the character '\0'.
                var message = e.Message.Replace("Unexpected character '\0'", "the expression ends too early", StringComparison.Ordinal)
                    .Replace("'\0'", "the end of the expression", StringComparison.Ordinal).Replace("\0", "", StringComparison.Ordinal).TrimEnd('.');
                add(field, $"not a cron expression of 5 fields (minute hour day-of-month month day-of-week): {message}.");
            }
        }
        foreach (var (column, spec) in drift.Columns ?? [])
        {
            var path = $"drift.columns.{column}";
            if (spec is null || spec.Method is null && spec.Threshold is null)
            {
                add(path, "give a method, a threshold or both");
                continue;
            }
            var columnMethod = spec.Method ?? drift.Method ?? Auto;
            if (spec.Method is { } m && m != Auto && !All.Contains(m)) add($"{path}.method", $"unknown method '{m}'; {Names(m)}");
            if (spec.Threshold is not { } threshold) continue;
            if (columnMethod == Auto) add($"{path}.threshold", "name the method the threshold is for");
            else if (IsPValue(columnMethod) && !(threshold > 0 && threshold < 1)) add($"{path}.threshold", $"a p-value above 0 and below 1 for '{columnMethod}'");
            else if (!IsPValue(columnMethod) && !(threshold > 0 && double.IsFinite(threshold))) add($"{path}.threshold", $"a positive distance for '{columnMethod}'");
        }
    }
}
