using Serverless.Core.Datasets;
using Serverless.Core.Specs;

namespace Serverless.Tests.Datasets;

/// <summary>A spec that names another decimal separator than the one a dataset version was read with no longer describes it.</summary>
public sealed class SpecFitDecimalSeparatorTests
{
    private static DatasetManifest ReadWith(char mark) => new()
    {
        Model = "flats", Version = "ds-1", Sha256 = "", CreatedAt = DateTimeOffset.UnixEpoch, Rows = 1, Sources = [], DataBlob = "", ProfileBlob = "",
        Schema = new DatasetSchema
        {
            Columns = [new ColumnSchema("fläche", ColumnKind.Categorical), new ColumnSchema("preis", ColumnKind.Numeric)],
            Label = "preis", Task = TaskKind.Regression, Features = ["fläche"], DecimalSeparator = mark,
        },
    };

    [Fact]
    public void Mismatches_SpecNamesACommaForDataReadWithAPoint_SaysSo() =>
        Assert.Equal(["The spec's decimalSeparator is ',', but ds-1 was read with '.'."], SpecFit.Mismatches(new ModelSpec { DecimalSeparator = "," }, "other", ReadWith(DecimalMark.Point)));

    [Fact]
    public void Mismatches_SpecNamesTheCommaTheDataWasReadWith_IsNone() =>
        Assert.Empty(SpecFit.Mismatches(new ModelSpec { DecimalSeparator = "," }, "other", ReadWith(DecimalMark.Comma)));
}
