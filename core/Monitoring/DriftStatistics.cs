using MathNet.Numerics;

namespace Serverless.Core.Monitoring;

/// <summary>A chi-squared test's statistic, p-value and degrees of freedom.</summary>
public readonly record struct ChiSquareResult(double Statistic, double PValue, int DegreesOfFreedom);

/// <summary>
/// The distances and tests of drift detection besides Kolmogorov–Smirnov, each as the reference implementation computes
/// it: <c>scipy.stats.wasserstein_distance</c>, <c>scipy.stats.chi2_contingency</c>, <c>scipy.spatial.distance.jensenshannon</c>,
/// and Evidently's population stability index, normalized Wasserstein distance, binning and two-proportion z-test.
/// The p-values' special functions (regularized incomplete gamma, erfc) are Math.NET's.
/// </summary>
public static class DriftStatistics
{
    /// <summary>Evidently's floor for the standard deviation that normalizes the Wasserstein distance.</summary>
    public const double WassersteinStdFloor = 0.001;

    /// <summary>Evidently's number of equal-width bins of a numeric column for PSI and Jensen–Shannon.</summary>
    public const int Bins = 30;

    /// <summary>A numeric column with at most this many distinct reference values is binned by value instead (Evidently).</summary>
    public const int MaxValuesBinnedByValue = 20;

    /// <summary>The first-order Wasserstein distance between two samples sorted ascending (scipy's <c>wasserstein_distance</c>).</summary>
    public static double Wasserstein(ReadOnlySpan<double> sortedA, ReadOnlySpan<double> sortedB) =>
        TwoSampleWalk.Run(sortedA, sortedB, wasserstein: true).Wasserstein;

    /// <summary>Evidently's normalized Wasserstein distance: the distance over the reference's population standard deviation (at least 0.001).</summary>
    public static double NormalizedWasserstein(double wasserstein, ReadOnlySpan<double> reference) =>
        wasserstein / Math.Max(PopulationStdDev(reference), WassersteinStdFloor);

    public static double PopulationStdDev(ReadOnlySpan<double> values)
    {
        if (values.Length == 0) return 0;
        var mean = 0.0;
        foreach (var v in values) mean += v;
        mean /= values.Length;
        var sum = 0.0;
        foreach (var v in values) sum += (v - mean) * (v - mean);
        return Math.Sqrt(sum / values.Length);
    }

    /// <summary>Distinct values of a sorted sample.</summary>
    public static int DistinctSorted(ReadOnlySpan<double> sorted)
    {
        if (sorted.IsEmpty) return 0;
        var count = 1;
        for (var i = 1; i < sorted.Length; i++) if (sorted[i] != sorted[i - 1]) count++;
        return count;
    }

    /// <summary>
    /// Evidently's binning of a numeric column (<c>get_binned_data</c>): 30 equal-width bins over the range of both samples
    /// (<c>np.histogram_bin_edges</c>), or one bin per value when the reference has at most 20 distinct values; shares of
    /// each sample per bin, zero shares replaced by a small floor so that logarithms stay finite.
    /// </summary>
    public static (double[] Reference, double[] Current) BinnedShares(ReadOnlySpan<double> sortedReference, ReadOnlySpan<double> sortedCurrent)
    {
        if (DistinctSorted(sortedReference) <= MaxValuesBinnedByValue)
        {
            var keys = new SortedSet<double>();
            foreach (var v in sortedReference) keys.Add(v);
            foreach (var v in sortedCurrent) keys.Add(v);
            var refCounts = new double[keys.Count];
            var curCounts = new double[keys.Count];
            var index = 0;
            foreach (var key in keys)
            {
                refCounts[index] = CountEqual(sortedReference, key);
                curCounts[index] = CountEqual(sortedCurrent, key);
                index++;
            }
            return (FillZeros(Shares(refCounts, sortedReference.Length)), FillZeros(Shares(curCounts, sortedCurrent.Length)));
        }
        var first = Math.Min(sortedReference[0], sortedCurrent.IsEmpty ? double.PositiveInfinity : sortedCurrent[0]);
        var last = Math.Max(sortedReference[^1], sortedCurrent.IsEmpty ? double.NegativeInfinity : sortedCurrent[^1]);
        if (first == last)
        {
            first -= 0.5;
            last += 0.5;
        }
        // np.linspace(first, last, bins + 1): i·step + first, the last edge exactly `last`.
        var edges = new double[Bins + 1];
        var step = (last - first) / Bins;
        for (var i = 0; i < Bins; i++) edges[i] = i * step + first;
        edges[Bins] = last;
        return (FillZeros(Shares(Histogram(sortedReference, edges), sortedReference.Length)),
                FillZeros(Shares(Histogram(sortedCurrent, edges), sortedCurrent.Length)));
    }

    /// <summary>Evidently's binning of a categorical column: shares of each value of either sample, zero shares floored.</summary>
    public static (double[] Reference, double[] Current) CategoryShares(IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> current)
    {
        var keys = reference.Keys.Union(current.Keys).Order(StringComparer.Ordinal).ToList();
        double refTotal = reference.Values.Sum(), curTotal = current.Values.Sum();
        var r = keys.Select(k => (double)reference.GetValueOrDefault(k)).ToArray();
        var c = keys.Select(k => (double)current.GetValueOrDefault(k)).ToArray();
        return (FillZeros(Shares(r, refTotal)), FillZeros(Shares(c, curTotal)));
    }

    /// <summary>Counts per bin as <c>np.histogram</c> assigns them: [e_i, e_{i+1}), the last bin closed.</summary>
    private static double[] Histogram(ReadOnlySpan<double> sorted, double[] edges)
    {
        var counts = new double[edges.Length - 1];
        for (var i = 0; i < counts.Length; i++)
        {
            var from = LowerBound(sorted, edges[i]);
            var to = i == counts.Length - 1 ? UpperBound(sorted, edges[i + 1]) : LowerBound(sorted, edges[i + 1]);
            counts[i] = Math.Max(0, to - from);
        }
        return counts;
    }

    private static int CountEqual(ReadOnlySpan<double> sorted, double value) => UpperBound(sorted, value) - LowerBound(sorted, value);

    /// <summary>The first index whose value is not below <paramref name="value"/>.</summary>
    public static int LowerBound(ReadOnlySpan<double> sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] < value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>The first index whose value is above <paramref name="value"/>.</summary>
    public static int UpperBound(ReadOnlySpan<double> sorted, double value)
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] <= value) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static double[] Shares(double[] counts, double total)
    {
        var shares = new double[counts.Length];
        for (var i = 0; i < counts.Length; i++) shares[i] = total == 0 ? 0 : counts[i] / total;
        return shares;
    }

    /// <summary>Evidently's <c>feel_zeroes</c>: a zero share becomes 0.0001, or a millionth of the smallest share when that is smaller.</summary>
    private static double[] FillZeros(double[] shares)
    {
        var smallest = double.PositiveInfinity;
        foreach (var s in shares) if (s != 0) smallest = Math.Min(smallest, s);
        if (double.IsPositiveInfinity(smallest)) return shares;
        var floor = smallest <= 0.0001 ? smallest / 1e6 : 0.0001;
        for (var i = 0; i < shares.Length; i++) if (shares[i] == 0) shares[i] = floor;
        return shares;
    }

    /// <summary>Population stability index Σ (r − c)·ln(r / c) over binned shares (Evidently's <c>psi</c>).</summary>
    public static double Psi(ReadOnlySpan<double> reference, ReadOnlySpan<double> current)
    {
        var psi = 0.0;
        for (var i = 0; i < reference.Length; i++) psi += (reference[i] - current[i]) * Math.Log(reference[i] / current[i]);
        return psi;
    }

    /// <summary>The Jensen–Shannon distance (natural logarithm) of two distributions, each normalized to sum 1 (scipy's <c>jensenshannon</c>).</summary>
    public static double JensenShannon(ReadOnlySpan<double> p, ReadOnlySpan<double> q)
    {
        double sp = 0, sq = 0;
        for (var i = 0; i < p.Length; i++)
        {
            sp += p[i];
            sq += q[i];
        }
        var js = 0.0;
        for (var i = 0; i < p.Length; i++)
        {
            double pi = p[i] / sp, qi = q[i] / sq, m = (pi + qi) / 2;
            js += RelativeEntropy(pi, m) + RelativeEntropy(qi, m);
        }
        return Math.Sqrt(js / 2);
    }

    private static double RelativeEntropy(double x, double y) =>
        x > 0 && y > 0 ? x * Math.Log(x / y) : x == 0 && y >= 0 ? 0 : double.PositiveInfinity;

    /// <summary>
    /// Pearson's chi-squared test of independence on the 2×k table of reference and current counts per category, with
    /// Yates' continuity correction when it has one degree of freedom (scipy's <c>chi2_contingency</c> defaults).
    /// Categories with no count in either sample are left out, as they would make an expected frequency zero.
    /// </summary>
    public static ChiSquareResult ChiSquareContingency(ReadOnlySpan<double> referenceCounts, ReadOnlySpan<double> currentCounts)
    {
        var columns = new List<(double R, double C)>();
        for (var i = 0; i < referenceCounts.Length; i++)
        {
            if (referenceCounts[i] + currentCounts[i] > 0) columns.Add((referenceCounts[i], currentCounts[i]));
        }
        double rowR = 0, rowC = 0;
        foreach (var (r, c) in columns)
        {
            rowR += r;
            rowC += c;
        }
        var dof = columns.Count - 1;
        if (dof <= 0 || rowR == 0 || rowC == 0) return new ChiSquareResult(0, 1.0, Math.Max(dof, 0));
        var total = rowR + rowC;
        var stat = 0.0;
        foreach (var (r, c) in columns)
        {
            var column = r + c;
            stat += Term(r, rowR * column / total, dof) + Term(c, rowC * column / total, dof);
        }
        return new ChiSquareResult(stat, ChiSquareSf(stat, dof), dof);

        static double Term(double observed, double expected, int dof)
        {
            if (dof == 1)
            {
                var diff = expected - observed;
                observed += Math.Sign(diff) * Math.Min(0.5, Math.Abs(diff));
            }
            return (observed - expected) * (observed - expected) / expected;
        }
    }

    /// <summary>The chi-squared distribution's survival function.</summary>
    public static double ChiSquareSf(double statistic, int dof) =>
        statistic <= 0 ? 1.0 : SpecialFunctions.GammaUpperRegularized(dof / 2.0, statistic / 2.0);

    /// <summary>
    /// Evidently's z-test for the difference of two proportions (a column with two categories): the share of
    /// <paramref name="referenceFirst"/> of <paramref name="referenceTotal"/> against <paramref name="currentFirst"/> of
    /// <paramref name="currentTotal"/>, pooled standard error, two-sided normal p-value. One category in both samples: p = 1.
    /// </summary>
    public static (double Z, double PValue) ZTest(double referenceFirst, double referenceTotal, double currentFirst, double currentTotal)
    {
        var p1 = referenceFirst / referenceTotal;
        var p2 = currentFirst / currentTotal;
        var pooled = (p1 * referenceTotal + p2 * currentTotal) / (referenceTotal + currentTotal);
        var variance = pooled * (1 - pooled) * (1.0 / referenceTotal + 1.0 / currentTotal);
        if (variance <= 0) return (0, 1.0);
        var z = (p1 - p2) / Math.Sqrt(variance);
        return (z, SpecialFunctions.Erfc(Math.Abs(z) / Math.Sqrt(2)));
    }
}

/// <summary>
/// One pass over two sorted samples that yields the Kolmogorov–Smirnov statistic (the largest gap between the empirical
/// distribution functions, right-continuous as scipy's <c>searchsorted(side="right")</c>) and, when asked, the first
/// Wasserstein distance (the area between them); one pass instead of two because drift checks compute both per column.
/// </summary>
public static class TwoSampleWalk
{
    public static (double Ks, double Wasserstein) Run(ReadOnlySpan<double> a, ReadOnlySpan<double> b, bool wasserstein)
    {
        int n1 = a.Length, n2 = b.Length;
        if (n1 == 0 || n2 == 0) throw new ArgumentException("Both samples must hold at least one value.");
        int i = 0, j = 0;
        double maxDiff = double.NegativeInfinity, minDiff = double.PositiveInfinity, area = 0;
        while (i < n1 || j < n2)
        {
            var v = i < n1 && (j >= n2 || a[i] <= b[j]) ? a[i] : b[j];
            while (i < n1 && a[i] <= v) i++;
            while (j < n2 && b[j] <= v) j++;
            double cdf1 = (double)i / n1, cdf2 = (double)j / n2;
            var diff = cdf1 - cdf2;
            if (diff > maxDiff) maxDiff = diff;
            if (diff < minDiff) minDiff = diff;
            if (wasserstein && (i < n1 || j < n2))
            {
                var next = i < n1 && (j >= n2 || a[i] <= b[j]) ? a[i] : b[j];
                area += Math.Abs(diff) * (next - v);
            }
        }
        var minS = Math.Clamp(-minDiff, 0, 1);
        return (minS > maxDiff ? minS : maxDiff, area);
    }
}
