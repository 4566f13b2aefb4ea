using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>
/// Nothing an upload holds is lost: lines starting with '#' are data unless the spec names a comment character, a header
/// marked with '#' is the header, and every line ends counted as accepted, rejected with its reason, comment or blank.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class LineAccountingTests(AzuriteFixture azurite)
{
    private static async Task<DatasetManifest> AcceptedAsync(Ingestion ingestion, IngestionOutcome outcome)
    {
        Assert.True(outcome.Status == IngestionStatus.Accepted, outcome.Message);
        return (await ingestion.Datasets.GetManifestAsync(outcome.Model, outcome.DatasetVersion!, CancellationToken.None))!;
    }

    private static string Lines(IEnumerable<string> lines) => string.Join("\n", lines) + "\n";

    /// <summary>Ingests a file that must be quarantined with <paramref name="code"/> alone, and returns the report's reason.</summary>
    private static async Task<string> QuarantineReasonAsync(Ingestion ingestion, string blobName, string content, string code, ModelSpec? spec = null)
    {
        var outcome = await ingestion.IngestAsync(blobName, content, spec);
        Assert.Equal([code], outcome.ReasonCodes);
        return (await ingestion.ReportAsync(outcome))["reason"]!.GetValue<string>();
    }

    /// <summary>Data lines that end with the delimiter under a header that does not: each rejected row says so, and how to mend it (tour 19).</summary>
    [Fact]
    public async Task Ingest_DelimiterAtTheEndOfDataLinesOnly_SaysSoInTheRowProblems()
    {
        var ingestion = new Ingestion(azurite);
        var content = "a,b,y\n" + string.Concat(Enumerable.Range(0, 120).Select(i => $"{i}.5,{"pq"[i % 2]},{i % 3}.4,\n"));

        var outcome = await ingestion.IngestAsync($"{Ingestion.NewModel("trailingrows")}/data.csv", content);

        Assert.Equal([ReasonCodes.TooManyInvalidRows], outcome.ReasonCodes);
        var report = (await ingestion.ReportAsync(outcome)).ToJsonString();
        Assert.Contains("4 fields where the header has 3 (the line ends with the delimiter: remove the delimiter at the end of the data lines, or end the header line with one too)", report);
    }

    /// <summary>A label of numbers written with decimal commas and no task: too many classes, and the reason says how to write the numbers (tour 19).</summary>
    [Fact]
    public async Task Ingest_DecimalCommaLabelWithoutATask_SaysHowToWriteTheNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var content = "x;y\n" + string.Concat(Enumerable.Range(0, 300).Select(i => $"{i};{i / 7},{i % 7}\n"));

        var reason = await QuarantineReasonAsync(ingestion, $"{Ingestion.NewModel("commalabel")}/data.csv", content, ReasonCodes.LabelTooManyClasses, new ModelSpec { Label = "y", DecimalSeparator = "." });

        Assert.Contains("Values such as '0,0' look like numbers written with a decimal comma: write numbers with a decimal point (5.0, not 5,0), " +
                        "or set \"decimalSeparator\": \",\" in the spec where the file writes every number with a decimal comma, and set \"task\": \"regression\" if the label is a quantity.", reason);
    }

    [Fact]
    public async Task Ingest_MlNetTextFormatWithHashMarkedHeader_ReadsTheHeaderAsColumnNames()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("mlnet");
        var content = Lines(["#Label\tFeature1\tFeature2", .. Enumerable.Range(0, 40).Select(i => $"{i % 2}\t0.{i + 10}\t{i * 3}")]);

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.txt", content));

        Assert.Equal(["Label", "Feature1", "Feature2"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal("Label", manifest.Schema.Label);
        Assert.Equal(TaskKind.Binary, manifest.Schema.Task);
        Assert.Equal(40, manifest.Rows);
        Assert.Contains(manifest.Schema.Inferred, note => note.Contains("'#Label' is read as 'Label'", StringComparison.Ordinal));
        Assert.StartsWith("Label,Feature1,Feature2\n", await ingestion.ReadDataAsync(manifest));
    }

    [Fact]
    public async Task Ingest_TextInAColumnTheSpecDeclaresNumeric_IsKeptAsMissingAndSaysSo()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("declared");
        var content = Lines(["x,y", .. Enumerable.Range(0, 40).Select(i => $"{(i == 25 ? "abc" : (i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture))},{i * 1.5}")]);
        var spec = new ModelSpec { Label = "y", Task = TaskKind.Regression, Columns = new Dictionary<string, ColumnKind> { ["x"] = ColumnKind.Numeric } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", content, spec));

        Assert.Equal(40, manifest.Rows);
        Assert.Contains("'x': values that are not numbers, such as 'abc', are kept as missing (the spec declares the column numeric): 1 of 40 rows", manifest.Schema.Inferred);
    }

    /// <summary>A file with a header, read without one as the spec says: its first line is the header, not one repeated part way through.</summary>
    [Fact]
    public async Task Ingest_HeaderReadAsDataBecauseTheSpecSaysThereIsNone_SaysToSetHasHeader()
    {
        var ingestion = new Ingestion(azurite);
        var content = Lines(["x,y", .. Enumerable.Range(0, 40).Select(i => $"{i},{i * 1.5}")]);
        var spec = new ModelSpec { HasHeader = false, ColumnNames = ["x", "y"], Label = "y", Task = TaskKind.Regression };

        var reason = await QuarantineReasonAsync(ingestion, $"{Ingestion.NewModel("noheader")}/data.csv", content, ReasonCodes.LabelNotNumeric, spec);

        Assert.Contains("the file's first line looks like a header, and it was read as data because the spec's hasHeader is false; set it to true (and leave columnNames out)", reason);
        Assert.DoesNotContain("part way through", reason);
    }

    [Fact]
    public async Task Ingest_DecimalCommasInAColumnTheSpecDeclaresNumeric_SaysHowManyAreLostAndHowToWriteThem()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("commas");
        var content = Lines(["x;y", .. Enumerable.Range(0, 40).Select(i => $"{(i % 4 == 0 ? $"{i},5" : $"{i}")};{i * 1.5}")]);
        var spec = new ModelSpec { Label = "y", Task = TaskKind.Regression, Columns = new Dictionary<string, ColumnKind> { ["x"] = ColumnKind.Numeric } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", content, spec));

        var note = Assert.Single(manifest.Schema.Inferred, n => n.StartsWith("'x': values that are not numbers", StringComparison.Ordinal));
        Assert.EndsWith("are kept as missing (the spec declares the column numeric): 10 of 40 rows; they look like numbers written with a decimal comma: " +
                        "write numbers with a decimal point (5.0, not 5,0), or set \"decimalSeparator\": \",\" in the spec where the file writes every number with a decimal comma to keep them", note);
    }

    [Fact]
    public async Task Ingest_HeaderRepeatedInTheData_IsARejectedRowNamedAsSuch_AndTheRestIsKept()
    {
        var ingestion = new Ingestion(azurite);
        var rows = Enumerable.Range(0, 300).Select(i => $"{i},{i * 1.5}").ToList();
        var content = Lines(["x,y", .. rows, "x,y", .. rows]);

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{Ingestion.NewModel("twohead")}/data.csv", content, new ModelSpec { Label = "y", Task = TaskKind.Regression }));

        Assert.Equal((600L, 1L), (manifest.Rows, manifest.RowsRejected));
        var repeated = Assert.Single(manifest.Problems);
        Assert.Equal((ReasonCodes.HeaderRepeated, 302L, "x,y"), (repeated.Code, Assert.Single(repeated.Lines), Assert.Single(repeated.Samples)));
    }

    [Fact]
    public async Task Ingest_ShortFileWithItsHeaderRepeatedEarly_IsReadWithItsHeader()
    {
        var ingestion = new Ingestion(azurite);
        var rows = Enumerable.Range(0, 20).Select(i => $"{i},{i * 2},{i % 2}").ToList();
        var content = Lines(["a,b,label", .. rows[..2], "a,b,label", .. rows[2..]]);

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{Ingestion.NewModel("shorthead")}/data.csv", content));

        Assert.Equal(["a", "b", "label"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal((20L, 1L), (manifest.Rows, manifest.RowsRejected));
        Assert.Equal([4L], manifest.Problems.Single(p => p.Code == ReasonCodes.HeaderRepeated).Lines);
    }

    [Fact]
    public async Task Ingest_RowsRejectedAfterCommentLines_AreNamedByTheirLineInTheFile()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("commentlines");
        // Line 1 a comment, line 2 the header, a comment at line 33: the rows out of range are at lines 8 and 38.
        var rows = Enumerable.Range(0, 60).Select(i => $"{(i is 5 or 34 ? -5 : i)},{i * 1.5}").ToList();
        var content = Lines(["# generated", "x,y", .. rows[..30], "# half way", .. rows[30..]]);
        var spec = new ModelSpec { Label = "y", Task = TaskKind.Regression, Comment = "#", Ranges = new() { ["x"] = new ValueRange(Min: 0) } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", content, spec));

        var text = content.Split('\n');
        Assert.Equal(["-5,7.5", "-5,51"], new[] { text[7], text[37] });
        var problem = Assert.Single(manifest.Problems, p => p.Code == ReasonCodes.ValueOutOfRange);
        Assert.Equal([8L, 38L], problem.Lines);
        Assert.Equal("'x' = -5 is outside [0, inf]", problem.Details[0]);
    }

    [Fact]
    public async Task Ingest_RowsRejectedAfterQuotedLineBreaks_AreNamedByTheLineTheyStartOn()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("quotedbreaks");
        // Row 3's note spans lines 5-7 (LF, then CR LF), row 10's lines 14-15 (a lone CR): the rows out of range start on lines 11 and 22.
        var rows = Enumerable.Range(0, 30).Select(i => i switch
        {
            3 => "3,\"first\nsecond\r\nthird\",4.5",
            10 => "10,\"one\rtwo\",15",
            _ => $"{(i is 7 or 17 ? -5 : i)},plain,{i * 1.5}",
        }).ToList();
        var content = Lines(["x,note,y", .. rows]);
        var spec = new ModelSpec { Label = "y", Task = TaskKind.Regression, Ranges = new() { ["x"] = new ValueRange(Min: 0) } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/data.csv", content, spec));

        var lines = content.ReplaceLineEndings("\n").Split('\n');
        Assert.Equal(["-5,plain,10.5", "-5,plain,25.5"], new[] { lines[10], lines[21] });
        var problem = Assert.Single(manifest.Problems, p => p.Code == ReasonCodes.ValueOutOfRange);
        Assert.Equal([11L, 22L], problem.Lines);
    }

    [Fact]
    public async Task Ingest_HeaderlessFileStartingWithHash1_KeepsEveryRow()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("hashid");
        var content = Lines(Enumerable.Range(1, 30).Select(i => $"#{i},{i * 1.5},{i % 3}"));

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/ids.csv", content));

        Assert.Equal(30, manifest.Rows);
        var lines = manifest.Lines!;
        Assert.Equal((30L, 30L, 0L, 0L, 0L), (lines.Rows, lines.Accepted, lines.Rejected, lines.Comments, lines.Blank));
        var data = await ingestion.ReadDataAsync(manifest);
        Assert.StartsWith("column1,column2,column3\n\"#1\",1.5,1\n", data);
        var profile = await ingestion.Datasets.GetProfileAsync(manifest, CancellationToken.None);
        Assert.Equal(30, profile!.Columns.Single(c => c.Name == "column1").Distinct);
        Assert.Contains("header: none, the first line holds data; the columns are named column1 to column3", manifest.Schema.Inferred);
    }

    [Fact]
    public async Task Ingest_RowsLedByHashOrSlashesThroughTheNormalizingPass_KeepsEveryRow()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("hashnorm");
        var rows = Enumerable.Range(0, 30).Select(i => $"{(i % 2 == 0 ? "#" : "//")}{i},{(i % 3 == 0 ? "yes" : "no")},{i % 2}");

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/n.csv", Lines(["id,flag,label", .. rows])));

        Assert.Equal(30, manifest.Rows);
        Assert.Equal(ColumnKind.Boolean, manifest.Schema.Column("flag").Kind);
        var data = (await ingestion.ReadDataAsync(manifest)).Split('\n');
        Assert.Equal("\"#0\",true,0", data[1]);
        Assert.Equal("\"//1\",false,1", data[2]);
    }

    [Fact]
    public async Task Ingest_SpecCommentCharacter_SkipsAndCountsCommentLines()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("comments");
        var content = Lines(["# exported by hand", "a,b,label", "# a note", .. Enumerable.Range(0, 20).Select(i => $"{i},{i * 2},{i % 2}"), "#last"]);

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/c.csv", content, new ModelSpec { Comment = "#" }));

        Assert.Equal(["a", "b", "label"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal(20, manifest.Rows);
        Assert.Equal(3, manifest.Lines!.Comments);
        Assert.Equal(20, manifest.Lines.Accepted);
    }

    [Fact]
    public async Task Ingest_GoodAndBadRows_EveryRowIsAcceptedOrRejectedWithItsReasonCounted()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("tally");
        var rows = Enumerable.Range(0, 100).Select(i => i switch
        {
            3 or 40 => $"{i},{i}",
            7 or 50 or 77 => $"{i},{i * 2},",
            90 => $"5000,{i * 2},1",
            _ => $"{i},{i * 2},{i % 2}",
        }).ToList();
        rows.Insert(10, "");
        rows.Insert(60, "   ");
        var spec = new ModelSpec { Ranges = new() { ["a"] = new ValueRange(0, 1000) }, Sensitive = ["b"] };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/t.csv", Lines(["a,b,label", .. rows]), spec));

        var lines = manifest.Lines!;
        Assert.Equal((100L, 94L, 6L, 0L, 2L), (lines.Rows, lines.Accepted, lines.Rejected, lines.Comments, lines.Blank));
        Assert.Equal(new Dictionary<string, long> { [ReasonCodes.RaggedRows] = 2, [ReasonCodes.LabelMissingInRow] = 3, [ReasonCodes.ValueOutOfRange] = 1 }, lines.RejectedBy);
        Assert.Equal(94, manifest.Rows);
        Assert.Equal(6, manifest.RowsRejected);
        // Each kind of problem shows the rows it met, as the file has them, but for the values of sensitive columns.
        var noLabel = manifest.Problems.Single(p => p.Code == ReasonCodes.LabelMissingInRow);
        Assert.Equal(["7,(sensitive),", "50,(sensitive),", "77,(sensitive),"], noLabel.Samples);
        Assert.Equal(["3,(sensitive)", "40,(sensitive)"], manifest.Problems.Single(p => p.Code == ReasonCodes.RaggedRows).Samples);
    }

    /// <summary>Excel's CSV export ends with rows of empty cells, one delimiter per column (UTF-8 BOM, CR LF): they hold nothing to read.</summary>
    [Fact]
    public async Task Ingest_TrailingRowsOfEmptyCells_AreCountedBlankAndLeftOutOfTheData()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("excelblank");
        var rows = Enumerable.Range(0, 300).Select(i => $"{i * 1.5},{i % 7 * 0.1},{i % 2}");
        var empty = Enumerable.Range(0, 60).Select(i => i % 10 == 0 ? " , ," : ",,");
        var content = "\uFEFF" + string.Join("\r\n", ["amount,rate,target", .. rows, .. empty]) + "\r\n";

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/export.csv", content));

        var lines = manifest.Lines!;
        Assert.Equal((300L, 300L, 0L, 0L, 60L), (lines.Rows, lines.Accepted, lines.Rejected, lines.Comments, lines.Blank));
        Assert.Equal(300, manifest.Rows);
        var data = (await ingestion.ReadDataAsync(manifest)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(301, data.Length);
        Assert.Equal("448.5,0.5,1", data[^1]);
    }

    /// <summary>Excel writes "sep=;" as the first line so that the file opens split by semicolons whatever the locale.</summary>
    [Fact]
    public async Task Ingest_ExcelSepLine_ReadsWithItsDelimiterAndCountsTheLineSkipped()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("sepline");
        var rows = Enumerable.Range(0, 40).Select(i => $"{(i == 5 ? -5 : i * 1.5)};{i % 7 * 0.1};{i * 2.5}");
        var content = string.Join("\r\n", ["sep=;", "amount;rate;target", .. rows]) + "\r\n";
        var spec = new ModelSpec { Ranges = new() { ["amount"] = new ValueRange(Min: 0) } };

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/export.csv", content, spec));

        Assert.Equal(["amount", "rate", "target"], manifest.Schema.Columns.Select(c => c.Name));
        var lines = manifest.Lines!;
        Assert.Equal((40L, 39L, 1L, 1L, 0L), (lines.Rows, lines.Accepted, lines.Rejected, lines.Comments, lines.Blank));
        // The sep line counts: the row out of range, the sixth, is the file's line 8.
        Assert.Equal([8L], manifest.Problems.Single(p => p.Code == ReasonCodes.ValueOutOfRange).Lines);
    }

    [Fact]
    public async Task Ingest_DelimiterAtTheEndOfEveryLine_DropsTheEmptyNamelessColumnAndSaysSo()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("trailing");
        var content = Lines(["a,b,target,", .. Enumerable.Range(0, 40).Select(i => $"{i},{i % 3},{i * 1.5},")]);

        var manifest = await AcceptedAsync(ingestion, await ingestion.IngestAsync($"{model}/t.csv", content));

        Assert.Equal(["a", "b", "target"], manifest.Schema.Columns.Select(c => c.Name));
        Assert.Equal("target", manifest.Schema.Label);
        Assert.Equal(40, manifest.Rows);
        Assert.Contains("header: every line ends with the delimiter; the nameless column after 'target' is empty in every row and is dropped", manifest.Schema.Inferred);
        Assert.StartsWith("a,b,target\n0,0,0\n1,1,1.5\n", await ingestion.ReadDataAsync(manifest));
    }

    [Fact]
    public async Task Ingest_NamelessLastColumnHoldingValues_SaysTheHeaderEndsWithTheDelimiter()
    {
        var ingestion = new Ingestion(azurite);
        var content = Lines(["a,b,target,", .. Enumerable.Range(0, 40).Select(i => $"{i},{i % 3},{i * 1.5},{(i % 4 == 0 ? "x" : "")}")]);

        var reason = await QuarantineReasonAsync(ingestion, $"{Ingestion.NewModel("namelessfull")}/t.csv", content, ReasonCodes.EmptyColumnName);

        Assert.StartsWith("Column 4 has no name in the header row: the header line ends with the delimiter (after 'target').", reason);
        Assert.Contains("this one holds values in 10 of 40 rows", reason);
    }

    [Fact]
    public async Task Ingest_LabelEmptyInEveryRow_NamesTheLabelAndNotAnotherColumn()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("nofare");
        var taxi = TestData.TaxiSlice(50).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var content = Lines([taxi[0], .. taxi.Skip(1).Select(line => line[..(line.LastIndexOf(',') + 1)])]);

        var reason = await QuarantineReasonAsync(ingestion, $"{model}/taxi.csv", content, ReasonCodes.LabelAllMissing);
        Assert.Contains("'fare_amount' is empty in every row (50 of 50 rows)", reason);
        Assert.Contains("\"label\"", reason);
        Assert.DoesNotContain("vendor_id", reason);
    }

    [Fact]
    public async Task Ingest_InferredTextLabelWithTooManyValues_SaysHowTheLabelWasTakenAndWhichColumnsCouldBeIt()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("detoxlike");
        var content = Lines(["Sentiment\tSentimentText", .. Enumerable.Range(0, 150).Select(i => $"{i % 2}\tcomment number {i} about page {i * 7}")]);

        var reason = await QuarantineReasonAsync(ingestion, $"{model}/comments.tsv", content, ReasonCodes.LabelTooManyClasses);
        Assert.Contains("'SentimentText' has more than 100 distinct values, not all numbers", reason);
        Assert.Contains("No label was named, so the last column, 'SentimentText', was taken", reason);
        Assert.Contains("columns that could be the label: 'Sentiment' (2 values)", reason);
        Assert.DoesNotContain("regression", reason);
    }

    [Fact]
    public async Task Ingest_SpecLabelInTheWrongCase_SuggestsTheColumnAsWritten()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("labelcase");
        var content = Lines(["Sentiment\tSentimentText", .. Enumerable.Range(0, 30).Select(i => $"{i % 2}\tcomment {i}")]);

        var reason = await QuarantineReasonAsync(ingestion, $"{model}/comments.tsv", content, ReasonCodes.LabelMissing, new ModelSpec { Label = "sentiment" });

        Assert.Contains("The spec names the label 'sentiment', but the file has no such column (it has Sentiment, SentimentText). Did you mean 'Sentiment'?", reason);
    }

    [Fact]
    public async Task Ingest_CommentLineReadAsTheHeader_SaysHowToMarkItAComment()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("hashline");
        var content = Lines(["# generated file", "x,y", .. Enumerable.Range(0, 30).Select(i => $"{i},{i * 2}")]);

        var reason = await QuarantineReasonAsync(ingestion, $"{model}/data.csv", content, ReasonCodes.LabelMissing, new ModelSpec { Label = "y" });

        Assert.Contains("The spec names the label 'y', but the file has no such column (it has generated file).", reason);
        Assert.Contains("starts with '#' ('# generated file') and was read as the header", reason);
        Assert.Contains("set \"comment\": \"#\" in the spec", reason);
    }

    [Fact]
    public async Task Ingest_NamedNumericLabelWithTooManyClasses_AdvisesRegressionAndNoOtherColumn()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("manyclasses");
        var content = Lines(["y,x,flag", .. Enumerable.Range(0, 300).Select(i => $"{i},{i * 2},{i % 2}")]);

        var reason = await QuarantineReasonAsync(ingestion, $"{model}/y.csv", content, ReasonCodes.LabelTooManyClasses, new ModelSpec { Label = "y", Task = TaskKind.Multiclass });
        Assert.Contains("Classification with more than 100 classes in 'y' is not supported; set \"task\": \"regression\"", reason);
        Assert.DoesNotContain("No label was named", reason);
        Assert.DoesNotContain("flag", reason);
    }

    [Fact]
    public async Task Ingest_InferredLabelWithOneValue_ListsNumericAndClassColumnsFewestValuesFirst()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("constlabel");
        var content = Lines(["amount,kind,grade,note", .. Enumerable.Range(0, 40).Select(i => $"{i * 1.5},{(i % 2 == 0 ? "a" : "b")},{i % 5},same")]);

        var reason = await QuarantineReasonAsync(ingestion, $"{model}/c.csv", content, ReasonCodes.LabelConstant);
        Assert.Contains("No label was named, so the last column, 'note', was taken", reason);
        Assert.Contains("columns that could be the label: 'kind' (2 values), 'grade' (5 values), 'amount' (numbers)", reason);
    }

    /// <summary>A spec stored without validation (as a tool writing the spec store directly may) cannot make the reader split on its comment.</summary>
    [Fact]
    public async Task Ingest_StoredSpecWithADelimiterAsCommentCharacter_IsQuarantinedAsSpecInvalid()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("badcomment");

        var outcome = await ingestion.IngestAsync($"{model}/d.csv", Lines(["a,label", .. Enumerable.Range(0, 30).Select(i => $"{i},{i % 2}")]), new ModelSpec { Comment = "," });

        Assert.Equal([ReasonCodes.SpecInvalid], outcome.ReasonCodes);
        Assert.Contains("\"comment\"", outcome.Message);
    }

    [Fact]
    public void CanonicalCsv_FirstFieldsStartingWithCommentMarks_AreRowsForSylvanAndMlNet()
    {
        var path = Path.Combine(Path.GetTempPath(), $"canonical-{Guid.NewGuid():N}.csv");
        try
        {
            using (var writer = new StreamWriter(path, false, CanonicalCsv.Utf8))
            {
                CanonicalCsv.WriteRecord(writer, ["id", "x", "label"]);
                foreach (var id in new[] { "#1", "//2", "/3", "4" }) CanonicalCsv.WriteRecord(writer, [id, "1.5", "0"]);
            }
            var ids = new List<string>();
            using (var reader = CanonicalCsv.OpenReader(new StreamReader(path, Encoding.UTF8)))
            {
                while (reader.Read()) ids.Add(reader.GetString(0));
            }
            var ml = FeaturePipeline.Context(1);
            var loader = ml.Data.CreateTextLoader(new TextLoader.Options
            {
                Columns = [new TextLoader.Column("id", DataKind.String, 0)], HasHeader = true, Separators = [','], AllowQuoting = true, ReadMultilines = true,
            });
            var loaded = ml.Data.CreateEnumerable<IdRow>(loader.Load(path), reuseRowObject: false).Select(r => r.Id).ToList();

            Assert.Equal(["#1", "//2", "/3", "4"], ids);
            Assert.Equal(ids, loaded);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class IdRow
    {
        [ColumnName("id")]
        public string Id { get; set; } = "";
    }

    [Theory]
    [InlineData("##")]
    [InlineData("")]
    [InlineData("a")]
    [InlineData(",")]
    [InlineData("\"")]
    public void Validate_CommentThatIsNotOnePunctuationCharacter_NamesTheCommentField(string comment)
    {
        var error = Assert.Throws<InvalidSpecException>(() => ModelSpecValidation.Validate(new ModelSpec { Comment = comment }));

        Assert.Contains("comment", error.Message);
    }

    [Fact]
    public void Validate_CommentHash_IsAccepted()
    {
        var error = Record.Exception(() => ModelSpecValidation.Validate(new ModelSpec { Comment = "#" }));

        Assert.Null(error);
    }
}
