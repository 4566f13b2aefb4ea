using System.Globalization;
using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Tests.Datasets;

public sealed class ColumnStatisticsTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("-0.5")]
    [InlineData("+12.50")]
    [InlineData(".25")]
    [InlineData("1.")]
    [InlineData("123456789012345")]
    [InlineData("1234567890123456789")]
    [InlineData("0.000000000000001")]
    [InlineData("3.14159265358979")]
    [InlineData("1e5")]
    [InlineData("-2.5E-3")]
    [InlineData("Infinity")]
    public void TryNumber_AgreesWithDoubleParseToTheBit(string text)
    {
        Assert.True(CellValues.TryNumber(text.AsSpan(), out var fast));
        Assert.Equal(BitConverter.DoubleToInt64Bits(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)), BitConverter.DoubleToInt64Bits(fast));
    }

    [Fact]
    public void TryNumber_RandomDecimals_AgreeWithDoubleParse()
    {
        var random = new Random(3);
        for (var i = 0; i < 100_000; i++)
        {
            var text = (random.NextDouble() * Math.Pow(10, random.Next(-6, 12)) * (random.Next(2) == 0 ? -1 : 1)).ToString("F" + random.Next(0, 9), CultureInfo.InvariantCulture);
            Assert.True(CellValues.TryNumber(text.AsSpan(), out var fast), text);
            Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), fast);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData(".")]
    [InlineData("1.2.3")]
    [InlineData("12a")]
    [InlineData("CMT")]
    public void TryNumber_NotANumber_IsRefused(string text) => Assert.False(CellValues.TryNumber(text.AsSpan(), out _));

    [Fact]
    public void Profile_ValuesSpreadingOverTime_HistogramStaysExactAndQuantilesMatch()
    {
        var stats = new ColumnStatistics("x", 10_000);
        var values = Enumerable.Range(0, 5000).Select(i => i < 300 ? i * 0.01 : (i % 2 == 0 ? -1 : 1) * i * 3.7).ToArray();
        foreach (var v in values) stats.Add(v.ToString("R", CultureInfo.InvariantCulture).AsSpan());

        var profile = stats.Profile(ColumnKind.Numeric, sensitive: false);

        var edges = profile.Histogram!.Edges;
        var counts = profile.Histogram.Counts;
        Assert.Equal(values.Length, counts.Sum());
        for (var b = 0; b < counts.Count; b++)
        {
            Assert.Equal(values.Count(v => v >= edges[b] && (v < edges[b + 1] || (b == counts.Count - 1 && v <= edges[b + 1]))), counts[b]);
        }
        var sorted = values.OrderBy(v => v).ToArray();
        Assert.Equal(sorted[0], profile.Min);
        Assert.Equal(sorted[^1], profile.Max);
        Assert.Equal(values.Average(), profile.Mean!.Value, 9);
        Assert.Equal(ColumnStatistics.Quantile(sorted, 0.25), profile.Quantiles!["0.25"], 9);
    }

    /// <summary>
    /// Values written with one decimal (iris's 3.2) that sit on an edge are counted in the bin that starts there, as the
    /// edges read: the edges are round (3.2, not 3.2000001), and drift's reading of the same values (<see cref="Histogram.BinOf"/>)
    /// counts them where the profile did.
    /// </summary>
    [Fact]
    public void Profile_ValuesOnRoundEdges_AreCountedInTheBinTheEdgesSay()
    {
        var stats = new ColumnStatistics("width", 10_000);
        var texts = Enumerable.Range(0, 600).Select(i => (2.0m + (i * 7 % 25) / 10m).ToString(CultureInfo.InvariantCulture)).ToArray();
        foreach (var text in texts) stats.Add(text.AsSpan());

        var histogram = stats.Profile(ColumnKind.Numeric, sensitive: false).Histogram!;

        var edges = histogram.Edges.Select(e => decimal.Parse(e.ToString("G6", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(histogram.Edges, edges.Select(e => (double)e).ToArray());
        var values = texts.Select(t => decimal.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        for (var b = 0; b < histogram.Counts.Count; b++)
        {
            var last = b == histogram.Counts.Count - 1;
            Assert.Equal(values.Count(v => v >= edges[b] && (v < edges[b + 1] || (last && v <= edges[b + 1]))), histogram.Counts[b]);
        }
        var byDrift = new long[histogram.Counts.Count];
        foreach (var v in values) byDrift[histogram.BinOf((double)v)]++;
        Assert.Equal(histogram.Counts, byDrift);
    }

    /// <summary>A column of values at or above zero whose first rows are large keeps its first edge at or above zero as smaller values come.</summary>
    [Fact]
    public void Profile_NonNegativeValuesSmallerThanTheFirstOnes_HaveNoBinsBelowZero()
    {
        var stats = new ColumnStatistics("sugar", 10_000);
        var values = Enumerable.Range(0, 2000).Select(i => i < 300 ? 10 + i % 6 : (i % 97) / 10.0).ToArray();
        foreach (var v in values) stats.Add(v.ToString("R", CultureInfo.InvariantCulture).AsSpan());

        var histogram = stats.Profile(ColumnKind.Numeric, sensitive: false).Histogram!;

        Assert.True(histogram.Edges[0] >= 0, $"first edge {histogram.Edges[0]}");
        Assert.Equal(values.Length, histogram.Counts.Sum());
        Assert.True(histogram.Counts[0] > 0 && histogram.Counts[^1] > 0, "no empty bins at the ends");
    }
}

/// <summary>
/// The batched path (<see cref="ColumnStatistics.AddColumn"/>, with its memo of short numbers and its loop for known short
/// texts) gives the same statistics as adding each value alone, whatever the mix of values.
/// </summary>
public sealed class ColumnBatchTests
{
    private static readonly string[] Texts = ["CMT", "VTS", "a b", "é", "日本", "NA", "n/a", "?", "null", "None", "NaN", "yes", "no", "long text value here", "🙂", "\u0001x"];

    private static string Number(Random random) => random.Next(20) switch
    {
        0 => "NA",
        1 => random.Next(5) switch { 0 => "Infinity", 1 => "-nan", _ => "-0" },
        2 => (random.NextDouble() * 1e6 - 5e5).ToString("R", CultureInfo.InvariantCulture),
        3 => "0.0",
        _ => (random.Next(400) * 0.25).ToString(CultureInfo.InvariantCulture),
    };

    public static TheoryData<string> Columns() => ["numbers", "texts", "numbers then texts", "many distinct", "booleans and dates"];

    private static List<string> Values(string column, Random random) => column switch
    {
        "numbers" => [.. Enumerable.Range(0, 60_000).Select(_ => Number(random))],
        "texts" => [.. Enumerable.Range(0, 30_000).Select(_ => Texts[random.Next(Texts.Length)])],
        "numbers then texts" => [.. Enumerable.Range(0, 30_000).Select(i => i < 25_000 ? Number(random) : Texts[random.Next(Texts.Length)])],
        "many distinct" => [.. Enumerable.Range(0, 30_000).Select(i => random.Next(2) == 0 ? (i % 997).ToString(CultureInfo.InvariantCulture) : "v" + random.Next(5000))],
        _ => [.. Enumerable.Range(0, 5_000).Select(i => i < 2_000 ? (random.Next(2) == 0 ? "true" : "F") : $"2024-0{1 + random.Next(9)}-1{random.Next(10)}")],
    };

    private static ColumnStatistics Batched(IReadOnlyList<string> values, int distinctLimit, List<(long Record, ValueOutcome Outcome)> outcomes)
    {
        var stats = new ColumnStatistics("x", distinctLimit);
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", values.Select(v => "\"" + v.Replace("\"", "\"\"") + "\",1")) + "\n");
        using var reader = new Utf8CsvReader(new MemoryStream(bytes), ',', 1 << 20, bufferSize: 4096);
        var notable = new List<(int Record, ValueOutcome Outcome)>();
        int count;
        while ((count = reader.ReadBatch(1024)) > 0)
        {
            var all = Enumerable.Range(0, count).ToArray();
            stats.AddColumn(reader, 0, all, notable);
            outcomes.AddRange(notable.Select(n => (reader.RecordNumber(n.Record), n.Outcome)));
            notable.Clear();
        }
        return stats;
    }

    private static string Everything(ColumnStatistics s)
    {
        var kind = s.InferKind();
        var counts = new { s.Count, s.Missing, s.Numbers, s.NonFinite, s.Booleans, s.Dates, s.Integers, s.WithSpaces, s.LengthSum, s.MinLength, s.MaxLength, s.Min, s.Max, s.DistinctOverflow, kind };
        var options = new System.Text.Json.JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
        return System.Text.Json.JsonSerializer.Serialize(new { counts, Profile = s.Profile(kind, sensitive: false), Distinct = s.Distinct.ToList() }, options);
    }

    [Theory]
    [MemberData(nameof(Columns))]
    public void AddColumn_BatchesOfAColumn_EqualAddingEachValueAlone(string column)
    {
        var values = Values(column, new Random(column.Length));
        var distinctLimit = column == "many distinct" ? 1_000 : 10_000;
        var one = new ColumnStatistics("x", distinctLimit);
        var expectedOutcomes = new List<(long Record, ValueOutcome Outcome)>();
        for (var i = 0; i < values.Count; i++)
        {
            var utf8 = Encoding.UTF8.GetBytes(values[i]);
            var outcome = one.AddUtf8(utf8, values[i].Length, ColumnStatistics.ShortKey(utf8));
            if (outcome != ValueOutcome.Present) expectedOutcomes.Add((i + 1, outcome));
        }
        var outcomes = new List<(long Record, ValueOutcome Outcome)>();

        var batched = Batched(values, distinctLimit, outcomes);

        Assert.Equal(Everything(one), Everything(batched));
        Assert.Equal(expectedOutcomes, outcomes);
    }

    [Fact]
    public void Profile_RepeatedShortNumbers_CountsMatchAnIndependentTally()
    {
        var random = new Random(11);
        var values = Enumerable.Range(0, 50_000).Select(_ => Number(random)).ToList();
        var outcomes = new List<(long Record, ValueOutcome Outcome)>();

        var stats = Batched(values, 10_000, outcomes);

        var present = values.Where(v => v != "NA").ToList();
        var numbers = present.Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToList();
        var finite = numbers.Where(double.IsFinite).ToList();
        Assert.Equal(values.Count - present.Count, stats.Missing);
        Assert.Equal(finite.Count, stats.Numbers);
        Assert.Equal(numbers.Count - finite.Count, stats.NonFinite);
        Assert.Equal(finite.Count(x => x == Math.Floor(x)), stats.Integers);
        Assert.Equal(finite.Min(), stats.Min);
        Assert.Equal(finite.Max(), stats.Max);
        var distinct = numbers.GroupBy(x => x).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(distinct.Count, stats.Distinct.Count);
        Assert.All(stats.Distinct, kv => Assert.Equal(distinct[double.Parse(kv.Key, CultureInfo.InvariantCulture)], kv.Value));
        Assert.Equal([(values.FindIndex(v => v is "Infinity" or "-nan") + 1L, ValueOutcome.FirstNonFinite)], outcomes.Where(o => o.Outcome == ValueOutcome.FirstNonFinite));
    }
}

/// <summary>Cell parsing gives the same answers from UTF-8 bytes as from UTF-16 text.</summary>
public sealed class CellValuesUtf8Tests
{
    [Fact]
    public void TryNumber_Utf8_AgreesWithUtf16ToTheBit()
    {
        var random = new Random(7);
        const string alphabet = "0123456789.-+eEInfinityaN ";
        for (var i = 0; i < 200_000; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(1, 14)).Select(_ => alphabet[random.Next(alphabet.Length)])]);

            var fromText = CellValues.TryNumber(text.AsSpan(), out var x);
            var fromBytes = CellValues.TryNumber(Encoding.UTF8.GetBytes(text), out var y);

            Assert.Equal(fromText, fromBytes);
            Assert.Equal(BitConverter.DoubleToInt64Bits(x), BitConverter.DoubleToInt64Bits(y));
        }
    }

    [Theory]
    [InlineData("0.00000000000000000000001")]
    [InlineData("0.000000000000000000000000000012345")]
    [InlineData("1.0000000000000000000000000")]
    public void TryNumber_MoreThan22Decimals_ParsesAsDoubleParseDoes(string text)
    {
        Assert.True(CellValues.TryNumber(text.AsSpan(), out var fromText));
        Assert.True(CellValues.TryNumber(Encoding.UTF8.GetBytes(text), out var fromBytes));
        Assert.Equal(double.Parse(text, CultureInfo.InvariantCulture), fromText);
        Assert.Equal(fromText, fromBytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?")]
    [InlineData("na")]
    [InlineData("N/A")]
    [InlineData("nUlL")]
    [InlineData("NONE")]
    [InlineData("NaN")]
    [InlineData("n")]
    [InlineData("no")]
    [InlineData("nan ")]
    [InlineData("ñ")]
    [InlineData("??")]
    public void IsMissing_Utf8_AgreesWithUtf16(string text) =>
        Assert.Equal(CellValues.IsMissing(text), CellValues.IsMissing(Encoding.UTF8.GetBytes(text)));
}
