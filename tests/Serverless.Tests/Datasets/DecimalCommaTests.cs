using System.Globalization;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>
/// Numbers written with a decimal comma, as spreadsheets in German or French write them (';' between the fields): read
/// as numbers where the file says so unambiguously or the spec's decimalSeparator does, written with a point in the
/// dataset, and never guessed where a value reads two ways.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DecimalCommaTests(AzuriteFixture azurite)
{
    private static async Task<DatasetManifest> AcceptedAsync(Ingestion ingestion, IngestionOutcome outcome)
    {
        Assert.True(outcome.Status == IngestionStatus.Accepted, outcome.Message);
        return (await ingestion.Datasets.GetManifestAsync(outcome.Model, outcome.DatasetVersion!, CancellationToken.None))!;
    }

    /// <summary>preis 200000,50 to 239000,50; fläche 50,5 to 89,5; zimmer 1 to 4.</summary>
    private static string GermanFlats(int rows = 40) =>
        "preis;fläche;zimmer\n" + string.Concat(Enumerable.Range(0, rows).Select(i => $"{200000 + i * 1000},50;{50 + i},5;{1 + i % 4}\n"));

    [Fact]
    public async Task Ingest_SemicolonFileWithDecimalCommas_ReadsNumbersAndSaysSo()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("flats");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/wohnungen.csv", GermanFlats()));

        Assert.All(manifest.Schema.Columns, c => Assert.Equal(ColumnKind.Numeric, c.Kind));
        Assert.Equal(DecimalMark.Comma, manifest.Schema.DecimalSeparator);
        Assert.Contains(manifest.Schema.Inferred, n => n.StartsWith("numbers: read with a decimal comma, as the file is separated by semicolons and writes its numbers so (such as '200000,50')", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_SemicolonFileWithDecimalCommas_WritesTheNumbersWithAPoint()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("flats");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/wohnungen.csv", GermanFlats()));

        var lines = (await ingestion.ReadDataAsync(manifest)).Split('\n');
        Assert.Equal("preis,fläche,zimmer", lines[0]);
        Assert.Equal("200000.50,50.5,1", lines[1]);
    }

    [Fact]
    public async Task Ingest_SemicolonFileWithDecimalCommas_ProfilesTheNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("flats");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/wohnungen.csv", GermanFlats()));

        var profile = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!;
        var preis = profile.Columns.Single(c => c.Name == "preis");
        Assert.Equal((200000.5, 239000.5, 219500.5), (preis.Min!.Value, preis.Max!.Value, preis.Mean!.Value));
        var flaeche = profile.Columns.Single(c => c.Name == "fläche");
        Assert.Equal((50.5, 89.5), (flaeche.Min!.Value, flaeche.Max!.Value));
        Assert.Equal(70.0, flaeche.Mean!.Value, 9);
    }

    [Fact]
    public async Task Ingest_TabFileWithDecimalCommasAndTheSetting_ReadsNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("tabcomma");
        var rows = "x\ty\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},25\t{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.tsv", rows, new ModelSpec { DecimalSeparator = "," }));

        Assert.Equal(ColumnKind.Numeric, manifest.Schema.Column("x").Kind);
        Assert.Equal(DecimalMark.Comma, manifest.Schema.DecimalSeparator);
        Assert.Contains("numbers: read with a decimal comma (the spec's \"decimalSeparator\": \",\") and written with a decimal point in the dataset (3,5 as 3.5)", manifest.Schema.Inferred);
        Assert.Equal("1.25,1", (await ingestion.ReadDataAsync(manifest)).Split('\n')[2]);
    }

    [Fact]
    public async Task Ingest_TabFileWithDecimalCommasWithoutTheSetting_ReadsThemAsCategories()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("tabcomma");
        var rows = "x\ty\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},25\t{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.tsv", rows));

        Assert.Equal(ColumnKind.Categorical, manifest.Schema.Column("x").Kind);
        Assert.Equal(DecimalMark.Point, manifest.Schema.DecimalSeparator);
    }

    /// <summary>"1,100" may be 1.1 or eleven hundred: a file whose only commas read both ways is not read with a decimal comma.</summary>
    [Fact]
    public async Task Ingest_SemicolonFileWhoseCommasMayBeThousands_ReadsThemAsCategoriesAndNamesTheSetting()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("ambiguous");
        var rows = "betrag;klasse\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{1 + i % 9},{100 + i};{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal(ColumnKind.Categorical, manifest.Schema.Column("betrag").Kind);
        Assert.Equal(DecimalMark.Point, manifest.Schema.DecimalSeparator);
        var note = Assert.Single(manifest.Schema.Inferred, n => n.StartsWith("'betrag': values such as '1,100'", StringComparison.Ordinal));
        Assert.Contains("set \"decimalSeparator\": \",\" in the spec", note);
    }

    [Fact]
    public async Task Ingest_SemicolonFileWhoseCommasMayBeThousandsWithTheSetting_ReadsDecimalCommas()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("ambiguous");
        var rows = "betrag;klasse\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{1 + i % 9},{100 + i};{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows, new ModelSpec { DecimalSeparator = "," }));

        var betrag = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "betrag");
        Assert.Equal((1.1, 9.135), (betrag.Min!.Value, betrag.Max!.Value));
    }

    [Fact]
    public async Task Ingest_SemicolonFileWithDecimalPointsAndCommas_ReadsADecimalPoint()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("mixed");
        var rows = "a;b;y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},5;{i}.5;{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal(DecimalMark.Point, manifest.Schema.DecimalSeparator);
        Assert.Equal((ColumnKind.Categorical, ColumnKind.Numeric), (manifest.Schema.Column("a").Kind, manifest.Schema.Column("b").Kind));
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithThousandsSeparators_ReadsThatColumnAsCategoriesAndSaysWhy()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("thousands");
        var rows = "preis;fläche;zimmer\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 5 == 0 ? "1.234,50" : $"{200000 + i},50")};{50 + i},5;{1 + i % 4}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal((ColumnKind.Categorical, ColumnKind.Numeric), (manifest.Schema.Column("preis").Kind, manifest.Schema.Column("fläche").Kind));
        Assert.Contains("'preis': values such as '1.234,50' look like numbers written with thousands separators, so the column is read as categories; " +
                        "write numbers without thousands separators (1234,5, not 1.234,5) to have it read as numbers", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithADecimalPointBelowTheFirstLines_ReadsThatColumnAsCategoriesAndSaysWhy()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("latepoint");
        var rows = "a;b;y\n" + string.Concat(Enumerable.Range(0, 80).Select(i => $"{i},5;{(i == 70 ? "7.5" : $"{i},5")};{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal((ColumnKind.Numeric, ColumnKind.Categorical), (manifest.Schema.Column("a").Kind, manifest.Schema.Column("b").Kind));
        Assert.Contains(manifest.Schema.Inferred, n => n == "'b': values such as '7.5' look like numbers written with a decimal point, while the file's numbers are read with a decimal comma, so the column is read as categories; " +
                                                       "write every number of the file with a decimal comma (5,0, not 5.0), or set \"decimalSeparator\": \".\" in the spec where it writes them all with a point to have it read as numbers");
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithARegressionLabelWithThousandsSeparators_SaysToLeaveThemOut()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("thousandslabel");
        var rows = "fläche;preis\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{50 + i},5;{(i % 5 == 0 ? "1.234,50" : $"{200000 + i},50")}\n"));

        var outcome = await ingestion.IngestAsync($"{model}/data.csv", rows, new ModelSpec { Task = TaskKind.Regression });

        Assert.Equal([ReasonCodes.LabelNotNumeric], outcome.ReasonCodes);
        Assert.Contains("such as '1.234,50'. Such values look like numbers written with thousands separators: write numbers without thousands separators (1234,5, not 1.234,5).", outcome.Message);
    }
}
