using System.Globalization;
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
}
