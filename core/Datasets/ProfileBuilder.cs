using System.Globalization;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// Builds a column's profile in one streaming pass with bounded memory: exact count, missing, moments (Welford), min and
/// max; quantiles from a seeded reservoir sample; a histogram over bins fixed beforehand; top values from bounded counts.
/// </summary>
internal sealed class ProfileBuilder
{
    private const int ReservoirSize = 20_000;
    private const int Bins = 20;
    private const int TopK = 20;

    private readonly ColumnSchema _column;
    private readonly bool _sensitive;
    private readonly ColumnStatistics _stats;
    private readonly double[] _edges;
    private readonly long[] _counts = new long[Bins];
    private readonly List<double> _reservoir = [];
    private readonly Random _random = new(17);
    private long _n;
    private double _mean;
    private double _m2;

    public ProfileBuilder(ColumnSchema column, bool sensitive, double min, double max, int distinctLimit)
    {
        _column = column;
        _sensitive = sensitive;
        _stats = new ColumnStatistics(column.Name, distinctLimit);
        if (!double.IsFinite(min) || !double.IsFinite(max)) (min, max) = (0, 0);
        if (max <= min) max = min + 1;
        _edges = Enumerable.Range(0, Bins + 1).Select(i => min + (max - min) * i / Bins).ToArray();
    }

    /// <summary>Adds a canonical value (empty = missing).</summary>
    public void Add(string value)
    {
        _stats.Add(value);
        if (_column.Kind != ColumnKind.Numeric || value.Length == 0 || !CellValues.TryNumber(value, out var x) || !double.IsFinite(x)) return;
        _n++;
        var delta = x - _mean;
        _mean += delta / _n;
        _m2 += delta * (x - _mean);
        var bin = (int)((x - _edges[0]) / (_edges[^1] - _edges[0]) * Bins);
        _counts[Math.Clamp(bin, 0, Bins - 1)]++;
        if (_reservoir.Count < ReservoirSize) _reservoir.Add(x);
        else
        {
            var j = (long)(_random.NextDouble() * _n);
            if (j < ReservoirSize) _reservoir[(int)j] = x;
        }
    }

    public ColumnProfile Build()
    {
        var profile = new ColumnProfile
        {
            Name = _column.Name,
            Kind = _column.Kind,
            Count = _stats.Count,
            Missing = _stats.Missing,
            Distinct = _stats.Distinct.Count,
            DistinctIsEstimate = _stats.DistinctOverflow,
        };
        if (_sensitive) return profile;
        switch (_column.Kind)
        {
            case ColumnKind.Numeric when _n > 0:
                _reservoir.Sort();
                return profile with
                {
                    Min = _stats.Min,
                    Max = _stats.Max,
                    Mean = _mean,
                    StdDev = _n > 1 ? Math.Sqrt(_m2 / (_n - 1)) : 0,
                    Quantiles = new[] { 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 }.ToDictionary(
                        q => q.ToString(CultureInfo.InvariantCulture), q => Quantile(_reservoir, q)),
                    Histogram = new Histogram(_edges, _counts),
                };
            case ColumnKind.Text:
                return profile with
                {
                    MeanLength = _stats.Present == 0 ? 0 : _stats.LengthSum / (double)_stats.Present,
                    MinLength = _stats.Present == 0 ? 0 : _stats.MinLength,
                    MaxLength = _stats.MaxLength,
                };
            case ColumnKind.Categorical or ColumnKind.Boolean or ColumnKind.DateTime:
                var top = _stats.Distinct.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(TopK).ToList();
                return profile with
                {
                    TopValues = [.. top.Select(kv => new ValueCount(kv.Key, kv.Value))],
                    OtherCount = _stats.Present - top.Sum(kv => kv.Value),
                };
            default:
                return profile;
        }
    }

    /// <summary>Linear interpolation between order statistics (the "type 7" definition numpy and R use by default).</summary>
    internal static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        var h = (sorted.Count - 1) * q;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }
}
