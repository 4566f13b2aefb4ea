using System.IO.Compression;
using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Serverless.LocalHost.Triggers;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>
/// The bad-input corpus: every case ends in quarantine with its own reason code, the original kept byte for byte, a
/// JSON report and a summary beside it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BadInputCorpusTests(AzuriteFixture azurite)
{
    public sealed record Case(string Name, string File, byte[] Content, string Code, ModelSpec? Spec = null)
    {
        public override string ToString() => Name;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static readonly string Taxi = TestData.TaxiSlice(60);

    private static string Rows(int n, Func<int, string> row, string header) =>
        header + "\n" + string.Join("\n", Enumerable.Range(0, n).Select(row)) + "\n";

    public static TheoryData<Case> Cases()
    {
        var random = new Random(5);
        var garbage = new byte[4096];
        random.NextBytes(garbage);
        garbage[10] = 0;
        var latin1 = Encoding.Latin1.GetBytes("name,city,label\nJos\u00e9,M\u00e1laga,1\nRen\u00e9e,N\u00eemes,0\nZo\u00eb,K\u00f6ln,1\n");
        var gzipOfNothing = Utf8("this is not gzip at all");
        var ragged = Rows(40, i => i % 3 == 0 ? $"{i},{i}" : $"{i},{i * 2},{i % 2}", "a,b,label");
        var noLabelRows = Rows(40, i => i % 4 == 0 ? $"{i},{i * 2}," : $"{i},{i * 2},{i % 2}", "a,b,label");
        var outOfRange = Rows(40, i => $"{(i % 3 == 0 ? 900 + i : i)},{i % 2}", "age,label");
        var manyClasses = Rows(300, i => $"{i},class{i}", "x,label");

        var cases = new List<Case>
        {
            new("empty file", "empty.csv", [], ReasonCodes.EmptyFile),
            new("blank lines only", "blank.csv", Utf8("\n\n\n"), ReasonCodes.EmptyFile),
            new("header only", "header.csv", Utf8("a,b,label\n"), ReasonCodes.HeaderOnly),
            new("binary garbage", "garbage.csv", garbage, ReasonCodes.BinaryContent),
            new("latin-1, not UTF-8", "latin1.csv", latin1, ReasonCodes.InvalidEncoding),
            new("ragged rows", "ragged.csv", Utf8(ragged), ReasonCodes.TooManyInvalidRows),
            new("unterminated quote", "quote.csv", Utf8("a,b,label\n1,\"open,0\n2,3,1\n4,5,0\n"), ReasonCodes.UnterminatedQuote),
            new("10 MB single line", "long.csv", Utf8(string.Join(',', Enumerable.Repeat("1234567", 1_300_000))), ReasonCodes.LineTooLong),
            new("duplicate headers", "dup.csv", Utf8("a,a,label\n1,2,0\n3,4,1\n"), ReasonCodes.DuplicateColumns),
            new("label named in spec missing", "nolabel.csv", Utf8(Taxi), ReasonCodes.LabelMissing, new ModelSpec { Label = "tip_amount" }),
            new("dateTime in the spec, numbers in the file", "yyyymmdd.csv", Utf8(Rows(30, i => $"{19580329 + i * 7},{300 + i}", "week,co2")), ReasonCodes.NotDates,
                new ModelSpec { Label = "co2", Columns = new() { ["week"] = ColumnKind.DateTime } }),
            new("numeric in the spec, categories in the file", "vendors.csv", Utf8(Taxi), ReasonCodes.NotNumbers,
                new ModelSpec { Label = "fare_amount", Columns = new() { ["vendor_id"] = ColumnKind.Numeric } }),
            new("boolean in the spec, numbers in the file", "distance.csv", Utf8(Taxi), ReasonCodes.NotBooleans,
                new ModelSpec { Label = "fare_amount", Columns = new() { ["trip_distance"] = ColumnKind.Boolean } }),
            new("time column named in spec missing", "notime.csv", Utf8(Taxi), ReasonCodes.TimeColumnMissing, new ModelSpec { Label = "fare_amount", TimeColumn = "pickup_time" }),
            new("constant label", "constant.csv", Utf8(Rows(30, i => $"{i},{i * 3},7", "a,b,label")), ReasonCodes.LabelConstant),
            new("all-missing column", "allmissing.csv", Utf8(Rows(30, i => $"{i},,{i % 2}", "a,b,label")), ReasonCodes.ColumnAllMissing),
            new("Infinity in a feature", "inf.csv", Utf8(Rows(30, i => $"{(i == 5 ? "Infinity" : i.ToString())},{i % 2}", "a,label")), ReasonCodes.NonFiniteValues),
            new("a number beyond 32 bits in a feature", "huge.csv", Utf8(Rows(30, i => $"{(i == 5 ? "1e308" : i.ToString())},{i % 2}", "a,label")), ReasonCodes.NonFiniteValues),
            new("41 digits in the label", "hugelabel.csv", Utf8(Rows(30, i => $"{i},{(i == 5 ? new string('9', 41) : (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture))}", "a,label")), ReasonCodes.NonFiniteValues),
            new("-Infinity in the label", "neginf.csv", Utf8(Rows(30, i => $"{i},{(i == 5 ? "-Infinity" : (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture))}", "a,label")), ReasonCodes.NonFiniteValues),
            new("formula header duplicated", "formula.csv", Utf8("=cmd|' /C calc'!A0,=cmd|' /C calc'!A0,label\n1,2,0\n3,4,1\n"), ReasonCodes.DuplicateColumns),
            new("formula values and no label", "formula2.csv", Utf8("@SUM(A1),+1+2,-3-4\n=1,2,3\n"), ReasonCodes.LabelMissing, new ModelSpec { Label = "label" }),
            new("no delimiter", "onecol.csv", Utf8("value\n1\n2\n3\n"), ReasonCodes.NoDelimiter),
            new("unsupported extension", "book.xlsx", Utf8(Taxi), ReasonCodes.UnsupportedExtension),
            new("not gzip", "data.csv.gz", gzipOfNothing, ReasonCodes.InvalidGzip),
            new("gzipped twice", "twice.csv.gz", TestData.Gzip(TestData.Gzip(Taxi)), ReasonCodes.BinaryContent),
            new("spec not JSON", "model.json", Utf8("{ label: fare "), ReasonCodes.SpecInvalid),
            new("spec unknown field", "model.json", Utf8("{\"lable\":\"x\"}"), ReasonCodes.SpecInvalid),
            new("regression label not numeric", "textlabel.csv", Utf8(Rows(30, i => $"{i},{(i % 2 == 0 ? "high" : "low")}", "a,label")), ReasonCodes.LabelNotNumeric, new ModelSpec { Task = TaskKind.Regression }),
            new("binary task with three classes", "three.csv", Utf8(Rows(30, i => $"{i},{i % 3}", "a,label")), ReasonCodes.LabelNotBinary, new ModelSpec { Task = TaskKind.Binary }),
            new("too many classes", "classes.csv", Utf8(manyClasses), ReasonCodes.LabelTooManyClasses, new ModelSpec { Task = TaskKind.Multiclass }),
            new("mostly missing column", "sparse.csv", Utf8(Rows(100, i => $"{i},{(i < 2 ? "5" : "NA")},{i % 2}", "a,b,label")), ReasonCodes.TooManyMissing),
            new("empty column name", "noname.csv", Utf8("a,,label\n1,2,0\n3,4,1\n"), ReasonCodes.EmptyColumnName),
            new("header with semicolons over rows with commas", "mixed.csv", Utf8(Rows(30, i => $"{i},{i * 2},{i % 2}", "a;b;label")), ReasonCodes.MixedDelimiters),
            new("two empty column names", "nonames.csv", Utf8("a,,,label\n1,2,3,0\n3,4,5,1\n"), ReasonCodes.EmptyColumnName),
            new("only excluded features", "excluded.csv", Utf8(Rows(30, i => $"{i},{i % 2}", "id,label")), ReasonCodes.NoFeatures, new ModelSpec { Exclude = ["id"] }),
            new("missing labels in many rows", "holes.csv", Utf8(noLabelRows), ReasonCodes.TooManyInvalidRows),
            new("values out of range", "range.csv", Utf8(outOfRange), ReasonCodes.TooManyInvalidRows, new ModelSpec { Ranges = new() { ["age"] = new ValueRange(0, 130) } }),
            new("every row ragged", "allragged.csv", Utf8(Rows(30, i => $"{i},{i % 2}", "a,b,label")), ReasonCodes.TooManyInvalidRows),
            new("every row out of range", "allrange.csv", Utf8(Rows(30, i => $"{900 + i},{i % 2}", "age,label")), ReasonCodes.TooManyInvalidRows, new ModelSpec { Ranges = new() { ["age"] = new ValueRange(0, 130) } }),
            new("a comment line before the header, comments off", "exported.csv", Utf8("# exported from db, 2026-11-29\n" + Taxi), ReasonCodes.TooManyInvalidRows),
            new("UTF-8 byte-order mark, then Latin-1", "bomlatin1.csv", [0xEF, 0xBB, 0xBF, .. latin1], ReasonCodes.InvalidEncoding),
            new("UTF-8 sequence cut at the end", "cut.csv", [.. Utf8(Rows(30, i => $"{i},{i % 2}", "a,label")), 0xE2, 0x82], ReasonCodes.InvalidEncoding),
            new("comment lines only, comments on", "comments.csv", Utf8("#a,b,label\n#1,2,0\n"), ReasonCodes.EmptyFile, new ModelSpec { Comment = "#" }),
            new("label empty in every row", "nolabel.csv", Utf8(Rows(30, i => $"{i},{i * 2},", "a,b,label")), ReasonCodes.LabelAllMissing),
            new("NaN labels", "nanlabel.csv", Utf8(Rows(40, i => $"{i},{(i % 3 == 0 ? "NaN" : (i % 2).ToString())}", "a,label")), ReasonCodes.TooManyInvalidRows),
            new("text after a closing quote", "afterquote.csv", Utf8("a,b,label\n1,\"x\"y,0\n2,3,1\n"), ReasonCodes.TextAfterQuote),
        };
        var data = new TheoryData<Case>();
        foreach (var c in cases) data.Add(c);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Ingest_BadFile_IsQuarantinedWithItsReasonAndKeptWhole(Case c)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("bad");

        var outcome = await ingestion.IngestAsync($"{model}/{c.File}", c.Content, c.Spec);

        Assert.Equal(IngestionStatus.Quarantined, outcome.Status);
        Assert.Equal([c.Code], outcome.ReasonCodes);
        Assert.Equal(c.Content, await ingestion.ReadQuarantineBytesAsync(outcome));
        var report = await ingestion.ReportAsync(outcome);
        Assert.Equal(c.Code, report["reasonCodes"]![0]!.GetValue<string>());
        var summary = await ingestion.ReadQuarantineAsync(outcome, "summary.txt");
        Assert.Contains(model, summary);
        Assert.Null(await ingestion.Datasets.GetLatestAsync(model, CancellationToken.None));
        var audit = await ingestion.Audit.ListAsync(model, 10, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "quarantine" && a.Details?.GetProperty("reason").GetString() == c.Code);
    }

    /// <summary>300 products, one of them a screen size written with an inch mark: its quote opens a quoted field that closes too soon.</summary>
    [Fact]
    public async Task Ingest_TextAfterAClosingQuote_NamesTheLineTheFieldAndHowToQuoteIt()
    {
        var ingestion = new Ingestion(azurite);
        var content = Rows(300, i => i == 199 ? "\"17\" laptop,17,650.2" : $"item {i},{i % 20},{i * 3.5}", "product,size,price");

        var outcome = await ingestion.IngestAsync($"{Ingestion.NewModel("inchmark")}/products.csv", Utf8(content));

        Assert.Equal([ReasonCodes.TextAfterQuote], outcome.ReasonCodes);
        var reason = (await ingestion.ReportAsync(outcome))["reason"]!.GetValue<string>();
        Assert.StartsWith("Line 201: the field `\"17\" laptop` has text after its closing quote.", reason);
        Assert.Contains("Quote the whole field and double the quotes inside it: `\"\"\"17\"\" laptop\"`.", reason);
    }

    [Fact]
    public async Task Ingest_QuoteNeverClosed_NamesTheLineAndTheFieldItStarts()
    {
        var ingestion = new Ingestion(azurite);
        var content = Rows(300, i => i == 9 ? "\"Smith, J,42,1" : $"name {i},{i % 50},{i % 2}", "name,age,label");

        var outcome = await ingestion.IngestAsync($"{Ingestion.NewModel("openquote")}/people.csv", Utf8(content));

        Assert.Equal([ReasonCodes.UnterminatedQuote], outcome.ReasonCodes);
        var reason = (await ingestion.ReportAsync(outcome))["reason"]!.GetValue<string>();
        Assert.StartsWith("Line 11: the quoted field starting `\"Smith, J,42,1` has no closing quote", reason);
        Assert.Contains("Add the closing quote where the value ends", reason);
    }

    [Fact]
    public async Task Ingest_RecordOverTheLimit_NamesTheLineItStartsOn()
    {
        var ingestion = new Ingestion(azurite);
        // Past the 50 lines the delimiter is sniffed from, so that the reader meets it.
        var content = Rows(80, i => i == 70 ? string.Join(',', Enumerable.Repeat("1234567", 150_000)) : $"{i},{i * 2},{i % 2}", "a,b,label");

        var outcome = await ingestion.IngestAsync($"{Ingestion.NewModel("longline")}/long.csv", Utf8(content));

        Assert.Equal([ReasonCodes.LineTooLong], outcome.ReasonCodes);
        Assert.StartsWith("The record starting on line 72 is longer than", (await ingestion.ReportAsync(outcome))["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Ingest_NotUtf8_NamesTheFirstBadByteByItsPositionAndValue()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("latin");
        var rows = Utf8(Rows(30, i => $"{i},{i % 2}", "a,label"));
        // "name,city,label\n" is 16 bytes and "Jos" 3 more: é (0xE9 in Latin-1) is the file's 20th byte.
        var latin1 = Encoding.Latin1.GetBytes("name,city,label\nJos\u00e9,Paris,1\n");

        var invalid = await ingestion.IngestAsync($"{model}/latin1.csv", latin1);
        var cut = await ingestion.IngestAsync($"{model}/cut.csv", [.. rows, 0xE2, 0x82]);

        Assert.Contains("byte 20 (0xE9) is not allowed there in UTF-8", await ingestion.ReadQuarantineAsync(invalid, "summary.txt"));
        Assert.Contains($"byte {rows.Length + 1:N0} (0xE2 0x82) begins a sequence the file cuts short", await ingestion.ReadQuarantineAsync(cut, "summary.txt"));
    }

    [Theory]
    [InlineData("gzip", "its bytes are gzip, but its name does not end in .gz")]
    [InlineData("utf16", "it is UTF-16 text")]
    [InlineData("utf16-no-mark", "it looks like UTF-16 text")]
    [InlineData("zip", "a zip archive (an .xlsx workbook is one)")]
    public async Task Ingest_BinaryOfAKnownKind_SaysWhatItIsAndHowToFixIt(string kind, string advice)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("kind");
        var text = Rows(30, i => $"{i},{i % 2}", "a,label");
        byte[] content = kind switch
        {
            "gzip" => TestData.Gzip(text),
            "utf16" => [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes(text)],
            "utf16-no-mark" => Encoding.Unicode.GetBytes(text),
            _ => [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, .. Utf8(text)],
        };

        var outcome = await ingestion.IngestAsync($"{model}/data.csv", content);

        Assert.Equal([ReasonCodes.BinaryContent], outcome.ReasonCodes);
        Assert.Contains(advice, await ingestion.ReadQuarantineAsync(outcome, "summary.txt"));
    }

    [Fact]
    public async Task Ingest_GzippedTwice_SaysItIsCompressedTwiceAndHowToFixIt()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("twice");

        var outcome = await ingestion.IngestAsync($"{model}/twice.csv.gz", TestData.Gzip(TestData.Gzip(Taxi)));

        Assert.Equal([ReasonCodes.BinaryContent], outcome.ReasonCodes);
        var summary = await ingestion.ReadQuarantineAsync(outcome, "summary.txt");
        Assert.Contains("The file is compressed twice: decompressed once, its bytes are gzip again. Decompress it once and upload the result", summary);
        Assert.DoesNotContain("does not end in .gz", summary);
    }

    [Fact]
    public async Task Ingest_NamesDifferingOnlyInCase_AreNamedWithBothSpellings()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("case");

        var outcome = await ingestion.IngestAsync($"{model}/case.csv", Utf8(Rows(30, i => $"{i},{i * 2},{i % 2}", "Fare,fare,label")));

        Assert.Equal([ReasonCodes.DuplicateColumns], outcome.ReasonCodes);
        Assert.Contains("'Fare' and 'fare' (names that differ only in case count as one)", await ingestion.ReadQuarantineAsync(outcome, "summary.txt"));
    }

    [Fact]
    public async Task Ingest_LabelWithDecimalCommas_SaysToWriteADecimalPoint()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("commas");
        var content = Utf8(Rows(30, i => $"{i};{i + 10},5", "distance;fare"));

        var outcome = await ingestion.IngestAsync($"{model}/fares.csv", content, new ModelSpec { Label = "fare", Task = TaskKind.Regression, DecimalSeparator = "." });

        Assert.Equal([ReasonCodes.LabelNotNumeric], outcome.ReasonCodes);
        Assert.Contains("such as '10,5'. Such values look like numbers written with a decimal comma: write numbers with a decimal point", await ingestion.ReadQuarantineAsync(outcome, "summary.txt"));
    }

    [Fact]
    public async Task Ingest_SpecDateTimeColumnOfNumbers_NamesAValueThatIsNotADate()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("yyyymmdd");
        var content = Utf8(Rows(30, i => $"{(i < 20 ? $"1958-04-{i + 1:D2}" : (19580421 + i).ToString(System.Globalization.CultureInfo.InvariantCulture))},{300 + i}", "week,co2"));

        var outcome = await ingestion.IngestAsync($"{model}/co2.csv", content, new ModelSpec { Label = "co2", Columns = new() { ["week"] = ColumnKind.DateTime } });

        Assert.Equal([ReasonCodes.NotDates], outcome.ReasonCodes);
        var summary = await ingestion.ReadQuarantineAsync(outcome, "summary.txt");
        Assert.Contains("Column 'week' is dateTime in the spec, but holds values that are not dates, such as '19580441'", summary);
    }

    /// <summary>A column the spec declares numeric or boolean whose values are not: quarantined naming the column, some values and what to do.</summary>
    public static TheoryData<string, string, ModelSpec, string, string> DeclaredKindsTheDataDoesNotHold => new()
    {
        {
            "vendors", Rows(30, i => $"{(i % 5 == 0 ? "NA" : i % 2 == 0 ? "VTS" : "CMT")},{i},{i * 1.5}", "vendor_id,x,fare"),
            new ModelSpec { Label = "fare", Task = TaskKind.Regression, Columns = new() { ["vendor_id"] = ColumnKind.Numeric } }, ReasonCodes.NotNumbers,
            "Column 'vendor_id' is numeric in the spec, but 24 of its 30 rows hold values that are not numbers, such as 'CMT', 'VTS': " +
            "read as missing, they would leave it missing in 30 of 30 rows. Declare it \"categorical\" in the spec's \"columns\", or fix the data."
        },
        {
            "flags", Rows(30, i => $"{(i < 5 ? "yes" : i < 10 ? "NA" : (i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture))},{i % 2}", "flag,label"),
            new ModelSpec { Columns = new() { ["flag"] = ColumnKind.Boolean } }, ReasonCodes.NotBooleans,
            "Column 'flag' is boolean in the spec, but holds 20 value(s) that are not booleans, such as '5', '5.5', '6'; " +
            "write true/false, yes/no or 1/0, or give the column another kind (numeric or categorical)."
        },
    };

    [Theory]
    [MemberData(nameof(DeclaredKindsTheDataDoesNotHold))]
    public async Task Ingest_SpecKindTheColumnDoesNotHold_NamesTheColumnAndTheValues(string name, string csv, ModelSpec spec, string code, string reason)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel(name);

        var outcome = await ingestion.IngestAsync($"{model}/{name}.csv", Utf8(csv), spec);

        Assert.Equal([code], outcome.ReasonCodes);
        Assert.Contains(reason, await ingestion.ReadQuarantineAsync(outcome, "summary.txt"));
    }

    /// <summary>A spreadsheet's display formats exported as text: amounts with currency signs, percentages, thousands separators.</summary>
    [Fact]
    public async Task Ingest_SpecNumericColumnsOfNumbersWrittenForPeople_NamesEveryColumnAndSaysHowToWriteTheNumbers()
    {
        var ingestion = new Ingestion(azurite);
        var csv = Rows(30, i => $"{(i % 2 == 0 ? $"${i}.99" : $"\u20AC{i}")},{i}.4%,\"86,{i:000}.05\",{i % 2}", "price,share,total,label");
        var spec = new ModelSpec { Columns = new() { ["price"] = ColumnKind.Numeric, ["share"] = ColumnKind.Numeric, ["total"] = ColumnKind.Numeric } };

        var outcome = await ingestion.IngestAsync($"{Ingestion.NewModel("formatted")}/sales.csv", Utf8(csv), spec);

        Assert.Equal([ReasonCodes.NotNumbers], outcome.ReasonCodes);
        var reason = (await ingestion.ReportAsync(outcome))["reason"]!.GetValue<string>();
        Assert.Contains("Column 'price' is numeric in the spec, but 30 of its 30 rows hold values that are not numbers, such as '$0.99', '\u20AC1', '$2.99'", reason);
        Assert.Contains("They look like amounts with a currency symbol: write the amount without the currency symbol (32.99, not $32.99", reason);
        Assert.Contains("Column 'share' is numeric in the spec", reason);
        Assert.Contains("They look like percentages: write the number without the percent sign", reason);
        Assert.Contains("Column 'total' is numeric in the spec", reason);
        Assert.Contains("They look like numbers written with thousands separators: write numbers without thousands separators (86087.05, not 86,087.05), and the column is read as numbers.", reason);
        Assert.DoesNotContain("categorical", reason);
    }

    [Fact]
    public async Task Ingest_StoredSpecInForceUnreadable_QuarantinesTheDataNamingTheSpec()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("corrupt");
        await ingestion.Storage.EnsureCreatedAsync();
        await ingestion.Storage.Models.GetBlobClient(ModelSpecStore.CurrentBlob(model)).UploadAsync(BinaryData.FromString("{ \"version\": 1, \"spec\": "));
        var content = Utf8(Rows(30, i => $"{i},{i % 2}", "a,label"));

        var outcome = await ingestion.IngestAsync($"{model}/data.csv", content);

        Assert.Equal(IngestionStatus.Quarantined, outcome.Status);
        Assert.Equal([ReasonCodes.SpecInvalid], outcome.ReasonCodes);
        Assert.Equal(content, await ingestion.ReadQuarantineBytesAsync(outcome));
        Assert.Contains(ModelSpecStore.CurrentBlob(model), (await ingestion.ReadQuarantineAsync(outcome, "summary.txt")));
    }

    [Fact]
    public async Task Ingest_CommentLineBeforeTheHeaderWithCommentsOff_CountsTheRaggedRowsAndSaysToSetComment()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("exported");

        var outcome = await ingestion.IngestAsync($"{model}/exported.csv", "# exported from db, 2026-11-29\n" + Taxi);

        Assert.Equal([ReasonCodes.TooManyInvalidRows], outcome.ReasonCodes);
        var summary = await ingestion.ReadQuarantineAsync(outcome, "summary.txt");
        Assert.Contains("61 of 61 rows are unusable", summary);
        Assert.Contains("allowed; ragged_rows: 61)", summary);
        Assert.Contains("The first line starts with '#' ('# exported from db') and was read as the header", summary);
        Assert.Contains("set \"comment\": \"#\" in the spec", summary);
    }

    [Fact]
    public async Task Report_FormulaValuesInRejectedRows_AreEscapedInSamplesAndSummary()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("inject");
        var formulas = new[] { "=HYPERLINK(\"http://x\")", "+1+2", "-3-4", "@SUM(A1)" };
        var content = Rows(20, i => i % 2 == 0 ? $"{formulas[i / 2 % 4]},{i}" : $"{i},{i},{i / 2 % 2}", "a,b,label");

        var outcome = await ingestion.IngestAsync($"{model}/f.csv", content);

        Assert.Equal([ReasonCodes.TooManyInvalidRows], outcome.ReasonCodes);
        var samples = (await ingestion.ReportAsync(outcome))["problems"]!.AsArray().Single()!["samples"]!.AsArray().Select(x => x!.GetValue<string>()).ToList();
        Assert.Equal(5, samples.Count);
        Assert.All(samples, sample => Assert.StartsWith("'", sample));
        Assert.Contains(samples, sample => sample.StartsWith("'=HYPERLINK", StringComparison.Ordinal));
        var summary = await ingestion.ReadQuarantineAsync(outcome, "summary.txt");
        Assert.DoesNotContain(summary.Split('\n'), line => line.Length > 0 && line[0] is '=' or '+' or '-' or '@');
    }

    /// <summary>The dropped corpus on a running host: each file is quarantined with its code, nothing fails, the host still serves.</summary>
    [Fact]
    public async Task DropZone_WholeCorpusAtOnce_QuarantinesEachWithItsCodeAndTheHostKeepsServing()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var cases = new List<Case>();
        foreach (var row in Cases()) cases.Add(row);
        for (var i = 0; i < cases.Count; i++)
        {
            var model = $"case{i}";
            if (cases[i].Spec is { } spec) await host.UploadAsync(model, "model.json", System.Text.Json.JsonSerializer.Serialize(spec, Serverless.Core.Storage.JsonBlobs.Options));
            await host.UploadAsync(model, cases[i].File, new MemoryStream(cases[i].Content));
        }
        var poller = host.Services.GetRequiredService<IncomingBlobPoller>();

        var handled = await poller.PollOnceAsync(CancellationToken.None);

        Assert.Equal(cases.Count + cases.Count(c => c.Spec is not null), handled);
        for (var i = 0; i < cases.Count; i++)
        {
            var reports = new List<string>();
            await foreach (var blob in host.Storage.Quarantine.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"case{i}/", CancellationToken.None)) if (blob.Name.EndsWith("/report.json", StringComparison.Ordinal)) reports.Add(blob.Name);
            var report = System.Text.Json.Nodes.JsonNode.Parse((await host.Storage.Quarantine.GetBlobClient(Assert.Single(reports)).DownloadContentAsync()).Value.Content.ToString())!;
            Assert.True(report["reasonCodes"]![0]!.GetValue<string>() == cases[i].Code, $"{cases[i].Name}: {report["reasonCodes"]!.ToJsonString()}");
        }
        Assert.Equal(System.Net.HttpStatusCode.OK, (await host.Client.GetAsync("/api/health")).StatusCode);
    }

    [Fact]
    public async Task Report_FormulaValues_AreEscapedWhereEchoed()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("formula");

        var outcome = await ingestion.IngestAsync($"{model}/f.csv", "=cmd|' /C calc'!A0,=cmd|' /C calc'!A0,label\n1,2,0\n");

        var report = await ingestion.ReportAsync(outcome);
        var reason = report["reason"]!.GetValue<string>();
        Assert.Contains("'=cmd", reason);
        Assert.DoesNotContain(": =cmd", reason);
        Assert.DoesNotContain(", =cmd", reason);
        Assert.Contains("'=cmd", await ingestion.ReadQuarantineAsync(outcome, "summary.txt"));
    }

    [Fact]
    public async Task Report_RowProblems_AreCountedWithLineNumbersAndSamples()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("rows");
        var content = Rows(20, i => i < 8 ? $"{i},{i}" : $"{i},{i},{i % 2}", "a,b,label");

        var outcome = await ingestion.IngestAsync($"{model}/r.csv", content);

        var report = await ingestion.ReportAsync(outcome);
        var problem = report["problems"]!.AsArray().Single()!;
        Assert.Equal(ReasonCodes.RaggedRows, problem["code"]!.GetValue<string>());
        Assert.Equal(8, problem["count"]!.GetValue<int>());
        Assert.Equal([2L, 3L, 4L, 5L, 6L], problem["lines"]!.AsArray().Select(l => l!.GetValue<long>()));
    }

    /// <summary>
    /// Names as a user's upload produces them, through the real blob trigger: the SDK and Azurite resolve "../" (so
    /// "m/../escape.csv" lands at the container's root), and encoded separators or dots are stored literally. Whatever is
    /// stored ends in quarantine as an invalid name, under a path without "..", and no dataset is written.
    /// </summary>
    [Theory]
    [InlineData("../escape.csv")]
    [InlineData("sub/../../up.csv")]
    [InlineData("a%2F..%2Fb.csv")]
    [InlineData("..%2Fsecret.csv")]
    [InlineData("%2e%2e.csv")]
    [InlineData("nested/deeper/file.csv")]
    public async Task DropZone_UnsafeBlobName_IsQuarantinedAsInvalidName(string file)
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        await host.Storage.EnsureCreatedAsync();
        await host.Storage.Incoming.GetBlobClient($"names/{file}").UploadAsync(BinaryData.FromString(Taxi), overwrite: true);
        var stored = new List<string>();
        await foreach (var blob in host.Storage.Incoming.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, null, CancellationToken.None)) stored.Add(blob.Name);

        var handled = await host.Services.GetRequiredService<IncomingBlobPoller>().PollOnceAsync(CancellationToken.None);

        Assert.Single(stored);
        Assert.Equal(1, handled);
        var quarantined = new List<string>();
        await foreach (var blob in host.Storage.Quarantine.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, null, CancellationToken.None)) quarantined.Add(blob.Name);
        Assert.Equal(3, quarantined.Count);
        Assert.All(quarantined, name => Assert.DoesNotContain("..", name, StringComparison.Ordinal));
        var report = System.Text.Json.Nodes.JsonNode.Parse((await host.Storage.Quarantine.GetBlobClient(quarantined.Single(n => n.EndsWith("/report.json", StringComparison.Ordinal))).DownloadContentAsync()).Value.Content.ToString())!;
        Assert.Equal(ReasonCodes.InvalidBlobName, report["reasonCodes"]![0]!.GetValue<string>());
        Assert.Equal(stored[0], report["blob"]!.GetValue<string>());
        var datasets = new List<string>();
        await foreach (var blob in host.Storage.Datasets.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, null, CancellationToken.None)) datasets.Add(blob.Name);
        Assert.Empty(datasets);
    }

    [Fact]
    public async Task DropZone_FileUnderNoValidModelName_SaysToUseAValidName_AndIsListedLastAsAModelWithQuarantinedFiles()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        await host.Storage.EnsureCreatedAsync();
        await host.UploadAsync("aaa-real", "model.json", """{"label":"fare_amount"}""");
        var invalid = Serverless.Core.Datasets.DropZoneNames.InvalidFolder;
        var before = await Infrastructure.ApiAssert.ProblemAsync(await host.Client.GetAsync($"/api/models/{invalid}"), System.Net.HttpStatusCode.NotFound);
        Assert.DoesNotContain("incoming/_invalid/", before["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await host.Storage.Incoming.GetBlobClient("Bad_Name/x.csv").UploadAsync(BinaryData.FromString(Taxi), overwrite: true);

        await host.Services.GetRequiredService<IncomingBlobPoller>().PollOnceAsync(CancellationToken.None);

        var view = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/models/{invalid}"))!;
        var summary = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/models/{invalid}/quarantine"))!["files"]![0]!["summary"]!.GetValue<string>();
        Assert.Equal("Bad_Name/x.csv", view["quarantined"]![0]!["blob"]!.GetValue<string>());
        Assert.Contains("under a valid model name", summary, StringComparison.Ordinal);
        Assert.DoesNotContain($"incoming/{invalid}/", summary, StringComparison.Ordinal);
        var names = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/models"))!["models"]!.AsArray().Select(m => m!["model"]!.GetValue<string>()).ToList();
        Assert.Equal(invalid, names[^1]);
        Assert.Contains("aaa-real", names);
    }

    [Theory]
    [InlineData("taxi/../../etc/passwd", false)]
    [InlineData("taxi/a%2Fb.csv", false)]
    [InlineData("Taxi/data.csv", false)]
    [InlineData("taxi/da\u0001ta.csv", false)]
    [InlineData("taxi/data.csv", true)]
    [InlineData("taxi/100%.csv", true)]
    public void ParseName_RefusesTraversalEncodingAndBadModels(string blobName, bool valid)
    {
        var (_, file, problem) = DropZoneNames.Parse(blobName);

        Assert.Equal(valid, problem is null);
        Assert.Equal(valid, file is not null);
    }
}
