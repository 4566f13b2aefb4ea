using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Tests.Datasets;

/// <summary>
/// The one reader of numbers written with a decimal comma (<see cref="CellValues.TryNumber(ReadOnlySpan{char}, char, out double)"/>),
/// whose thousands may be grouped by points or spaces as German and French files write them, and how a ';' file's mark
/// is inferred from such values (<see cref="DecimalMark.Infer"/>).
/// </summary>
public sealed class CellValuesDecimalCommaTests
{
    [Theory]
    [InlineData("3,5", 3.5)]
    [InlineData("11.463", 11463)]
    [InlineData("1.234.567,5", 1234567.5)]
    [InlineData("-1.234,5", -1234.5)]
    [InlineData("1 330,53", 1330.53)]
    [InlineData("1\u00A0330,53", 1330.53)]
    [InlineData("1\u202F330,53", 1330.53)]
    [InlineData("12 345 678", 12345678)]
    public void TryNumber_CommaWithThousandsGroupedByThrees_IsTheNumber(string value, double expected)
    {
        Assert.True(CellValues.TryNumber(value.AsSpan(), DecimalMark.Comma, out var chars));
        Assert.True(CellValues.TryNumber(Encoding.UTF8.GetBytes(value), DecimalMark.Comma, out var bytes));
        Assert.Equal((expected, expected), (chars, bytes));
    }

    [Theory]
    [InlineData("3.5")]
    [InlineData("1.23")]
    [InlineData("1234.567")]
    [InlineData("0.123")]
    [InlineData("12.34,5")]
    [InlineData("1.234 567")]
    [InlineData("1.234,5.6")]
    [InlineData("1.234,")]
    [InlineData(",5")]
    [InlineData("-,5")]
    public void TryNumber_CommaWithAPointOrSpaceElsewhereOrNoDigitBeforeIt_IsNoNumber(string value)
    {
        Assert.False(CellValues.TryNumber(value.AsSpan(), DecimalMark.Comma, out _));
        Assert.False(CellValues.TryNumber(Encoding.UTF8.GetBytes(value), DecimalMark.Comma, out _));
    }

    [Theory]
    [InlineData("11.463", "11463")]
    [InlineData("1.234.567,5", "1234567.5")]
    [InlineData("1\u00A0330,53", "1330.53")]
    [InlineData("78,5", "78.5")]
    public void Canonical_NumberWithADecimalComma_IsWrittenPlainWithAPoint(string value, string expected) =>
        Assert.Equal(expected, CellValues.Canonical(ColumnKind.Numeric, value, DecimalMark.Comma));

    [Fact]
    public void ClassLabel_NumberWithADecimalComma_IsItsNumbersClass() =>
        Assert.Equal("1", CellValues.ClassLabel("1,0", DecimalMark.Comma));

    private static MarkInference Infer(params string[] values) =>
        DecimalMark.Infer(new ModelSpec(), ';', values.Select(v => (IReadOnlyList<string>)[v, "x"]), prior: null);

    [Fact]
    public void Infer_WholeNumbersGroupedByPointsBesideDecimalCommas_IsAComma() =>
        Assert.Equal(DecimalMark.Comma, Infer("11.463", "55,6", "3.520").Mark);

    [Theory]
    [InlineData("1.234,5")]
    [InlineData("1 330,53")]
    public void Infer_ThousandsGroupedBeforeADecimalComma_IsAComma(string value) =>
        Assert.Equal(DecimalMark.Comma, Infer("11", value).Mark);

    [Fact]
    public void Infer_APlainDecimalPoint_IsAPointNamingIt() =>
        Assert.Equal((DecimalMark.Point, "12.34"), (Infer("11.463", "55,6", "12.34") is var reading ? (reading.Mark, reading.PointExample) : default));

    [Fact]
    public void Infer_SemicolonFileWithoutDecimalsAfterAVersionReadWithAComma_IsAComma()
    {
        var schema = new DatasetSchema { Columns = [], Label = "y", Task = TaskKind.Regression, Features = [], DecimalSeparator = DecimalMark.Comma };
        var prior = new DatasetManifest
        {
            Model = "m", Version = "v1", Sha256 = "", CreatedAt = DateTimeOffset.UnixEpoch, Schema = schema, Rows = 2, Sources = [], DataBlob = "", ProfileBlob = "",
        };

        var reading = DecimalMark.Infer(new ModelSpec(), ';', [["12", "3"], ["14", "4"]], prior);

        Assert.Equal((DecimalMark.Comma, "v1"), (reading.Mark, reading.PriorVersion));
    }
}
