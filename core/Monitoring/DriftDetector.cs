using System.Globalization;
using Serverless.Core.Training;

namespace Serverless.Core.Monitoring;

/// <summary>
/// Compares one feature's reference and current values and decides whether it drifted, with Evidently's rules: the
/// method (<c>auto</c>: by the reference's size and the number of distinct values), its threshold, and the comparison
/// (a p-value below its threshold, a distance at or above it). Missing values are left out of both samples and compared
/// on their own: a feature whose share of missing values moved (<see cref="CompareMissing"/>) has drifted too. No I/O.
/// </summary>
public static class DriftDetector
{
    public const string NumericKind = "numeric";
    public const string CategoricalKind = "categorical";

    /// <summary>
    /// The least change of a feature's share of missing values (0.1: ten points, 5% of rows to 15%) that counts as drift
    /// when the z-test also tells it from chance. On a window of 100,000 rows the test alone would call half a point a
    /// change, which an upstream system that starts leaving a field out does not make.
    /// </summary>
    public const double MissingShareChange = 0.1;

    /// <summary>
    /// The feature's verdict; null when neither sample has a value. When one side has values and the other none (a field
    /// live traffic stopped sending), the verdict is the missing values' alone.
    /// </summary>
    public static FeatureDrift? CompareNumeric(string name, ReadOnlySpan<double> reference, ReadOnlySpan<double> current, int referenceRows, DriftSettings settings)
    {
        var r = Present(reference);
        var c = Present(current);
        var missing = CompareMissing(reference.Length - r.Length, reference.Length, current.Length - c.Length, current.Length, settings);
        if (r.Length == 0 || c.Length == 0) return MissingOnly(name, NumericKind, missing, r.Length, c.Length, settings);
        RadixSort.Sort(r);
        RadixSort.Sort(c);

        var (d, w) = TwoSampleWalk.Run(r, c, wasserstein: true);
        var ks = KolmogorovSmirnov.PValue(d, r.Length, c.Length);
        var wasserstein = DriftStatistics.NormalizedWasserstein(w, r);
        var (refShares, curShares) = DriftStatistics.BinnedShares(r, c);
        var statistics = new Dictionary<string, double>
        {
            [DriftMethods.Ks] = ks.Statistic,
            ["ksPValue"] = ks.PValue,
            [DriftMethods.Wasserstein] = wasserstein,
            [DriftMethods.Psi] = DriftStatistics.Psi(refShares, curShares),
        };

        var distinct = DistinctUnion(r, c, 6);
        var (requested, columnThreshold) = Requested(name, settings);
        string? note = null;
        if (requested == DriftMethods.ZTest && distinct > 2)
        {
            note = TwoValuesOnly(NumericKind);
            (requested, columnThreshold) = (DriftMethods.Auto, null);
        }
        var method = requested != DriftMethods.Auto ? requested
            : referenceRows <= settings.SmallReference
                ? distinct <= 5 ? distinct > 2 ? DriftMethods.ChiSquare : DriftMethods.ZTest : DriftMethods.Ks
                : distinct <= 5 ? DriftMethods.JensenShannon : DriftMethods.Wasserstein;

        double statistic;
        double? pValue = null;
        switch (method)
        {
            case DriftMethods.Ks:
                (statistic, pValue) = (ks.Statistic, ks.PValue);
                break;
            case DriftMethods.Wasserstein:
                statistic = wasserstein;
                break;
            case DriftMethods.Psi:
                statistic = statistics[DriftMethods.Psi];
                break;
            case DriftMethods.JensenShannon:
                statistic = statistics[DriftMethods.JensenShannon] = DriftStatistics.JensenShannon(refShares, curShares);
                break;
            default:
                // chisquare and ztest on a numeric column: its values are the categories.
                var (refCounts, curCounts) = ValueCounts(r, c);
                (statistic, pValue) = CategoricalTest(method, refCounts, curCounts, r.Length, c.Length, statistics);
                break;
        }
        return Verdict(name, NumericKind, method, settings.ThresholdOf(method, columnThreshold), statistic, pValue, r.Length, c.Length,
            missing, statistics, note);
    }

    /// <summary>
    /// The share of missing values on both sides, and whether it moved: by at least <see cref="MissingShareChange"/> and
    /// with the two-proportion z-test's p-value below <c>drift.pValueThreshold</c>. Null when neither side has a missing
    /// value (or a side has no rows).
    /// </summary>
    public static MissingShare? CompareMissing(int referenceMissing, int referenceRows, int currentMissing, int currentRows, DriftSettings settings)
    {
        if (referenceMissing + currentMissing == 0 || referenceRows == 0 || currentRows == 0) return null;
        var (z, p) = DriftStatistics.ZTest(referenceMissing, referenceRows, currentMissing, currentRows);
        double referenceShare = (double)referenceMissing / referenceRows, currentShare = (double)currentMissing / currentRows;
        var drifted = p < settings.PValueThreshold && Math.Abs(currentShare - referenceShare) >= MissingShareChange;
        return new MissingShare(referenceMissing, referenceShare, currentMissing, currentShare, z, p, drifted);
    }

    /// <summary>What a drifted <see cref="MissingShare"/> says, for the feature's note.</summary>
    private static string MissingNote(MissingShare missing) =>
        $"missing in {Percent(missing.CurrentShare)} of the window's rows against {Percent(missing.ReferenceShare)} of the reference's " +
        $"(z-test p = {missing.PValue.ToString("G3", CultureInfo.InvariantCulture)}): a drift of the missing values.";

    private static string Percent(double share) => (share * 100).ToString("F1", CultureInfo.InvariantCulture) + "%";

    /// <summary>A feature with values on one side only: compared by its missing values alone, or null with values on neither.</summary>
    private static FeatureDrift? MissingOnly(string name, string kind, MissingShare? missing, int referenceValues, int currentValues, DriftSettings settings)
    {
        if (missing is null || referenceValues + currentValues == 0) return null;
        var side = currentValues == 0 ? "the window" : "the reference";
        return new FeatureDrift
        {
            Name = name,
            Kind = kind,
            Method = DriftMethods.ZTest,
            Threshold = settings.PValueThreshold,
            Statistic = Math.Abs(missing.Z),
            PValue = missing.PValue,
            Drifted = missing.Drifted,
            ReferenceRows = referenceValues,
            CurrentRows = currentValues,
            CurrentMissing = missing.CurrentMissing,
            Missing = missing,
            Statistics = new Dictionary<string, double>(),
            Note = $"{name}: no value in {side}, so only the share of missing values was compared" + (missing.Drifted ? $": {MissingNote(missing)}" : "."),
        };
    }

    /// <summary>
    /// The clock parts of a date column that the live window can be compared by: hour of the day, day of the week and
    /// month, each with the shortest window that spans its whole cycle. Live traffic's instant and year move on with time,
    /// and a window shorter than a part's cycle sees only some of its values, so neither says anything about drift.
    /// </summary>
    private static readonly (string Part, TimeSpan Cycle, Func<DateFeatures.DateParts, float> Value)[] DateCycles =
    [
        (nameof(DateFeatures.DateParts.Hour), TimeSpan.FromDays(1), p => p.Hour),
        (nameof(DateFeatures.DateParts.Weekday), TimeSpan.FromDays(7), p => p.Weekday),
        (nameof(DateFeatures.DateParts.Month), TimeSpan.FromDays(365), p => p.Month),
    ];

    /// <summary>
    /// A date column compared by the parts of <see cref="DateCycles"/> whose cycle the <paramref name="window"/> spans and
    /// whose values vary in the reference, each as a categorical feature <c>{name}.{part}</c> (the column's drift settings
    /// apply to each); cells are read into parts as the model reads them (<see cref="DateFeatures.Map"/>), a cell that is
    /// no date counting as missing. <paramref name="note"/> says what was compared and what was not, and why.
    /// </summary>
    public static IReadOnlyList<FeatureDrift> CompareDate(string name, IReadOnlyList<string?> reference, IReadOnlyList<string?> current, TimeSpan window,
        DriftSettings settings, out string note)
    {
        static DateFeatures.DateParts[] Read(IReadOnlyList<string?> cells) => [.. cells.Select(cell =>
        {
            var parts = new DateFeatures.DateParts();
            DateFeatures.Map(new DateFeatures.DateText { Value = cell }, parts);
            return parts;
        })];
        static string? Category(float value) => float.IsNaN(value) ? null : ((int)value).ToString(CultureInfo.InvariantCulture);

        var r = Read(reference);
        var c = Read(current);
        var features = new List<FeatureDrift>();
        var compared = new List<string>();
        var skipped = new List<string>();
        foreach (var (part, cycle, value) in DateCycles)
        {
            var label = part.ToLowerInvariant();
            if (window < cycle)
            {
                skipped.Add($"{label} (the window is shorter than {cycle.TotalDays:0} day(s))");
                continue;
            }
            if (r.Select(value).Where(v => !float.IsNaN(v)).Distinct().Take(2).Count() < 2)
            {
                skipped.Add($"{label} (one value in the reference)");
                continue;
            }
            var feature = CompareCategorical($"{name}.{label}", r.Select(p => Category(value(p))), c.Select(p => Category(value(p))), reference.Count, settings, name);
            if (feature is null) continue;
            features.Add(feature);
            compared.Add(label);
        }
        note = $"{name}: a datetime column; " +
            (compared.Count > 0 ? $"compared by {string.Join(", ", compared)}" : "not compared") +
            "; its instant and year move on with time" +
            (skipped.Count > 0 ? $", and not by {string.Join(", ", skipped)}." : ".");
        return features;
    }

    /// <summary>
    /// The feature's verdict on categories (null = missing), or null when either sample has no value. The drift settings
    /// of <paramref name="settingsColumn"/> apply (default: the feature's own name).
    /// </summary>
    public static FeatureDrift? CompareCategorical(string name, IEnumerable<string?> reference, IEnumerable<string?> current, int referenceRows, DriftSettings settings,
        string? settingsColumn = null)
    {
        var refCounts = Count(reference, out var referenceMissing);
        var curCounts = Count(current, out var currentMissing);
        long refTotal = refCounts.Values.Sum(), curTotal = curCounts.Values.Sum();
        var missing = CompareMissing(referenceMissing, (int)refTotal + referenceMissing, currentMissing, (int)curTotal + currentMissing, settings);
        if (refTotal == 0 || curTotal == 0) return MissingOnly(name, CategoricalKind, missing, (int)refTotal, (int)curTotal, settings);

        var keys = refCounts.Keys.Union(curCounts.Keys).Order(StringComparer.Ordinal).ToList();
        var r = keys.Select(k => (double)refCounts.GetValueOrDefault(k)).ToArray();
        var c = keys.Select(k => (double)curCounts.GetValueOrDefault(k)).ToArray();
        var (refShares, curShares) = DriftStatistics.CategoryShares(refCounts, curCounts);
        var chi = DriftStatistics.ChiSquareContingency(r, c);
        var statistics = new Dictionary<string, double>
        {
            [DriftMethods.ChiSquare] = chi.Statistic,
            ["chisquarePValue"] = chi.PValue,
            [DriftMethods.Psi] = DriftStatistics.Psi(refShares, curShares),
            [DriftMethods.JensenShannon] = DriftStatistics.JensenShannon(refShares, curShares),
        };

        var (requested, columnThreshold) = Requested(settingsColumn ?? name, settings);
        string? note = null;
        if (DriftMethods.NeedsNumbers(requested))
        {
            note = $"'{requested}' needs numbers; this categorical feature used the default test.";
            (requested, columnThreshold) = (DriftMethods.Auto, null);
        }
        else if (requested == DriftMethods.ZTest && keys.Count > 2)
        {
            note = TwoValuesOnly(CategoricalKind);
            (requested, columnThreshold) = (DriftMethods.Auto, null);
        }
        var method = requested != DriftMethods.Auto ? requested
            : referenceRows <= settings.SmallReference
                ? keys.Count > 2 ? DriftMethods.ChiSquare : DriftMethods.ZTest
                : DriftMethods.JensenShannon;

        double statistic;
        double? pValue = null;
        switch (method)
        {
            case DriftMethods.Psi:
                statistic = statistics[DriftMethods.Psi];
                break;
            case DriftMethods.JensenShannon:
                statistic = statistics[DriftMethods.JensenShannon];
                break;
            default:
                (statistic, pValue) = CategoricalTest(method, r, c, refTotal, curTotal, statistics);
                break;
        }
        if (keys.Count == 2 && !statistics.ContainsKey(DriftMethods.ZTest)) CategoricalTest(DriftMethods.ZTest, r, c, refTotal, curTotal, statistics);
        return Verdict(name, CategoricalKind, method, settings.ThresholdOf(method, columnThreshold), statistic, pValue, (int)refTotal, (int)curTotal,
            missing, statistics, note);
    }

    /// <summary>
    /// Why a feature of more than two values is not z-tested: the test compares the share of one of two values, so on more
    /// it would test the first one's share alone and call a shift among the others stable.
    /// </summary>
    private static string TwoValuesOnly(string kind) =>
        $"'{DriftMethods.ZTest}' compares the shares of a feature's two values, and this {kind} feature has more; it used the default test.";

    /// <summary>The dataset's verdict over the features that could be compared.</summary>
    public static DatasetDrift DatasetVerdict(IReadOnlyList<FeatureDrift> features, double share)
    {
        var drifted = features.Count(f => f.Drifted);
        var actual = features.Count == 0 ? 0 : (double)drifted / features.Count;
        return new DatasetDrift(features.Count, drifted, actual, share, features.Count > 0 && actual >= share);
    }

    /// <summary>Chi-squared or Evidently's z-test (the first category against the rest) on counts per category.</summary>
    private static (double Statistic, double? PValue) CategoricalTest(string method, double[] r, double[] c, double refTotal, double curTotal, Dictionary<string, double> statistics)
    {
        if (method == DriftMethods.ZTest)
        {
            var present = Enumerable.Range(0, r.Length).Count(i => r[i] + c[i] > 0);
            var (z, p) = present <= 1 ? (0.0, 1.0) : DriftStatistics.ZTest(r[0], refTotal, c[0], curTotal);
            statistics[DriftMethods.ZTest] = z;
            statistics["ztestPValue"] = p;
            return (Math.Abs(z), p);
        }
        var chi = DriftStatistics.ChiSquareContingency(r, c);
        statistics[DriftMethods.ChiSquare] = chi.Statistic;
        statistics["chisquarePValue"] = chi.PValue;
        return (chi.Statistic, chi.PValue);
    }

    private static FeatureDrift Verdict(string name, string kind, string method, double threshold, double statistic, double? pValue,
        int referenceRows, int currentRows, MissingShare? missing, IReadOnlyDictionary<string, double> statistics, string? note) => new()
    {
        Name = name,
        Kind = kind,
        Method = method,
        Threshold = threshold,
        Statistic = statistic,
        PValue = pValue,
        Drifted = (pValue is { } p ? p < threshold : statistic >= threshold) || missing?.Drifted == true,
        ReferenceRows = referenceRows,
        CurrentRows = currentRows,
        CurrentMissing = missing?.CurrentMissing ?? 0,
        Missing = missing,
        Statistics = statistics,
        Note = missing?.Drifted == true ? string.Join(" ", new[] { note, $"{name}: {MissingNote(missing)}" }.OfType<string>()) : note,
    };

    private static (string Method, double? Threshold) Requested(string name, DriftSettings settings) =>
        settings.Columns.TryGetValue(name, out var column) && column is not null
            ? (column.Method ?? settings.Method, column.Threshold)
            : (settings.Method, null);

    private static double[] Present(ReadOnlySpan<double> values)
    {
        var present = new double[values.Length];
        var n = 0;
        foreach (var v in values) if (double.IsFinite(v)) present[n++] = v;
        Array.Resize(ref present, n);
        return present;
    }

    /// <summary>Distinct values of two sorted samples together, counted up to <paramref name="limit"/>.</summary>
    private static int DistinctUnion(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int limit)
    {
        int i = 0, j = 0, count = 0;
        while ((i < a.Length || j < b.Length) && count < limit)
        {
            var v = i < a.Length && (j >= b.Length || a[i] <= b[j]) ? a[i] : b[j];
            while (i < a.Length && a[i] <= v) i++;
            while (j < b.Length && b[j] <= v) j++;
            count++;
        }
        return count;
    }

    /// <summary>Counts per distinct value of two sorted samples, over the values of both, ascending.</summary>
    private static (double[] Reference, double[] Current) ValueCounts(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var r = new List<double>();
        var c = new List<double>();
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            var v = i < a.Length && (j >= b.Length || a[i] <= b[j]) ? a[i] : b[j];
            int i0 = i, j0 = j;
            while (i < a.Length && a[i] <= v) i++;
            while (j < b.Length && b[j] <= v) j++;
            r.Add(i - i0);
            c.Add(j - j0);
        }
        return ([.. r], [.. c]);
    }

    private static Dictionary<string, long> Count(IEnumerable<string?> values, out int missing)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        missing = 0;
        foreach (var v in values)
        {
            if (v is null) missing++;
            else counts[v] = counts.GetValueOrDefault(v) + 1;
        }
        return counts;
    }
}
