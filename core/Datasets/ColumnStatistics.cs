using System.Globalization;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>Reading of raw cell text: missing-value tokens, numbers, booleans and dates.</summary>
public static class CellValues
{
    public static bool IsMissing(string value) => IsMissing(value.AsSpan());

    /// <summary>Empty, "?", "NA", "N/A", "null", "NaN" or "none", in any case.</summary>
    public static bool IsMissing(ReadOnlySpan<char> value) => value.Length switch
    {
        0 => true,
        1 => value[0] == '?',
        2 => value.Equals("NA", StringComparison.OrdinalIgnoreCase),
        3 => value.Equals("N/A", StringComparison.OrdinalIgnoreCase) || value.Equals("NaN", StringComparison.OrdinalIgnoreCase),
        4 => value.Equals("null", StringComparison.OrdinalIgnoreCase) || value.Equals("none", StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    public static bool TryNumber(string value, out double number) => TryNumber(value.AsSpan(), out number);

    private static readonly double[] PowersOfTen =
        [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>
    /// Parses a number in invariant culture. Plain decimals ("-12.50") take an exact fast path: with fewer than 16
    /// significant digits the mantissa and the power of ten are exact doubles, so one multiplication or division rounds
    /// correctly (Clinger's fast path). Everything else (exponents, long mantissas, Infinity) goes to double.TryParse.
    /// </summary>
    public static bool TryNumber(ReadOnlySpan<char> value, out double number)
    {
        var i = 0;
        var negative = false;
        if (value.Length > 0 && (value[0] == '-' || value[0] == '+'))
        {
            negative = value[0] == '-';
            i = 1;
        }
        long mantissa = 0;
        int digits = 0, fraction = 0;
        var dot = false;
        var fast = i < value.Length;
        for (; i < value.Length; i++)
        {
            var c = value[i];
            if ((uint)(c - '0') <= 9)
            {
                if (digits < 15) { mantissa = mantissa * 10 + (c - '0'); if (mantissa != 0) digits++; if (dot) fraction++; }
                else { fast = false; break; }
            }
            else if (c == '.' && !dot) dot = true;
            else { fast = false; break; }
        }
        if (fast && (i > (negative || value[0] == '+' ? 1 : 0) + (dot ? 1 : 0)))
        {
            var result = fraction == 0 ? mantissa : mantissa / PowersOfTen[fraction];
            number = negative ? -result : result;
            return true;
        }
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
    }

    public static bool TryBoolean(string value, out bool result) => TryBoolean(value.AsSpan(), out result);

    public static bool TryBoolean(ReadOnlySpan<char> value, out bool result)
    {
        result = false;
        if (value.Length > 5) return false;
        if (value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("t", StringComparison.OrdinalIgnoreCase)
            || value.Equals("yes", StringComparison.OrdinalIgnoreCase) || value.Equals("y", StringComparison.OrdinalIgnoreCase))
        {
            result = true;
            return true;
        }
        return value.Equals("false", StringComparison.OrdinalIgnoreCase) || value.Equals("f", StringComparison.OrdinalIgnoreCase)
            || value.Equals("no", StringComparison.OrdinalIgnoreCase) || value.Equals("n", StringComparison.OrdinalIgnoreCase);
    }

    public static bool TryDate(ReadOnlySpan<char> value, out DateTimeOffset date)
    {
        date = default;
        return value.Length >= 8 && value.Length <= 40 && (value.Contains('-') || value.Contains('/')) && char.IsDigit(value[0])
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);
    }

    /// <summary>A value as reports echo it: spreadsheet formula starters (= + - @) are prefixed with a quote, long text cut.</summary>
    public static string Escape(string value)
    {
        var cut = value.Length > 200 ? value[..200] + "…" : value;
        return cut.Length > 0 && cut[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + cut : cut;
    }
}

/// <summary>
/// Everything ingestion learns about one column in a single streaming pass, in bounded memory: how many values are
/// missing, numbers, booleans or dates (which decides the column's kind); distinct values counted exactly up to a bound;
/// lengths; and for numbers the range, moments (Welford), a seeded reservoir sample for quantiles and an exact
/// histogram whose bins widen by doubling as the range grows.
/// </summary>
internal sealed class ColumnStatistics
{
    private const int ReservoirSize = 20_000;

    private readonly int _distinctLimit;
    private readonly Dictionary<string, long> _distinct = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private Dictionary<double, long>? _distinctNumbers = [];
    private readonly List<double> _reservoir = [];
    private readonly Random _random = new(17);
    private readonly StreamingHistogram _histogram = new(20);
    private bool _mayBeNumber = true, _mayBeBoolean = true, _mayBeDate = true;
    private double _shift = double.NaN, _sum, _sumOfSquares;
    private long _nextReplacement;
    private double _w;

    public ColumnStatistics(string name, int distinctLimit)
    {
        Name = name;
        _distinctLimit = distinctLimit;
        _lookup = _distinct.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Name { get; }
    public long Count;
    public long Missing;
    public long Numbers;
    public long NonFinite;
    public long Booleans;
    public long Dates;
    public long Integers;
    public long WithSpaces;
    public long LengthSum;
    public int MinLength = int.MaxValue;
    public int MaxLength;
    public double Min = double.PositiveInfinity;
    public double Max = double.NegativeInfinity;
    public bool DistinctOverflow;

    /// <summary>Distinct values and their counts; numbers are keyed by their shortest round-trip text.</summary>
    public IReadOnlyDictionary<string, long> Distinct
    {
        get
        {
            MoveNumbersToText();
            return _distinct;
        }
    }

    private int DistinctCount => _distinct.Count + (_distinctNumbers?.Count ?? 0);

    /// <summary>Distinct counting switches from numeric keys (cheap to hash) to text once a column turns out not to be all numbers.</summary>
    private void MoveNumbersToText()
    {
        if (_distinctNumbers is null) return;
        foreach (var (number, count) in _distinctNumbers)
        {
            var key = number.ToString("R", CultureInfo.InvariantCulture);
            _distinct[key] = _distinct.GetValueOrDefault(key) + count;
        }
        _distinctNumbers = null;
    }
    public long Present => Count - Missing;

    /// <summary>Adds a trimmed raw value.</summary>
    public void Add(ReadOnlySpan<char> value)
    {
        Count++;
        if (CellValues.IsMissing(value))
        {
            Missing++;
            return;
        }
        LengthSum += value.Length;
        if (value.Length < MinLength) MinLength = value.Length;
        if (value.Length > MaxLength) MaxLength = value.Length;

        var classified = false;
        if (_mayBeNumber)
        {
            var c = value[0];
            if ((char.IsAsciiDigit(c) || c is '-' or '+' or '.' or 'I' or 'i') && CellValues.TryNumber(value, out var x))
            {
                classified = true;
                if (!double.IsFinite(x)) NonFinite++;
                else AddNumber(x);
                if (_distinctNumbers is not null && !DistinctOverflow)
                {
                    ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_distinctNumbers, x);
                    if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref count)) count++;
                    else if (DistinctCount < _distinctLimit) _distinctNumbers[x] = 1;
                    else DistinctOverflow = true;
                    return;
                }
            }
            else
            {
                _mayBeNumber = false;
                MoveNumbersToText();
            }
        }
        if (!classified && value.Contains(' ')) WithSpaces++;
        if (!classified && _mayBeBoolean)
        {
            if (CellValues.TryBoolean(value, out _)) { Booleans++; classified = true; }
            else _mayBeBoolean = false;
        }
        if (!classified && _mayBeDate)
        {
            if (CellValues.TryDate(value, out _)) Dates++;
            else _mayBeDate = false;
        }

        if (DistinctOverflow) return;
        if (_lookup.TryGetValue(value, out var seen)) _lookup[value] = seen + 1;
        else if (DistinctCount < _distinctLimit) _lookup[value] = 1;
        else DistinctOverflow = true;
    }

    /// <summary>Adds a number to the numeric statistics only (used when a spec forces a column numeric).</summary>
    public void AddNumber(double x)
    {
        Numbers++;
        if (x == Math.Floor(x) && Math.Abs(x) < 1e15) Integers++;
        if (x < Min) Min = x;
        if (x > Max) Max = x;
        // Moments from sums shifted by the first value, which keeps the variance free of cancellation for data far from 0.
        if (double.IsNaN(_shift)) _shift = x;
        var d = x - _shift;
        _sum += d;
        _sumOfSquares += d * d;
        _histogram.Add(x);
        Sample(x);
    }

    /// <summary>Reservoir sampling with geometric skips (Li's Algorithm L): a random draw per replacement, not per value.</summary>
    private void Sample(double x)
    {
        if (_reservoir.Count < ReservoirSize)
        {
            _reservoir.Add(x);
            if (_reservoir.Count == ReservoirSize)
            {
                _w = Math.Exp(Math.Log(_random.NextDouble()) / ReservoirSize);
                _nextReplacement = Numbers + Skip();
            }
            return;
        }
        if (Numbers < _nextReplacement) return;
        _reservoir[_random.Next(ReservoirSize)] = x;
        _w *= Math.Exp(Math.Log(_random.NextDouble()) / ReservoirSize);
        _nextReplacement = Numbers + Skip();
    }

    private long Skip() => (long)Math.Floor(Math.Log(_random.NextDouble()) / Math.Log(1 - _w)) + 1;

    private double Mean => Numbers == 0 ? double.NaN : _shift + _sum / Numbers;

    private double Variance => Numbers < 2 ? 0 : Math.Max(0, (_sumOfSquares - _sum * _sum / Numbers) / (Numbers - 1));

    /// <summary>The kind the values suggest: numeric, boolean, datetime, categorical (few distinct, short) or text.</summary>
    public ColumnKind InferKind()
    {
        var present = Present;
        if (present == 0) return ColumnKind.Categorical;
        if (Numbers + NonFinite == present) return ColumnKind.Numeric;
        if (Booleans == present) return ColumnKind.Boolean;
        if (Dates == present) return ColumnKind.DateTime;
        var distinct = DistinctCount;
        var meanLength = LengthSum / (double)present;
        var isText = meanLength > 30 || (WithSpaces > present / 2 && distinct > Math.Max(50, present / 10));
        return isText ? ColumnKind.Text : ColumnKind.Categorical;
    }

    /// <summary>The column's profile under the kind decided for it; a sensitive column keeps only its counts.</summary>
    public ColumnProfile Profile(ColumnKind kind, bool sensitive)
    {
        var profile = new ColumnProfile
        {
            Name = Name,
            Kind = kind,
            Count = Count,
            Missing = Missing,
            Distinct = DistinctCount,
            DistinctIsEstimate = DistinctOverflow,
        };
        if (sensitive) return profile;
        switch (kind)
        {
            case ColumnKind.Numeric when Numbers > 0:
                var sorted = _reservoir.ToArray();
                Array.Sort(sorted);
                return profile with
                {
                    Min = Min,
                    Max = Max,
                    Mean = Mean,
                    StdDev = Math.Sqrt(Variance),
                    Quantiles = new[] { 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99 }.ToDictionary(q => q.ToString(CultureInfo.InvariantCulture), q => Quantile(sorted, q)),
                    Histogram = _histogram.ToHistogram(),
                };
            case ColumnKind.Text:
                return profile with
                {
                    MeanLength = Present == 0 ? 0 : LengthSum / (double)Present,
                    MinLength = Present == 0 ? 0 : MinLength,
                    MaxLength = MaxLength,
                };
            case ColumnKind.Categorical or ColumnKind.Boolean or ColumnKind.DateTime:
                var top = Distinct.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(20).ToList();
                return profile with
                {
                    TopValues = [.. top.Select(kv => new ValueCount(kv.Key, kv.Value))],
                    OtherCount = Present - top.Sum(kv => kv.Value),
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

/// <summary>
/// An exact histogram over a range learnt while streaming: bins of equal width starting at a fixed origin; when a value
/// falls outside, the width doubles (adjacent bins merge) until it fits, so every count stays exact.
/// </summary>
internal sealed class StreamingHistogram(int bins)
{
    private readonly long[] _counts = new long[bins];
    private double _origin = double.NaN;
    private double _width;
    private double _inverseWidth;
    private readonly List<double> _pending = [];

    public void Add(double x)
    {
        if (double.IsNaN(_origin))
        {
            _pending.Add(x);
            if (_pending.Count < 256) return;
            Start();
            return;
        }
        Place(x);
    }

    private void Start()
    {
        var min = _pending.Min();
        var max = _pending.Max();
        _origin = min;
        _width = max > min ? (max - min) / bins * 1.0000001 : 1;
        _inverseWidth = 1 / _width;
        foreach (var v in _pending) Place(v);
        _pending.Clear();
    }

    private void Place(double x)
    {
        var index = (int)((x - _origin) * _inverseWidth);
        if ((uint)index < (uint)bins && x >= _origin)
        {
            _counts[index]++;
            return;
        }
        while (x < _origin)
        {
            // Grow to the left: the new range ends where the old one ended, with twice the width.
            var end = _origin + _width * bins;
            _width *= 2;
            var merged = new long[bins];
            for (var i = 0; i < bins; i++) merged[bins / 2 + i / 2] += _counts[i];
            Array.Copy(merged, _counts, bins);
            _origin = end - _width * bins;
            _inverseWidth = 1 / _width;
        }
        while (x >= _origin + _width * bins)
        {
            _width *= 2;
            var merged = new long[bins];
            for (var i = 0; i < bins; i++) merged[i / 2] += _counts[i];
            Array.Copy(merged, _counts, bins);
            _inverseWidth = 1 / _width;
        }
        index = (int)((x - _origin) * _inverseWidth);
        _counts[Math.Clamp(index, 0, bins - 1)]++;
    }

    public Histogram ToHistogram()
    {
        if (double.IsNaN(_origin))
        {
            if (_pending.Count == 0) return new Histogram([], []);
            Start();
        }
        return new Histogram([.. Enumerable.Range(0, bins + 1).Select(i => _origin + _width * i)], [.. _counts]);
    }
}
