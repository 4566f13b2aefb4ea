using System.Globalization;
using System.IO.Compression;
using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>Files in every accepted shape become dataset versions with the expected schema, rows and profile.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AcceptedFormatTests(AzuriteFixture azurite)
{
    private static async Task<DatasetManifest> AcceptedAsync(Ingestion ingestion, IngestionOutcome outcome)
    {
        Assert.True(outcome.Status == IngestionStatus.Accepted, outcome.Message);
        return (await ingestion.Datasets.GetManifestAsync(outcome.Model, outcome.DatasetVersion!, CancellationToken.None))!;
    }

    [Fact]
    public async Task Ingest_SemicolonWineWithQuotedHeader_InfersMulticlassQuality()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("wine");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/red.csv", await File.ReadAllBytesAsync(RepositoryPaths.Dataset("wine", "winequality-red.csv"))));

        Assert.Equal(1599, manifest.Rows);
        Assert.Equal("quality", manifest.Schema.Label);
        Assert.Equal(TaskKind.Multiclass, manifest.Schema.Task);
        Assert.Equal(11, manifest.Schema.Features.Count);
        Assert.All(manifest.Schema.Features, f => Assert.Equal(ColumnKind.Numeric, manifest.Schema.Column(f).Kind));
        Assert.Contains(manifest.Schema.Inferred, n => n.StartsWith("label: 'quality' (the last column)", StringComparison.Ordinal));
        Assert.Contains("column kinds: numeric (fixed acidity, volatile acidity, citric acid, residual sugar, chlorides, free sulfur dioxide, total sulfur dioxide, density and 4 more)", manifest.Schema.Inferred);
        Assert.Equal(["3", "4", "5", "6", "7", "8"], manifest.Schema.Classes);
    }

    [Fact]
    public async Task Ingest_IrisWithoutHeader_NamesColumnsAndInfersThreeClasses()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("iris");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/iris.csv", await File.ReadAllBytesAsync(RepositoryPaths.Dataset("iris", "iris.data"))));

        Assert.Equal(150, manifest.Rows);
        Assert.Equal("column5", manifest.Schema.Label);
        Assert.Equal(TaskKind.Multiclass, manifest.Schema.Task);
        Assert.Equal(["Iris-setosa", "Iris-versicolor", "Iris-virginica"], manifest.Schema.Classes);
    }

    [Fact]
    public async Task Ingest_TabSeparatedTextWithoutHeader_InfersBinaryWithTextFeature()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("yelp");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/yelp.txt", await File.ReadAllBytesAsync(RepositoryPaths.Dataset("sentiment", "yelp_labelled.txt"))));

        Assert.Equal(1000, manifest.Rows);
        Assert.Equal(TaskKind.Binary, manifest.Schema.Task);
        Assert.Equal(ColumnKind.Text, manifest.Schema.Column("column1").Kind);
        Assert.Equal(["0", "1"], manifest.Schema.Classes);
    }

    [Fact]
    public async Task Ingest_PipeDelimitedWithBomPaddingAndNoFinalNewline_MatchesTheCommaFile()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("shapes");
        var comma = TestData.TaxiSlice(200);
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/comma.csv", comma));
        var padded = "\uFEFF" + comma.Replace(",", " | ", StringComparison.Ordinal).TrimEnd('\n');

        var again = await ingestion.IngestAsync($"{model}/pipe.txt", padded);

        Assert.Equal(IngestionStatus.Duplicate, again.Status);
        Assert.Equal(first.Version, again.DatasetVersion);
    }

    [Fact]
    public async Task Ingest_CommaSpaceSeparatedFile_IsTheSameDataAsTheCommaFile()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("spaced");
        var comma = TestData.TaxiSlice(150);
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/comma.csv", comma));

        var again = await ingestion.IngestAsync($"{model}/spaced.csv", comma.Replace(",", ", ", StringComparison.Ordinal));

        Assert.Equal(IngestionStatus.Duplicate, again.Status);
        Assert.Equal(first.Version, again.DatasetVersion);
    }

    /// <summary>The larger file's first line break lies past the longest record (1 MiB of characters) when CR is not read as one.</summary>
    [Theory]
    [InlineData(200)]
    [InlineData(20_000)]
    public async Task Ingest_ClassicMacLineEnds_IsTheSameDataAsTheLfFile(int rows)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("maccr");
        var lf = TestData.TaxiSlice(rows);
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/lf.csv", lf));

        var again = await ingestion.IngestAsync($"{model}/cr.csv", lf.Replace('\n', '\r'));

        Assert.True(again.Status == IngestionStatus.Duplicate, again.Message);
        Assert.Equal(first.Version, again.DatasetVersion);
    }

    [Fact]
    public async Task Ingest_HeaderlessFileWithColumnNamesInTheSpec_NamesTheColumnsFromTheSpec()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("named");
        var rows = string.Join("\n", Enumerable.Range(0, 40).Select(i => $"{i},{i * 0.5},{(i % 3 == 0 ? "x" : "y")}")) + "\n";
        var spec = new ModelSpec { HasHeader = false, ColumnNames = ["id", "size", "kind"], Label = "kind" };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/n.csv", rows, spec));

        Assert.Equal(["id", "size", "kind"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal(40, manifest.Rows);
        Assert.StartsWith("id,size,kind\n0,0,x\n1,0.5,y\n", await ingestion.ReadDataAsync(manifest), StringComparison.Ordinal);
        Assert.Contains("header: none, the first line holds data (the spec's hasHeader is false); the columns are named the spec's columnNames", manifest.Schema.Inferred);
    }

    /// <summary>A clean comma-separated upload is its own canonical form: the version's data is the upload, byte for byte, and the content address that of its SHA-256 and schema.</summary>
    [Fact]
    public async Task Ingest_CleanCommaFile_VersionIsTheSha256OfTheUploadAndDataIsTheUpload()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("address");
        var text = TestData.TaxiSlice(2500);
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/clean.csv", text));

        Assert.Equal(sha, manifest.Sha256);
        Assert.Equal(DatasetStore.VersionOf(sha, manifest.Schema), manifest.Version);
        Assert.Equal(text, await ingestion.ReadDataAsync(manifest));
    }

    [Fact]
    public async Task Ingest_OverwrittenBlob_ManifestRecordsTheLineageOfTheVersionRead()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("lineage");
        var name = $"{model}/daily.csv";
        await ingestion.IngestAsync(name, Rows(30, i => $"{i},{i % 2}", "a,label"));
        await Task.Delay(1100);
        var content = Rows(30, i => i % 10 == 3 ? $"{i}" : $"{i},{i % 2}", "a,label");
        var uploadStarted = DateTimeOffset.UtcNow.AddSeconds(-1);

        var outcome = await ingestion.IngestAsync(name, content);

        var properties = (await ingestion.Storage.Incoming.GetBlobClient(name).GetPropertiesAsync()).Value;
        var manifest = await AcceptedAsync(ingestion, outcome);
        var source = Assert.Single(manifest.Sources);
        Assert.Equal(name, source.Blob);
        Assert.Equal(properties.ETag.ToString(), source.ETag);
        Assert.Equal(properties.LastModified, source.UploadedAt);
        Assert.True(source.UploadedAt >= uploadStarted, $"{source.UploadedAt:O} is before the second upload ({uploadStarted:O})");
        Assert.Equal(Encoding.UTF8.GetByteCount(content), source.Bytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(content))), source.Sha256);
        Assert.Equal(27, manifest.Rows);
        Assert.Equal(3, manifest.RowsRejected);
    }

    private static string Rows(int n, Func<int, string> row, string header) =>
        header + "\n" + string.Join("\n", Enumerable.Range(0, n).Select(row)) + "\n";

    [Fact]
    public async Task Profile_TextColumn_LengthStatisticsMatchAnIndependentComputation()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("lengths");
        var bytes = await File.ReadAllBytesAsync(RepositoryPaths.Dataset("sentiment", "yelp_labelled.txt"));
        var texts = Encoding.UTF8.GetString(bytes).Split('\n').Where(l => l.Trim().Length > 0).Select(l => l.Split('\t')[0].Trim()).ToList();

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/yelp.txt", bytes));
        var text = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "column1");

        Assert.Equal(ColumnKind.Text, text.Kind);
        Assert.Equal(texts.Min(t => t.Length), text.MinLength);
        Assert.Equal(texts.Max(t => t.Length), text.MaxLength);
        Assert.Equal(texts.Average(t => t.Length), text.MeanLength!.Value, 9);
    }

    /// <summary>Values that look like spreadsheet formulas are data: kept verbatim in the version (never evaluated), counted as categories.</summary>
    [Fact]
    public async Task Ingest_FormulaLikeValues_AreKeptVerbatimAsCategories()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("verbatim");
        var formulas = new[] { "=1+2", "+3", "-x", "@SUM(A1)" };
        var content = Rows(40, i => $"{formulas[i % 4]},{i},{i % 2}", "f,n,label");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/f.csv", content));

        Assert.Equal(content, await ingestion.ReadDataAsync(manifest));
        Assert.Equal(ColumnKind.Categorical, manifest.Schema.Column("f").Kind);
        var f = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "f");
        Assert.Equal(formulas.Order(StringComparer.Ordinal), f.TopValues!.Select(v => v.Value).Order(StringComparer.Ordinal));
        Assert.All(f.TopValues!, v => Assert.Equal(10, v.Count));
    }

    [Fact]
    public async Task Ingest_NumbersWithAStrayWord_AreReadAsCategoriesWithANoteThatSaysSo()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("stray");
        var rows = "distance,fare\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i == 17 ? "unknown" : (i * 1.5).ToString(CultureInfo.InvariantCulture))},{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/stray.csv", rows));

        Assert.Equal(ColumnKind.Categorical, manifest.Schema.Columns.Single(c => c.Name == "distance").Kind);
        Assert.Contains("'distance' holds numbers, but also values that are not, such as 'unknown' (1 of 40 values), so it is read as categories; " +
                        "fix those cells, or declare it \"numeric\" in the spec's \"columns\" to read them as missing", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_FeatureWithDecimalCommasReadWithAPoint_SaysToWriteADecimalPointOrSetTheSeparator()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("decimal");
        var rows = "distance;fare\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},5;{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/commas.csv", rows, new ModelSpec { DecimalSeparator = "." }));

        Assert.Contains("'distance': values such as '0,5' look like numbers written with a decimal comma, so the column is read as categories; write numbers with a decimal point (5.0, not 5,0), " +
                        "or set \"decimalSeparator\": \",\" in the spec where the file writes every number with a decimal comma to have it read as numbers", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_FeatureWithThousandsSeparators_SaysToLeaveThemOutNotToUseADecimalPoint()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("thousands");
        var rows = "income,fare\n" + string.Concat(Enumerable.Range(0, 40).Select(i => string.Format(CultureInfo.InvariantCulture, "\"{0:N2}\",{1}\n", 86087.05 + i * 1000, i % 2)));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/incomes.csv", rows));

        Assert.Contains("'income': values such as '86,087.05' look like numbers written with thousands separators, so the column is read as categories; " +
                        "write numbers without thousands separators (86087.05, not 86,087.05) to have it read as numbers", manifest.Schema.Inferred);
    }

    [Theory]
    [InlineData("dd/MM/yyyy")]
    [InlineData("dd.MM.yyyy")]
    public async Task Ingest_DatesWrittenDayFirst_SaysTheyAreReadAsCategoriesAndHowToWriteThem(string format)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("dayfirst");
        var rows = "when,fare\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"{new DateTime(2021, 1, 1).AddDays(i * 5).ToString(format, CultureInfo.InvariantCulture)},{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/dates.csv", rows));

        Assert.Equal(ColumnKind.Categorical, manifest.Schema.Columns.Single(c => c.Name == "when").Kind);
        Assert.Contains(manifest.Schema.Inferred, note => note.StartsWith("'when': values such as '", StringComparison.Ordinal)
            && note.Contains("look like dates written day first", StringComparison.Ordinal) && note.EndsWith("write the dates as 2021-03-13 to have it read as dates", StringComparison.Ordinal));
    }

    /// <summary>Slashed dates whose days are all 12 or less read either way: they are read month first, and the note says so with one read out.</summary>
    [Fact]
    public async Task Ingest_SlashedDatesThatReadEitherWay_SayTheyAreReadMonthFirst()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("slashed");
        var rows = "when,fare\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"{1 + i % 12:D2}/{1 + i / 12:D2}/2021,{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/dates.csv", rows));

        Assert.Equal(ColumnKind.DateTime, manifest.Schema.Columns.Single(c => c.Name == "when").Kind);
        Assert.Contains("'when': dates written with slashes are read month first ('01/01/2021' is 2021-01-01); if the file writes the day first, write the dates as yyyy-MM-dd (2021-03-13)", manifest.Schema.Inferred);
    }

    /// <summary>Dates that read one way only: ISO, month first with days above 12, and the year first with slashes.</summary>
    [Theory]
    [InlineData("yyyy-MM-dd")]
    [InlineData("MM/dd/yyyy")]
    [InlineData("yyyy/MM/dd")]
    public async Task Ingest_DatesThatReadOneWay_HaveNoNoteOnTheirOrder(string format)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("onewaydates");
        var rows = "when,fare\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"{new DateTime(2021, 1, 1).AddDays(i * 5).ToString(format, CultureInfo.InvariantCulture)},{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/dates.csv", rows));

        Assert.Equal(ColumnKind.DateTime, manifest.Schema.Columns.Single(c => c.Name == "when").Kind);
        Assert.DoesNotContain(manifest.Schema.Inferred, note => note.Contains("first", StringComparison.Ordinal));
    }

    /// <summary>A uuid and a constant column stay features, each with a note saying why a model cannot learn from it; measurements and free text with a value of their own in every row have none.</summary>
    [Fact]
    public async Task Ingest_IdentifierAndConstantColumns_AreNamedInTheNotes()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("idconst");
        var random = new Random(1);
        var rows = "uuid,country,sqft,weight,comment,fare\n" + string.Concat(Enumerable.Range(0, 80).Select(i =>
        {
            var bytes = new byte[16];
            random.NextBytes(bytes);
            return string.Format(CultureInfo.InvariantCulture, "{0:N},FR,{1},{2:0.000},the customer {1} wrote this,{3}\n", new Guid(bytes), 700 + i * 13, 50 + i * 0.137, i % 2);
        }));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/customers.csv", rows));

        Assert.Contains("'uuid' holds a value of its own in every row (80 values, all different), as an identifier does: a model can only memorize it; list it under \"exclude\" in the spec unless it is meant", manifest.Schema.Inferred);
        Assert.Contains("'country' holds one value, 'FR', in every row that has one: it tells a model nothing; list it under \"exclude\" in the spec unless it is meant", manifest.Schema.Inferred);
        // Whole numbers all different (a measurement as often as an id), decimals, and free text are not called identifiers.
        Assert.DoesNotContain(manifest.Schema.Inferred, note => note.StartsWith("'sqft'", StringComparison.Ordinal) || note.StartsWith("'weight'", StringComparison.Ordinal) || note.StartsWith("'comment' holds", StringComparison.Ordinal));
        Assert.Equal(["uuid", "country", "sqft", "weight", "comment"], manifest.Schema.Features);
    }

    /// <summary>A range on a column read as categories, or on one the file lacks, checks nothing: the notes say so (the spec came before any data to check it against).</summary>
    [Fact]
    public async Task Ingest_RangeOnACategoricalOrMissingColumn_IsNamedAsCheckingNothing()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("ranges");
        var rows = "a,b,y\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},{"pqr"[i % 3]},{i % 2}\n"));
        var spec = new ModelSpec { Label = "y", Ranges = new() { ["a"] = new ValueRange(0, 100), ["b"] = new ValueRange(0, null), ["c"] = new ValueRange(null, 5) } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", System.Text.Encoding.UTF8.GetBytes(rows), spec));

        Assert.Contains("the spec's range for 'b' checks nothing: the column is read as categorical, and a range applies to numbers", manifest.Schema.Inferred);
        Assert.Contains("the spec's range for 'c' checks nothing: the file has no such column", manifest.Schema.Inferred);
        Assert.DoesNotContain(manifest.Schema.Inferred, note => note.StartsWith("the spec's range for 'a'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_FeatureOfPercentages_SaysToWriteTheNumberAlone()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("percent");
        var rows = "rate,fare\n" + string.Concat(Enumerable.Range(0, 40).Select(i => string.Format(CultureInfo.InvariantCulture, "{0:0.0}%,{1}\n", 28.4 + i, i % 2)));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/rates.csv", rows));

        Assert.Contains("'rate': values such as '28.4%' look like percentages, so the column is read as categories; " +
                        "write the number without the percent sign (28.4, or 0.284 as a share, not 28.4%) to have it read as numbers", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_FeatureOfPricesWithACurrencySymbol_SaysToWriteTheAmountAlone()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("prices");
        var rows = "price,fare\n" + string.Concat(Enumerable.Range(0, 40).Select(i => string.Format(CultureInfo.InvariantCulture, "{0}{1:0.00},{2}\n", i % 2 == 0 ? "$" : "€", 32.99 + i, i % 2)));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/prices.csv", rows));

        Assert.Contains("'price': values such as '$32.99' look like amounts with a currency symbol, so the column is read as categories; " +
                        "write the amount without the currency symbol (32.99, not $32.99; a currency that varies goes in a column of its own) to have it read as numbers", manifest.Schema.Inferred);
    }

    [Theory]
    [InlineData("7,4", NumberForms.DecimalComma)]
    [InlineData("1.234,5", NumberForms.DecimalComma)]
    [InlineData("0,125", NumberForms.DecimalComma)]
    [InlineData("86,087.05", NumberForms.ThousandsSeparators)]
    [InlineData("1,234,567", NumberForms.ThousandsSeparators)]
    [InlineData("1.234.567", NumberForms.ThousandsSeparators)]
    [InlineData("1,234", NumberForms.DecimalComma | NumberForms.ThousandsSeparators)]
    [InlineData("28.4%", NumberForms.Percent)]
    [InlineData("-3 %", NumberForms.Percent)]
    [InlineData("$32.99", NumberForms.Currency)]
    [InlineData("-$5", NumberForms.Currency)]
    [InlineData("€5", NumberForms.Currency)]
    [InlineData("5,00 €", NumberForms.Currency | NumberForms.DecimalComma)]
    [InlineData("$1,299.00", NumberForms.Currency | NumberForms.ThousandsSeparators)]
    [InlineData("12.5", NumberForms.None)]
    [InlineData("abc", NumberForms.None)]
    [InlineData("$", NumberForms.None)]
    [InlineData("abc%", NumberForms.None)]
    [InlineData("1,2.3", NumberForms.None)]
    [InlineData("1,2,3", NumberForms.None)]
    public void NumberWrittenAs_ValueWrittenForPeople_TellsHow(string value, NumberForms expected) =>
        Assert.Equal(expected, CellValues.NumberWrittenAs(value));

    [Fact]
    public async Task Ingest_WordsWithAFewNumbers_GetNoNote()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("words");
        var rows = "city,fare\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{(i % 10 == 0 ? "12" : "Paris")},{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/words.csv", rows));

        Assert.DoesNotContain(manifest.Schema.Inferred, n => n.StartsWith("'city'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_MarkedHeaderWithCommentsOn_SaysTheHeaderWasReadAsAComment()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("hashhead");
        var rows = "#Label,a,b\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i % 2},{i * 3 % 7},{i}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/marked.csv", rows, new ModelSpec { Comment = "#" }));

        Assert.Equal(["column1", "column2", "column3"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Contains(manifest.Schema.Inferred, n => n.StartsWith("the first line, '#Label,a,b', is a comment (the spec's \"comment\" is '#') and has as many fields as the rows", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ingest_Gzip_IsReadAndRecognisedAsTheSameData()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("gzip");
        var text = TestData.TaxiSlice(300);
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/a.csv", text));

        var outcome = await ingestion.IngestAsync($"{model}/a.csv.gz", TestData.Gzip(text));

        Assert.Equal(IngestionStatus.Duplicate, outcome.Status);
        Assert.Equal(first.Version, outcome.DatasetVersion);
    }

    [Fact]
    public async Task Ingest_QuotedFieldsWithDelimitersNewlinesAndQuotes_KeepsValuesExactly()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("quoted");
        var rows = Enumerable.Range(0, 30).Select(i => $"{i},\"line one, with comma\nline \"\"two\"\" {i}\",{i % 2}");
        var content = "id,comment,label\n" + string.Join("\n", rows) + "\n";

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/q.csv", content));

        Assert.Equal(30, manifest.Rows);
        var data = (await ingestion.Storage.Datasets.GetBlobClient(manifest.DataBlob).DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("\"line one, with comma\nline \"\"two\"\" 7\"", data);
    }

    [Fact]
    public async Task Ingest_MissingTokensAndSpecOverrides_AreApplied()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("tokens");
        var rows = Enumerable.Range(0, 40).Select(i => $"{(i % 5 == 0 ? new[] { "?", "NA", "N/A", "null", "NaN" }[i / 5 % 5] : i.ToString(CultureInfo.InvariantCulture))},{i % 4},{(i % 2 == 0 ? "yes" : "no")},2024-01-{i % 28 + 1:D2},{i % 2}");
        var content = "x,code,flag,day,label\n" + string.Join("\n", rows) + "\n";
        var spec = new ModelSpec { Columns = new() { ["code"] = ColumnKind.Categorical } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/t.csv", content, spec));

        Assert.Equal(ColumnKind.Numeric, manifest.Schema.Column("x").Kind);
        Assert.Equal(new ColumnSchema("code", ColumnKind.Categorical, Inferred: false), manifest.Schema.Column("code"));
        Assert.Equal(ColumnKind.Boolean, manifest.Schema.Column("flag").Kind);
        Assert.Equal(ColumnKind.DateTime, manifest.Schema.Column("day").Kind);
        Assert.Contains("day", manifest.Schema.Features);
        Assert.Contains("'day' is a date/time column: its instant, year, month, day, weekday, hour and minute are features", manifest.Schema.Inferred);
        var profile = await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None);
        Assert.Equal(8, profile!.Columns.Single(c => c.Name == "x").Missing);
    }

    [Fact]
    public async Task Ingest_SpecBooleanColumnOfBooleanTokensOnesZerosAndMissing_IsAccepted()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("booleans");
        var tokens = new[] { "yes", "no", "1", "0", "NA", "", "True", "f" };
        var content = "flag,x,label\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{tokens[i % tokens.Length]},{i},{i % 2}\n"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/flags.csv", content, new ModelSpec { Columns = new() { ["flag"] = ColumnKind.Boolean } }));

        Assert.Equal(new ColumnSchema("flag", ColumnKind.Boolean, Inferred: false), manifest.Schema.Column("flag"));
        Assert.Equal(40, manifest.Rows);
    }

    [Fact]
    public async Task Profile_TaxiFare_MatchesAnIndependentComputation()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("profile");
        var text = TestData.TaxiSlice(5000);
        var fares = text.Split('\n').Skip(1).Where(l => l.Length > 0).Select(l => double.Parse(l.Split(',')[^1], CultureInfo.InvariantCulture)).OrderBy(v => v).ToArray();

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/p.csv", text));
        var fare = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "fare_amount");

        var mean = fares.Average();
        var std = Math.Sqrt(fares.Sum(v => (v - mean) * (v - mean)) / (fares.Length - 1));
        Assert.Equal(5000, fare.Count);
        Assert.Equal(fares[0], fare.Min);
        Assert.Equal(fares[^1], fare.Max);
        Assert.Equal(mean, fare.Mean!.Value, 9);
        Assert.Equal(std, fare.StdDev!.Value, 9);
        Assert.Equal(Type7(fares, 0.5), fare.Quantiles!["0.5"], 9);
        Assert.Equal(Type7(fares, 0.95), fare.Quantiles["0.95"], 9);
        Assert.Equal(5000, fare.Histogram!.Counts.Sum());
        var vendor = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "vendor_id");
        Assert.Equal(text.Split('\n').Skip(1).Count(l => l.StartsWith("CMT,", StringComparison.Ordinal)), vendor.TopValues!.Single(v => v.Value == "CMT").Count);
    }

    private static double Type7(double[] sorted, double q)
    {
        var h = (sorted.Length - 1) * q;
        var lo = (int)Math.Floor(h);
        return sorted[lo] + (h - lo) * (sorted[Math.Min(lo + 1, sorted.Length - 1)] - sorted[lo]);
    }

    [Fact]
    public async Task Ingest_AppendPolicy_ConcatenatesWithThePreviousVersion_AndReplaceDoesNot()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("append");
        var lines = TestData.TaxiSlice(300).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = lines[0];
        var spec = new ModelSpec { Policy = DataPolicy.Append };
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", string.Join('\n', lines.Take(101)) + "\n", spec));

        var second = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", header + "\n" + string.Join('\n', lines.Skip(101)) + "\n"));

        Assert.Equal(100, first.Rows);
        Assert.Equal(300, second.Rows);
        Assert.Equal(first.Version, second.PreviousVersion);
        Assert.Equal(2, second.Sources.Count);
        Assert.Equal(second.Version, (await ingestion.Datasets.GetLatestAsync(model, CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task Ingest_AppendPolicy_ABatchOfOneClass_JoinsTheClassesItIsAppendedTo()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("append-class");
        string Batch(int from, Func<int, int> label) =>
            "a,b,label\n" + string.Concat(Enumerable.Range(from, 60).Select(i => $"{i},{i * 7 % 11},{label(i)}\n"));
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", Batch(0, i => i % 3), new ModelSpec { Policy = DataPolicy.Append }));

        var second = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", Batch(60, _ => 2)));
        var third = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/3.csv", Batch(120, i => i % 2)));

        Assert.Equal((TaskKind.Multiclass, 60L), (first.Schema.Task, first.Rows));
        Assert.Equal((TaskKind.Multiclass, 120L), (second.Schema.Task, second.Rows));
        Assert.Equal(["0", "1", "2"], second.Schema.Classes);
        Assert.Equal((TaskKind.Multiclass, 180L), (third.Schema.Task, third.Rows));
        Assert.Equal(["0", "1", "2"], third.Schema.Classes);
        Assert.Contains($"task: multiclass (that of dataset version {second.Version}, which these rows are appended to)", third.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_AppendPolicy_ABatchWithOneLabelValue_IsAddedToARegression()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("append-reg");
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv",
            "a,fare\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"{i},{i * 3}\n")), new ModelSpec { Policy = DataPolicy.Append }));

        var second = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", "a,fare\n" + string.Concat(Enumerable.Range(0, 30).Select(i => $"{i},8\n"))));

        Assert.Equal(TaskKind.Regression, first.Schema.Task);
        Assert.Equal((TaskKind.Regression, 90L), (second.Schema.Task, second.Rows));
    }

    [Fact]
    public async Task Ingest_AppendPolicy_AFileAlreadyAppendedAgain_IsADuplicateAndItsRowsAreNotAddedTwice()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("append-again");
        var lines = TestData.TaxiSlice(300).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var firstFile = string.Join('\n', lines.Take(101)) + "\n";
        await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", firstFile, new ModelSpec { Policy = DataPolicy.Append }));
        var second = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", lines[0] + "\n" + string.Join('\n', lines.Skip(101)) + "\n"));

        var again = await ingestion.IngestAsync($"{model}/1-again.csv", firstFile);

        Assert.Equal(IngestionStatus.Duplicate, again.Status);
        Assert.Contains($"same bytes as {model}/1.csv", again.Message);
        Assert.Contains(second.Version, again.Message);
        var latest = (await ingestion.Datasets.GetLatestAsync(model, CancellationToken.None))!;
        Assert.Equal((second.Version, 300L), (latest.Version, latest.Rows));
    }

    [Fact]
    public async Task Ingest_ReplacePolicy_NewVersionHoldsOnlyTheNewFile()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("replace");
        var lines = TestData.TaxiSlice(300).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var spec = new ModelSpec { Policy = DataPolicy.Replace };
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", string.Join('\n', lines.Take(101)) + "\n", spec));
        var secondFile = lines[0] + "\n" + string.Join('\n', lines.Skip(101)) + "\n";

        var second = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", secondFile));

        Assert.Equal(200, second.Rows);
        Assert.Equal(DataPolicy.Replace, second.Policy);
        Assert.Equal(first.Version, second.PreviousVersion);
        Assert.Equal($"{model}/2.csv", Assert.Single(second.Sources).Blob);
        Assert.Equal(secondFile, await ingestion.ReadDataAsync(second));
    }

    [Fact]
    public async Task Ingest_ReplacePolicy_AnEarlierVersionsDataUploadedAgain_IsTheLatestAgain()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("restore");
        var lines = TestData.TaxiSlice(300).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var firstFile = string.Join('\n', lines.Take(101)) + "\n";
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", firstFile));
        var second = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", lines[0] + "\n" + string.Join('\n', lines.Skip(101)) + "\n"));
        var sameAsLatest = await ingestion.IngestAsync($"{model}/2-again.csv", lines[0] + "\n" + string.Join('\n', lines.Skip(101)) + "\n");

        var again = await ingestion.IngestAsync($"{model}/1-again.csv", firstFile);

        Assert.Equal(IngestionStatus.Duplicate, sameAsLatest.Status);
        Assert.Equal((IngestionStatus.Accepted, first.Version), (again.Status, again.DatasetVersion));
        Assert.Contains($"latest again (policy replace; it was {second.Version})", again.Message);
        Assert.Equal(first.Version, (await ingestion.Datasets.GetLatestAsync(model, CancellationToken.None))!.Version);
        // Both uploads that held an existing version's data are listed; the one that made it the latest again says so.
        var listed = await ingestion.Datasets.ListDuplicatesAsync(model, CancellationToken.None);
        Assert.Equal([$"{model}/1-again.csv", $"{model}/2-again.csv"], listed.Select(d => d.Blob).Order(StringComparer.Ordinal));
        var restored = listed.Single(d => d.Blob == $"{model}/1-again.csv");
        Assert.Equal((true, first.Version), (restored.Restored, restored.DatasetVersion));
        Assert.Null(listed.Single(d => d.Blob == $"{model}/2-again.csv").Restored);
    }

    [Fact]
    public async Task Ingest_ChangedSchemaAgainstPreviousVersion_IsQuarantinedAsSchemaMismatch()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("schema");
        await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", "a,b,label\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{i * 2},{i % 2}")) + "\n"));

        var renamed = await ingestion.IngestAsync($"{model}/2.csv", "a,c,label\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{i * 2},{i % 2}")) + "\n");
        var retyped = await ingestion.IngestAsync($"{model}/3.csv", "a,b,label\n" + string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{i},{(i % 2 == 0 ? "yes" : "no")},{i % 2}")) + "\n");

        Assert.Equal([ReasonCodes.SchemaMismatch], renamed.ReasonCodes);
        Assert.Contains("renamed?", renamed.Message);
        Assert.Equal([ReasonCodes.SchemaMismatch], retyped.ReasonCodes);
    }

    [Fact]
    public async Task Ingest_AfterTheSpecChangedTheLabelOrAKind_TheDataAgainIsANewVersion_UnderReplaceOnly()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("respec");
        var data = "a,b,label\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"{i},{i * 7 % 5},{i % 2}\n"));
        var first = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/1.csv", data));

        // The spec names another label, and gives a column another kind: what the host's note says to do now works.
        var relabelled = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/2.csv", data, new ModelSpec { Label = "a", Task = TaskKind.Regression }));
        var retyped = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/3.csv", data,
            new ModelSpec { Label = "a", Task = TaskKind.Regression, Columns = new() { ["b"] = ColumnKind.Categorical } }));
        // Under append the rows must fit the rows before them.
        var appended = await ingestion.IngestAsync($"{model}/4.csv", data + "40,3,1\n", new ModelSpec { Label = "label", Policy = DataPolicy.Append });

        Assert.Equal("label", first.Schema.Label);
        Assert.Equal(("a", TaskKind.Regression), (relabelled.Schema.Label, relabelled.Schema.Task));
        Assert.NotEqual(first.Version, relabelled.Version);
        Assert.Equal(ColumnKind.Categorical, retyped.Schema.Column("b").Kind);
        Assert.Equal([ReasonCodes.SchemaMismatch], appended.ReasonCodes);
        Assert.Contains("Appended rows keep the label of the rows before them (policy append)", appended.Message);
    }

    [Theory]
    [InlineData("yes", "no")]
    [InlineData("Y", "N")]
    [InlineData("T", "f")]
    public async Task Ingest_BooleanLabelSpeltOtherThanTrueFalse_HasTheClassesTheDataFileHolds(string positive, string negative)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("yesno");
        var rows = Enumerable.Range(0, 30).Select(i => $"{i},{i * 3 % 7},{(i % 3 == 0 ? positive : negative)}");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/d.csv", "a,b,outcome\n" + string.Join("\n", rows) + "\n", new ModelSpec { Task = TaskKind.Binary }));

        // Training maps the data file's label cells to the classes: each cell must be one of them, the positive one second.
        Assert.Equal(["false", "true"], manifest.Schema.Classes);
        var labels = (await ingestion.ReadDataAsync(manifest)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[2]).ToList();
        Assert.Equal(10, labels.Count(l => l == "true"));
        Assert.Equal(20, labels.Count(l => l == "false"));
    }

    [Fact]
    public async Task Ingest_FewBadRowsUnderThreshold_AcceptsTheRestAndCountsThem()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("some");
        var rows = Enumerable.Range(0, 100).Select(i => i % 25 == 0 ? $"{i},{i}" : $"{i},{i * 2},{i % 2}");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/s.csv", "a,b,label\n" + string.Join("\n", rows) + "\n"));

        Assert.Equal(96, manifest.Rows);
        Assert.Equal(4, manifest.RowsRejected);
        Assert.Single(manifest.Sources);
    }

    [Fact]
    public async Task Ingest_SensitiveColumn_IsNeverAFeatureAndHasNoValuesInTheProfile()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("pii");
        var rows = Enumerable.Range(0, 40).Select(i => $"{i},person{i}@example.com,{i % 2}");
        var spec = new ModelSpec { Sensitive = ["email"] };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/pii.csv", "a,email,label\n" + string.Join("\n", rows) + "\n", spec));

        Assert.DoesNotContain("email", manifest.Schema.Features);
        Assert.Equal(["email"], manifest.Schema.Sensitive);
        var email = (await ingestion.Datasets.GetProfileAsync(model, manifest.Version, CancellationToken.None))!.Columns.Single(c => c.Name == "email");
        Assert.Null(email.TopValues);
        Assert.Equal(40, email.Count);
    }
}
