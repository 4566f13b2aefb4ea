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

    /// <summary>A ',' file read with a decimal comma by its spec, its numbers unquoted: each comma splits a field, and the problem says to quote them.</summary>
    [Fact]
    public async Task Ingest_CommaFileWithUnquotedDecimalCommasAndTheSetting_SaysToQuoteThem()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("unquoted");
        var rows = "preis,fläche,zimmer\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{200000 + i * 1000},50,{50 + i},5,{1 + i % 4}\n"));

        var outcome = await ingestion.IngestAsync($"{model}/data.csv", rows, new ModelSpec { DecimalSeparator = "," });

        Assert.Equal(IngestionStatus.Quarantined, outcome.Status);
        var report = await ingestion.ReportAsync(outcome);
        var ragged = report["problems"]!.AsArray().Single(p => p!["code"]!.GetValue<string>() == ReasonCodes.RaggedRows)!;
        Assert.Contains("read with a decimal ',': quote numbers written so, \"3,5\", or separate the fields with ';'", ragged["details"]![0]!.GetValue<string>());
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

    /// <summary>Berlin's inhabitants in thousands with a point, areas with a decimal comma, as a German spreadsheet writes them.</summary>
    private static string GermanTowns(int rows = 40) =>
        "Ort;Einwohner;Fläche;Preis\n" + string.Concat(Enumerable.Range(0, rows).Select(i => $"B{i};{11 + i}.463;{55 + i},6;{62344 + i}\n"));

    [Fact]
    public async Task Ingest_DecimalCommaFileWithThousandsGroupedByPoints_ReadsThemAsWholeNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("towns");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/orte.csv", GermanTowns()));

        Assert.Equal((DecimalMark.Comma, ColumnKind.Numeric), (manifest.Schema.DecimalSeparator, manifest.Schema.Column("Einwohner").Kind));
        var einwohner = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "Einwohner");
        Assert.Equal((11463.0, 50463.0), (einwohner.Min!.Value, einwohner.Max!.Value));
        Assert.Equal("B0,11463,55.6,62344", (await ingestion.ReadDataAsync(manifest)).Split('\n')[1]);
    }

    [Fact]
    public async Task Ingest_SemicolonFileWithThousandsGroupedByPointsAndTheSetting_ReadsThemAsWholeNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("towns");
        var rows = "Ort;Einwohner;Preis\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"B{i};{11 + i}.463;{62344 + i}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/orte.csv", rows, new ModelSpec { DecimalSeparator = "," }));

        Assert.Equal(ColumnKind.Numeric, manifest.Schema.Column("Einwohner").Kind);
    }

    [Fact]
    public async Task Ingest_FrenchFileWithThousandsGroupedBySpaces_ReadsNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("french");
        var rows = "ville;loyer;pièces\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"V{i};1\u202F{330 + i},53;{1 + i % 4}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/loyers.csv", rows));

        Assert.Equal((DecimalMark.Comma, ColumnKind.Numeric), (manifest.Schema.DecimalSeparator, manifest.Schema.Column("loyer").Kind));
        Assert.Equal("V0,1330.53,1", (await ingestion.ReadDataAsync(manifest)).Split('\n')[1]);
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithThousandsGroupedOtherThanByThrees_ReadsThatColumnAsCategoriesAndSaysWhy()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("thousands");
        var rows = "preis;fläche;zimmer\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 5 == 0 ? "12.34,50" : $"{200000 + i},50")};{50 + i},5;{1 + i % 4}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Equal((ColumnKind.Categorical, ColumnKind.Numeric), (manifest.Schema.Column("preis").Kind, manifest.Schema.Column("fläche").Kind));
        Assert.Contains("'preis': values such as '12.34,50' look like numbers written with thousands separators, so the column is read as categories; " +
                        "write numbers without thousands separators, or with a point between every three digits of the whole part (1234,5 or 1.234,5, not 12.34,5) to have it read as numbers", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithAStrayWord_SaysTheColumnHoldsNumbersAndThatWord()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("stray");
        var rows = "a;b;y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},5;{(i == 20 ? "k.A." : $"{150 + i},0")};{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Contains(manifest.Schema.Inferred, n => n.StartsWith("'b' holds numbers, but also values that are not, such as 'k.A.' (1 of 40 values)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithPercentages_SaysToLeaveTheSignOutWithADecimalComma()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("percent");
        var rows = "a;quote;y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},5;{10 + i},3 %;{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Contains("'quote': values such as '10,3 %' look like percentages, so the column is read as categories; " +
                        "write the number without the percent sign (28,4, or 0,284 as a share, not 28,4 %) to have it read as numbers", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_DecimalCommaFileWithDatesWrittenDayFirst_SaysSo()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("dates");
        var rows = "a;datum;y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},5;{1 + i % 28}.04.2024;{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.Contains(manifest.Schema.Inferred, n => n.StartsWith("'datum': values such as '1.04.2024' look like dates written day first", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_SemicolonFileWithoutDecimalsInItsFirstLinesAfterAVersionReadWithAComma_ReadsADecimalCommaAndSaysWhy()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("later");
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/wohnungen.csv", GermanFlats()));
        // Whole numbers in the first 50 lines; a decimal comma further down.
        var rows = "preis;fläche;zimmer\n" + string.Concat(Enumerable.Range(0, 80).Select(i => $"{200000 + i * 1000};{(i == 70 ? "70,5" : $"{50 + i}")};{1 + i % 4}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/wohnungen2.csv", rows));

        Assert.Equal((DecimalMark.Comma, ColumnKind.Numeric), (manifest.Schema.DecimalSeparator, manifest.Schema.Column("fläche").Kind));
        Assert.StartsWith($"numbers: read with a decimal comma, as the previous dataset version {first.Version} was", manifest.Schema.Inferred[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_SemicolonFileWithDecimalPointsAndCommas_NamesTheValueThatDecidedThePoint()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("mixed");
        var rows = "a;b;y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},5;{i}.5;{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", rows));

        Assert.StartsWith("numbers: read with a decimal point, as '0.5' is written with one, though values such as '0,5' look like numbers written with a decimal comma", manifest.Schema.Inferred[0], StringComparison.Ordinal);
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
    public async Task Ingest_DecimalCommaFileWithARegressionLabelWithThousandsGroupedOtherThanByThrees_SaysHowToWriteThem()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("thousandslabel");
        var rows = "fläche;preis\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{50 + i},5;{(i % 5 == 0 ? "12.34,50" : $"{200000 + i},50")}\n"));

        var outcome = await ingestion.IngestAsync($"{model}/data.csv", rows, new ModelSpec { Task = TaskKind.Regression });

        Assert.Equal([ReasonCodes.LabelNotNumeric], outcome.ReasonCodes);
        Assert.Contains("such as '12.34,50'. Such values look like numbers written with thousands separators: write numbers without thousands separators, or with a point between every three digits of the whole part (1234,5 or 1.234,5, not 12.34,5).", outcome.Message);
    }
}
