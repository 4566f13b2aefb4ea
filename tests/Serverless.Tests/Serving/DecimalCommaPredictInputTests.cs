using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;

namespace Serverless.Tests.Serving;

/// <summary>
/// A number sent as a string to a model whose data was read with a decimal comma is read as ingestion read the file
/// ("3,5" is 3.5); a JSON number is a number whatever the file's mark.
/// </summary>
public sealed class DecimalCommaPredictInputTests
{
    private static PredictionInput InputFor(char mark)
    {
        var schema = new DatasetSchema
        {
            Columns = [new ColumnSchema("fläche", ColumnKind.Numeric), new ColumnSchema("preis", ColumnKind.Numeric)],
            Label = "preis",
            Task = TaskKind.Regression,
            Features = ["fläche"],
            DecimalSeparator = mark,
        };
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("fläche", NumberDataViewType.Single);
        return new PredictionInput(schema, builder.ToSchema(), new Dictionary<string, HashSet<string>>());
    }

    private static float Read(PredictionInput input, string row) => input.Read([JsonDocument.Parse(row).RootElement]).Singles[0]![0];

    [Fact]
    public void Read_StringWithADecimalCommaForDataReadWithOne_IsTheNumber() =>
        Assert.Equal(78.5f, Read(InputFor(DecimalMark.Comma), """{"fläche":"78,5"}"""));

    [Fact]
    public void Read_JsonNumberForDataReadWithADecimalComma_IsTheNumber() =>
        Assert.Equal(78.5f, Read(InputFor(DecimalMark.Comma), """{"fläche":78.5}"""));

    [Fact]
    public void Read_StringWithADecimalCommaForDataReadWithAPoint_Answers400() =>
        Assert.Contains("rows[0].fläche", Assert.Throws<BadRequestException>(() => Read(InputFor(DecimalMark.Point), """{"fläche":"78,5"}""")).Errors!.Keys);

    [Theory]
    [InlineData("11.463", 11463f)]
    [InlineData("1 330,53", 1330.53f)]
    public void Read_StringWithThousandsGroupedForDataReadWithADecimalComma_IsTheNumber(string value, float expected) =>
        Assert.Equal(expected, Read(InputFor(DecimalMark.Comma), $$"""{"fläche":"{{value}}"}"""));

    /// <summary>",5" is no number in an uploaded file (its statistics refuse it): nor is it at predict.</summary>
    [Fact]
    public void Read_StringWithNoDigitBeforeTheDecimalComma_Answers400() =>
        Assert.Contains("rows[0].fläche", Assert.Throws<BadRequestException>(() => Read(InputFor(DecimalMark.Comma), """{"fläche":",5"}""")).Errors!.Keys);
}
