using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>
/// The header of a ';' file of decimal commas is sniffed apart from the decimal mark: a value that looks like a number in
/// any notation is never a column's name, so a header is not read as data, nor data as a header.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SemicolonHeaderTests(AzuriteFixture azurite)
{
    private static async Task<DatasetManifest> AcceptedAsync(Ingestion ingestion, IngestionOutcome outcome)
    {
        Assert.True(outcome.Status == IngestionStatus.Accepted, outcome.Message);
        return (await ingestion.Datasets.GetManifestAsync(outcome.Model, outcome.DatasetVersion!, CancellationToken.None))!;
    }

    /// <summary>
    /// A header name that is also a value ("garten", a plot of land, under typ) over columns of decimal commas: no column
    /// read as numbers, each name found again below, and the header was taken for data.
    /// </summary>
    [Fact]
    public async Task Ingest_SemicolonFileWhoseHeaderNameIsAlsoAValue_KeepsItsHeader()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("garten");
        string[] types = ["haus", "wohnung", "garten"];
        var rows = "typ;preis;fläche;garten\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{types[i % 3]};{100000 + i * 1000},50;{50 + i},5;{(i % 2 == 0 ? "ja" : "nein")}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal(["typ", "preis", "fläche", "garten"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal(40, manifest.Rows);
    }

    /// <summary>The same file read with a decimal point, as its spec says: the header is still found.</summary>
    [Fact]
    public async Task Ingest_SemicolonFileWhoseHeaderNameIsAlsoAValueReadWithAPoint_KeepsItsHeader()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("garten");
        string[] types = ["haus", "wohnung", "garten"];
        var rows = "typ;preis;fläche;garten\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{types[i % 3]};{100000 + i * 1000},50;{50 + i},5;{(i % 2 == 0 ? "ja" : "nein")}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows, new ModelSpec { DecimalSeparator = "." }));

        Assert.Equal(["typ", "preis", "fläche", "garten"], manifest.Schema.Columns.Select(c => c.Name));
    }

    /// <summary>A file without a header whose first row is all decimal commas: that row is data, not names.</summary>
    [Fact]
    public async Task Ingest_SemicolonFileWithoutHeaderOfDecimalCommas_ReadsTheFirstRowAsData()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("noheader");
        var rows = string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 2 == 0 ? $"{i},5" : $"{i}")};{i * 2 + 1},25;{i * 3},75\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal(["column1", "column2", "column3"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal(40, manifest.Rows);
    }
}

/// <summary>A header whose names include numbers (years, as wide tables name their columns) is found by the label the spec names in it.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HeaderNamingTheLabelTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData(',')]
    [InlineData(';')]
    public async Task Ingest_HeaderOfYearsNamingTheLabel_IsReadAsTheHeader(char delimiter)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("years");
        string[] regions = ["north", "south", "east"];
        var rows = string.Join(delimiter, "region", "2022", "2023", "price") + "\n" +
                   string.Concat(Enumerable.Range(0, 40).Select(i => string.Join(delimiter, regions[i % 3], $"{100 + i}", $"{200 + 2 * i}", $"{1000 + 7 * i}") + "\n"));

        var outcome = await ingestion.IngestAsync($"{model}/data.csv", rows, new ModelSpec { Label = "price", Task = TaskKind.Regression });

        Assert.True(outcome.Status == IngestionStatus.Accepted, outcome.Message);
        var manifest = (await ingestion.Datasets.GetManifestAsync(outcome.Model, outcome.DatasetVersion!, CancellationToken.None))!;
        Assert.Equal(["region", "2022", "2023", "price"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal(40, manifest.Rows);
    }
}
