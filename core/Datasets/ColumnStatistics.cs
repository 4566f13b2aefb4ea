using System.Globalization;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>Reading of raw cell text: missing-value tokens, numbers, booleans and dates.</summary>
public static class CellValues
{
    private static readonly HashSet<string> MissingTokens = new(["", "?", "NA", "N/A", "null", "NaN", "none"], StringComparer.OrdinalIgnoreCase);

    public static bool IsMissing(string value) => MissingTokens.Contains(value);

    public static bool TryNumber(string value, out double number) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out number);

    public static bool TryBoolean(string value, out bool result)
    {
        switch (value.ToLowerInvariant())
        {
            case "true" or "t" or "yes" or "y": result = true; return true;
            case "false" or "f" or "no" or "n": result = false; return true;
            default: result = false; return false;
        }
    }

    public static bool TryDate(string value, out DateTimeOffset date)
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
/// Per-column counts gathered in the first pass: what kinds of values the column holds, its distinct values (exactly,
/// up to a bound), lengths and numeric range. They decide the column's kind and the histogram bins of the profile.
/// </summary>
internal sealed class ColumnStatistics(string name, int distinctLimit)
{
    public string Name { get; } = name;
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
    public readonly Dictionary<string, long> Distinct = new(StringComparer.Ordinal);
    public bool DistinctOverflow;

    public long Present => Count - Missing;

    public void Add(string value)
    {
        Count++;
        if (CellValues.IsMissing(value))
        {
            Missing++;
            return;
        }
        LengthSum += value.Length;
        MinLength = Math.Min(MinLength, value.Length);
        MaxLength = Math.Max(MaxLength, value.Length);
        if (value.Contains(' ')) WithSpaces++;
        if (CellValues.TryNumber(value, out var number))
        {
            if (!double.IsFinite(number)) NonFinite++;
            else
            {
                Numbers++;
                if (number == Math.Floor(number) && Math.Abs(number) < 1e15) Integers++;
                Min = Math.Min(Min, number);
                Max = Math.Max(Max, number);
            }
        }
        else if (CellValues.TryBoolean(value, out _)) Booleans++;
        else if (CellValues.TryDate(value, out _)) Dates++;

        if (Distinct.TryGetValue(value, out var seen)) Distinct[value] = seen + 1;
        else if (Distinct.Count < distinctLimit) Distinct[value] = 1;
        else DistinctOverflow = true;
    }

    /// <summary>The kind the values suggest: numeric, boolean, datetime, categorical (few distinct, short) or text.</summary>
    public ColumnKind InferKind()
    {
        var present = Present;
        if (present == 0) return ColumnKind.Categorical;
        if (Numbers + NonFinite == present)
        {
            // Two integer codes such as 0/1 stay numeric; the task inference treats a two-valued label as binary.
            return ColumnKind.Numeric;
        }
        if (Booleans == present) return ColumnKind.Boolean;
        if (Dates == present) return ColumnKind.DateTime;
        var distinct = Distinct.Count;
        var meanLength = LengthSum / (double)present;
        var isText = meanLength > 30 || (WithSpaces > present / 2 && distinct > Math.Max(50, present / 10));
        return isText ? ColumnKind.Text : ColumnKind.Categorical;
    }
}
