using System.Text;
using System.Text.Json;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Specs;

namespace Serverless.Tests.Monitoring;

/// <summary>A feedback label is read as the label column of an uploaded file is: one reading of cell values everywhere.</summary>
public sealed class FeedbackLabelTests
{
    private static DatasetSchema Schema(TaskKind task, params string[] classes) => new()
    {
        Columns = [new ColumnSchema("x", ColumnKind.Numeric), new ColumnSchema("y", task == TaskKind.Regression ? ColumnKind.Numeric : ColumnKind.Categorical)],
        Label = "y",
        Task = task,
        Features = ["x"],
        Classes = classes.Length == 0 ? null : classes,
    };

    /// <summary>
    /// A model whose data was read with a decimal comma: a label sent as a string is read so ("78,5"), as predict reads
    /// a string feature, and a JSON number as it is; a string with a point is refused there, as predict refuses it.
    /// </summary>
    [Theory]
    [InlineData("\"78,5\"", 78.5)]
    [InlineData("78.5", 78.5)]
    [InlineData("\"13\"", 13)]
    public void Regression_DataReadWithADecimalComma_StringReadSo(string json, double expected)
    {
        var schema = Schema(TaskKind.Regression) with { DecimalSeparator = DecimalMark.Comma };

        Assert.True(FeedbackService.TryReadLabel(schema, JsonDocument.Parse(json).RootElement, out var label, out var problem), problem);
        Assert.Equal(expected, label.GetDouble());
        Assert.False(FeedbackService.TryReadLabel(schema, JsonDocument.Parse("\"78.5\"").RootElement, out _, out _));
    }

    /// <summary>The drift check reads logged inputs as predict read them: a string with the model's decimal comma, a JSON number (logged with a point) as it is.</summary>
    [Theory]
    [InlineData("78,5", true, DecimalMark.Comma, 78.5)]
    [InlineData("78.5", false, DecimalMark.Comma, 78.5)]
    [InlineData("11.463", true, DecimalMark.Comma, 11463)]
    [InlineData("11.463", false, DecimalMark.Comma, 11.463)]
    [InlineData("78.5", true, DecimalMark.Point, 78.5)]
    [InlineData("78,5", true, DecimalMark.Point, double.NaN)]
    [InlineData("NA", true, DecimalMark.Comma, double.NaN)]
    public void DriftInputs_LoggedNumber_ReadWithTheDataMark(string logged, bool sentAsString, char mark, double expected)
    {
        Assert.Equal(expected, DriftInputs.Number(logged, sentAsString, mark));
    }

    /// <summary>The log's columns say which values were sent as strings, which predict read with the data's mark.</summary>
    [Fact]
    public void LoggedColumns_StringAndNumber_ToldApart()
    {
        byte[][] lines =
        [
            .. new[] { """{"fläche":"11.463"}""", """{"fläche":11.463}""" }.Select(inputs =>
                Encoding.UTF8.GetBytes($$$"""{"modelVersion":"v1","inputs":{{{inputs}}},"output":{"score":1}}""")),
        ];

        var numbers = DriftInputs.Numbers(LoggedColumns.Read(lines, ["fläche"]), "fläche", DecimalMark.Comma);

        Assert.Equal([11463, 11.463], numbers);
    }

    /// <summary>Feedback rows kept for retraining hold a logged input as the canonical data writes it, read as predict read it.</summary>
    [Theory]
    [InlineData("\"78,5\"", DecimalMark.Comma, "78.5")]
    [InlineData("78.5", DecimalMark.Comma, "78.5")]
    [InlineData("\"78.5\"", DecimalMark.Point, "78.5")]
    [InlineData("\"78,5\"", DecimalMark.Point, null)]
    [InlineData("\"NA\"", DecimalMark.Comma, null)]
    public void FeedbackRows_LoggedNumber_WrittenAsTheCanonicalDataWritesIt(string logged, char mark, string? expected) =>
        Assert.Equal(expected, DriftInputs.Canonical(ColumnKind.Numeric, JsonDocument.Parse(logged).RootElement, mark));

    [Theory]
    [InlineData("13", "13")]
    [InlineData("\"13\"", "13")]
    [InlineData("\"3.8\"", "3.8")]
    [InlineData("\"-1e3\"", "-1000")]
    public void Regression_NumberOrStringHoldingOne_IsThatNumber(string json, string expected)
    {
        Assert.True(FeedbackService.TryReadLabel(Schema(TaskKind.Regression), JsonDocument.Parse(json).RootElement, out var label, out var problem), problem);
        Assert.Equal(double.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), label.GetDouble());
    }

    [Theory]
    [InlineData("\"thirteen\"")]
    [InlineData("\"NA\"")]
    [InlineData("\"\"")]
    [InlineData("true")]
    [InlineData("1e400")]
    public void Regression_NotANumber_IsRefused(string json)
    {
        Assert.False(FeedbackService.TryReadLabel(Schema(TaskKind.Regression), JsonDocument.Parse(json).RootElement, out _, out var problem));
        Assert.Contains("expected a number", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e39")]
    [InlineData("\"-3.5e38\"")]
    public void Regression_BeyondThe32BitRange_IsRefusedAsPredictAndIngestionRefuseIt(string json)
    {
        Assert.False(FeedbackService.TryReadLabel(Schema(TaskKind.Regression), JsonDocument.Parse(json).RootElement, out _, out var problem));
        Assert.Contains(CellValues.ModelFiniteLimit, problem, StringComparison.Ordinal);
        Assert.True(FeedbackService.TryReadLabel(Schema(TaskKind.Regression), JsonDocument.Parse("3.4e38").RootElement, out _, out problem), problem);
    }

    [Theory]
    [InlineData("no,yes", "\"yes\"", "yes")]
    [InlineData("no,yes", "true", "yes")]
    [InlineData("no,yes", "1", "yes")]
    [InlineData("no,yes", "\"1\"", "yes")]
    [InlineData("no,yes", "0", "no")]
    [InlineData("no,yes", "\"F\"", "no")]
    // Numeric classes match by number, not by boolean.
    [InlineData("0,1", "1", "1")]
    [InlineData("0,1", "1.0", "1")]
    [InlineData("0,1", "0", "0")]
    // A boolean matches the numeric class that reads as it, as the label column's 1/0 read as booleans.
    [InlineData("0,1", "true", "1")]
    [InlineData("0,1", "false", "0")]
    [InlineData("0,1", "\"yes\"", "1")]
    public void Binary_ClassSpellings_MatchTheClassTheLabelColumnWouldHold(string classes, string json, string expected)
    {
        Assert.True(FeedbackService.TryReadLabel(Schema(TaskKind.Binary, classes.Split(',')), JsonDocument.Parse(json).RootElement, out var label, out var problem), problem);
        Assert.Equal(expected, label.GetString());
    }

    [Fact]
    public void Binary_TwoForClassesThatReadAsBooleans_IsRefusedNamingTheClasses()
    {
        Assert.False(FeedbackService.TryReadLabel(Schema(TaskKind.Binary, "no", "yes"), JsonDocument.Parse("2").RootElement, out _, out var problem));
        Assert.Contains("(no, yes)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Classification_DataReadWithADecimalComma_ClassWrittenWithOneMatches()
    {
        var schema = Schema(TaskKind.Binary, "0", "1") with { DecimalSeparator = DecimalMark.Comma };

        Assert.True(FeedbackService.TryReadLabel(schema, JsonDocument.Parse("\"1,0\"").RootElement, out var label, out var problem), problem);
        Assert.Equal("1", label.GetString());
    }

    [Fact]
    public void Regression_DataReadWithADecimalCommaGivenAPoint_SaysHowToWriteIt()
    {
        var schema = Schema(TaskKind.Regression) with { DecimalSeparator = DecimalMark.Comma };

        Assert.False(FeedbackService.TryReadLabel(schema, JsonDocument.Parse("\"120000.5\"").RootElement, out _, out var problem));
        Assert.Contains("a JSON number, or a string written with a decimal comma, 3,5", problem);
    }
}
