using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>
/// Everything ingestion learns about one column in a single streaming pass, in bounded memory: how many values are
/// missing, numbers, booleans or dates (which decides the column's kind); distinct values counted exactly up to a bound;
/// lengths; and for numbers the range, moments (sums shifted by the first value), a seeded reservoir sample for quantiles and an exact
/// histogram whose bins widen by doubling as the range grows.
/// </summary>
internal sealed class ColumnStatistics
{
    private const int ReservoirSize = 20_000;

    private readonly int _distinctLimit;
    private readonly TextCounts _distinct = new();
    private NumberCounts? _distinctNumbers = new();
    private const int MemoBits = 13;
    private static readonly ulong MemoMultiplier = (ulong)Random.Shared.NextInt64() | 1;
    private KnownNumber[]? _memo = new KnownNumber[1 << MemoBits];
    private readonly List<double> _reservoir = [];
    private readonly Random _random = new(17);
    private readonly StreamingHistogram _histogram = new(20);
    private bool _mayBeNumber = true, _mayBeBoolean = true, _mayBeDate = true;
    private double _shift = double.NaN, _sum, _sumOfSquares;
    private long _nextReplacement;
    private double _w;

    /// <param name="mark">The decimal mark the column's numbers are written with (<see cref="DecimalMark"/>).</param>
    public ColumnStatistics(string name, int distinctLimit, char mark = DecimalMark.Point)
    {
        Name = name;
        _distinctLimit = distinctLimit;
        _mark = mark;
    }

    private readonly char _mark;

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

    /// <summary>Distinct values and their counts, in the order first seen; numbers are keyed by their shortest round-trip text.</summary>
    public IReadOnlyDictionary<string, long> Distinct
    {
        get
        {
            MoveNumbersToText();
            return _distinct.ToDictionary();
        }
    }

    private int DistinctCount => _distinct.Count + (_distinctNumbers?.Count ?? 0);

    /// <summary>A short raw text already read in this (so far numeric) column: its number and its rank among the distinct numbers (-1 if uncounted).</summary>
    private readonly record struct KnownNumber(ulong Key, double Value, int Rank, bool IsInteger);

    /// <summary>
    /// The first present value that was not a number (null when every one is), set once, when the column stops being a
    /// candidate for numbers. Numbers are not counted apart after it, so how many values are not numbers is not known.
    /// </summary>
    public string? FirstNonNumber;

    /// <summary>The first value read as a date that is written with slashes (05/03/2021, read month first), for a note on the order.</summary>
    public string? FirstSlashedDate;

    /// <summary>Whether some slashed date can only be read as it was (a day above 12, or the year first): the column's order is then not in doubt.</summary>
    public bool SlashedDatesReadOneWay;

    /// <summary>The first value, after any dates, that is not one (13/03/2021 written day first, among them), for a note.</summary>
    public string? FirstNonDate;

    /// <summary>Distinct counting switches from numeric keys (cheap to hash) to text once a column turns out not to be all numbers.</summary>
    private void MoveNumbersToText()
    {
        if (_distinctNumbers is null) return;
        foreach (var (number, count) in _distinctNumbers.InOrder())
        {
            _distinct.Add(Encoding.UTF8.GetBytes(CellValues.NumberKey(number)), count);
        }
        _distinctNumbers = null;
        _memo = null;
    }

    public long Present => Count - Missing;

    /// <summary>
    /// Present values that the kind the spec declares cannot hold (counted by <see cref="CountAgainst"/>, for a column
    /// the spec declares numeric or boolean), and the first few of them, distinct.
    /// </summary>
    public long NotOfDeclaredKind;

    public List<string> NotOfDeclaredKindExamples { get; } = [];

    /// <summary>Counts a trimmed raw value against the kind the spec declares, read as the canonical data will read it (<see cref="CellValues"/>).</summary>
    public void CountAgainst(ColumnKind declared, ReadOnlySpan<byte> value)
    {
        var reading = declared == ColumnKind.Boolean ? CellValues.ReadBoolean(value, out _) : CellValues.ReadNumber(value, _mark, out _);
        if (reading != CellReading.Invalid) return;
        NotOfDeclaredKind++;
        if (NotOfDeclaredKindExamples.Count >= 3) return;
        var text = Encoding.UTF8.GetString(value);
        if (!NotOfDeclaredKindExamples.Contains(text)) NotOfDeclaredKindExamples.Add(text);
    }

    /// <summary>Adds a trimmed raw value.</summary>
    public void Add(ReadOnlySpan<char> value)
    {
        var rented = value.Length > 256 ? System.Buffers.ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length)) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[Encoding.UTF8.GetMaxByteCount(256)];
        var bytes = utf8[..Encoding.UTF8.GetBytes(value, utf8)];
        AddUtf8(bytes, value.Length, ShortKey(bytes));
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>A value of one to seven bytes as one word (its bytes, and its length in the top byte); 0 for any other value.</summary>
    public static ulong ShortKey(ReadOnlySpan<byte> value)
    {
        if ((uint)(value.Length - 1) > 6) return 0;
        var word = (ulong)value.Length << 56;
        for (var i = 0; i < value.Length; i++) word |= (ulong)value[i] << (8 * i);
        return word;
    }

    /// <summary>
    /// Adds a trimmed raw value given as UTF-8, with its length in UTF-16 characters (the unit lengths are reported in) and
    /// its <see cref="ShortKey"/>. Returns what the value was, for the caller's row-level checks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ValueOutcome AddUtf8(ReadOnlySpan<byte> value, int charLength, ulong shortKey)
    {
        if (shortKey != 0 && _memo is not null)
        {
            ref var known = ref _memo[(int)((shortKey * MemoMultiplier) >> (64 - MemoBits))];
            if (known.Key == shortKey)
            {
                Count++;
                LengthSum += charLength;
                if (charLength < MinLength) MinLength = charLength;
                if (charLength > MaxLength) MaxLength = charLength;
                AddNumber(known.Value);
                if (!DistinctOverflow) _distinctNumbers!.Increment(known.Rank);
                return ValueOutcome.Present;
            }
        }
        Count++;
        if (CellValues.IsMissing(value))
        {
            Missing++;
            return ValueOutcome.Missing;
        }
        LengthSum += charLength;
        if (charLength < MinLength) MinLength = charLength;
        if (charLength > MaxLength) MaxLength = charLength;

        var classified = false;
        var outcome = ValueOutcome.Present;
        if (_mayBeNumber)
        {
            var c = value[0];
            if ((char.IsAsciiDigit((char)c) || c is (byte)'-' or (byte)'+' or (byte)'.' or (byte)'I' or (byte)'i')
                && (_mark == DecimalMark.Point ? CellValues.TryNumber(value, out var x) : CellValues.TryNumber(value, _mark, out x)))
            {
                classified = true;
                if (!CellValues.IsModelFinite(x))
                {
                    if (++NonFinite == 1) outcome = ValueOutcome.FirstNonFinite;
                }
                else AddNumber(x);
                if (_distinctNumbers is not null && !DistinctOverflow)
                {
                    var rank = _distinctNumbers.IndexOf(x);
                    if (rank >= 0) _distinctNumbers.Increment(rank);
                    else if (DistinctCount < _distinctLimit) rank = _distinctNumbers.Insert(x);
                    else DistinctOverflow = true;
                    if (shortKey != 0 && _memo is not null && CellValues.IsModelFinite(x))
                    {
                        _memo[(int)((shortKey * MemoMultiplier) >> (64 - MemoBits))] = new KnownNumber(shortKey, x, rank, IsInteger(x));
                    }
                    return outcome;
                }
            }
            else
            {
                _mayBeNumber = false;
                FirstNonNumber = System.Text.Encoding.UTF8.GetString(value);
                MoveNumbersToText();
            }
        }
        if (!classified && value.Contains((byte)' ')) WithSpaces++;
        if (!classified && _mayBeBoolean)
        {
            if (CellValues.TryBoolean(value, out _)) { Booleans++; classified = true; }
            else _mayBeBoolean = false;
        }
        if (!classified && _mayBeDate)
        {
            if (CellValues.TryDate(value, out var date))
            {
                Dates++;
                var slash = value.IndexOf((byte)'/');
                if (slash >= 0)
                {
                    FirstSlashedDate ??= System.Text.Encoding.UTF8.GetString(value);
                    // A day above 12 cannot be a month, and a year written first (2021/09/21) is never read day first.
                    if (date.Day > 12 || slash == 4) SlashedDatesReadOneWay = true;
                }
            }
            else
            {
                _mayBeDate = false;
                FirstNonDate = System.Text.Encoding.UTF8.GetString(value);
            }
        }

        if (DistinctOverflow) return outcome;
        if (_distinct.TryIncrement(value, shortKey)) return outcome;
        if (DistinctCount < _distinctLimit) _distinct.Add(value, 1);
        else DistinctOverflow = true;
        return outcome;
    }

    /// <summary>
    /// Adds one column's values for some records of a batch, exactly as <see cref="AddUtf8"/> would one by one. While the
    /// values repeat short numbers or short texts already counted, the running totals stay in locals; any other value
    /// goes through <see cref="AddUtf8"/>. Values other than plain present ones are reported in <paramref name="notable"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void AddColumn(Utf8CsvReader reader, int column, ReadOnlySpan<int> records, List<(int Record, ValueOutcome Outcome)> notable)
    {
        var i = 0;
        while (i < records.Length)
        {
            if (_memo is not null) i = AddKnownNumbers(reader, column, records, i);
            else if (!_mayBeNumber && !_mayBeBoolean && !_mayBeDate && !DistinctOverflow) i = AddKnownTexts(reader, column, records, i);
            if (i == records.Length) break;
            var record = records[i];
            var value = reader[record, column];
            var outcome = AddUtf8(value, reader.CharLength(value), reader.ShortKey(record, column));
            if (outcome != ValueOutcome.Present) notable.Add((record, outcome));
            i++;
        }
    }

    /// <summary>
    /// The memo-hit path of <see cref="AddUtf8"/> for a run of values; returns where the run ends. A value that would
    /// widen the histogram or enter the reservoir ends the run too, so the loop makes no calls and its totals stay in
    /// registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddKnownNumbers(Utf8CsvReader reader, int column, ReadOnlySpan<int> records, int i)
    {
        var memo = _memo!;
        var numbersSeen = _distinctNumbers!;
        var overflow = DistinctOverflow;
        var multiplier = MemoMultiplier;
        var sampleFrom = _reservoir.Count < ReservoirSize ? long.MinValue : _nextReplacement;
        long count = Count, lengthSum = LengthSum, numbers = Numbers, integers = Integers;
        int minLength = MinLength, maxLength = MaxLength;
        double min = Min, max = Max, shift = _shift, sum = _sum, sumOfSquares = _sumOfSquares;
        double shiftToBin = _histogram.Shift, inverseWidth = _histogram.InverseWidth;
        var bins = _histogram.Counts;
        for (; i < records.Length; i++)
        {
            var key = reader.ShortKey(records[i], column);
            if (key == 0) break;
            ref readonly var known = ref memo[(int)((key * multiplier) >> (64 - MemoBits))];
            if (known.Key != key) break;
            var x = known.Value;
            var at = x * inverseWidth + shiftToBin;
            var bin = (int)at;
            if ((uint)bin >= (uint)bins.Length || !(at >= 0) || numbers + 1 >= sampleFrom) break;
            var length = (int)(key >> 56);
            count++;
            lengthSum += length;
            if (length < minLength) minLength = length;
            if (length > maxLength) maxLength = length;
            numbers++;
            if (known.IsInteger) integers++;
            if (x < min) min = x;
            if (x > max) max = x;
            var d = x - shift;
            sum += d;
            sumOfSquares += d * d;
            bins[bin]++;
            if (!overflow) numbersSeen.Increment(known.Rank);
        }
        Count = count;
        LengthSum = lengthSum;
        Numbers = numbers;
        Integers = integers;
        MinLength = minLength;
        MaxLength = maxLength;
        Min = min;
        Max = max;
        _sum = sum;
        _sumOfSquares = sumOfSquares;
        return i;
    }

    /// <summary>
    /// The path of <see cref="AddUtf8"/> for a text column's short values already counted (neither missing nor new);
    /// returns where the run ends.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int AddKnownTexts(Utf8CsvReader reader, int column, ReadOnlySpan<int> records, int i)
    {
        var ascii = reader.IsAscii;
        long count = Count, lengthSum = LengthSum, withSpaces = WithSpaces;
        int minLength = MinLength, maxLength = MaxLength;
        for (; i < records.Length; i++)
        {
            var key = reader.ShortKey(records[i], column);
            if (key == 0 || MayBeMissing(key) || !_distinct.TryIncrementShort(key)) break;
            var length = ascii ? (int)(key >> 56) : reader.CharLength(reader[records[i], column]);
            count++;
            lengthSum += length;
            if (length < minLength) minLength = length;
            if (length > maxLength) maxLength = length;
            if (HasSpace(key)) withSpaces++;
        }
        Count = count;
        LengthSum = lengthSum;
        WithSpaces = withSpaces;
        MinLength = minLength;
        MaxLength = maxLength;
        return i;
    }

    private static readonly ulong[] MissingKeys = [.. new[] { "?", "na", "n/a", "nan", "null", "none" }.Select(t => ShortKey(Encoding.ASCII.GetBytes(t)))];

    /// <summary>Whether a short key may be a missing-value token: its letters lowered, it equals one (a control character may match too, never a token missed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool MayBeMissing(ulong key)
    {
        var length = (int)(key >> 56);
        var first = (byte)key | 0x20;
        if (length > 4 || (first != 'n' && first != '?')) return false;
        var lowered = key | (0x2020202020202020UL & ((1UL << (8 * length)) - 1));
        foreach (var missing in MissingKeys)
        {
            if (lowered == missing) return true;
        }
        return false;
    }

    /// <summary>Whether a short key's bytes hold a space (a zero byte once every byte is XORed with a space).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HasSpace(ulong key)
    {
        var v = (key ^ 0x2020202020202020UL) | ~((1UL << (8 * (int)(key >> 56))) - 1);
        return ((v - 0x0101010101010101UL) & ~v & 0x8080808080808080UL) != 0;
    }

    /// <summary>Adds a number to the numeric statistics only (used when a spec forces a column numeric).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddNumber(double x)
    {
        Numbers++;
        if (IsInteger(x)) Integers++;
        if (x < Min) Min = x;
        if (x > Max) Max = x;
        // Moments from sums shifted by the first value, which keeps the variance free of cancellation for data far from 0.
        if (double.IsNaN(_shift)) _shift = x;
        var d = x - _shift;
        _sum += d;
        _sumOfSquares += d * d;
        _histogram.Add(x);
        if (_reservoir.Count < ReservoirSize || Numbers >= _nextReplacement) Sample(x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsInteger(double x) => x == Math.Floor(x) && Math.Abs(x) < 1e15;

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

    /// <summary>
    /// The task this column gets as the label when the spec names none, under <paramref name="kind"/>: regression for
    /// numbers that look like a quantity (more than 10 distinct values, or fractions), binary for two distinct values,
    /// else multiclass.
    /// </summary>
    public TaskKind InferLabelTask(ColumnKind kind)
    {
        var distinct = DistinctCount;
        return kind == ColumnKind.Numeric && (distinct > 10 || Integers < Numbers) && distinct > 2 ? TaskKind.Regression
            : distinct == 2 ? TaskKind.Binary
            : TaskKind.Multiclass;
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
