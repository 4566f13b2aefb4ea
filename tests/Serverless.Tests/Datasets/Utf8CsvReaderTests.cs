using System.Text;
using Serverless.Core.Datasets;
using Sylvan.Data.Csv;

namespace Serverless.Tests.Datasets;

/// <summary>
/// The byte-level reader splits records exactly as the Sylvan reader ingestion used before (and the canonical reader
/// still uses) does: same fields, same comment and blank-line handling, same record-size limit, same errors. Comments
/// are off unless a comment character is given; Sylvan always has one, so "off" is compared with Sylvan given a
/// character the text never holds. The one difference is meant: a line break inside a field is read as LF
/// (<see cref="CellValues.LineBreaksAsLf(string)"/>), so Sylvan's fields are compared so written.
/// </summary>
public sealed class Utf8CsvReaderTests
{
    /// <summary>A record as both readers give it: its trimmed fields, or the error that stopped reading.</summary>
    private sealed record Outcome(IReadOnlyList<string[]> Records, string? Error)
    {
        public override string ToString() =>
            string.Join("\n", Records.Select(r => string.Join(" | ", r.Select(f => f.Replace("\r", "<CR>").Replace("\n", "<LF>"))))) + (Error is null ? "" : "\nerror: " + Error);
    }

    /// <summary>A character no generated text holds: Sylvan with it as its comment character reads no line as a comment.</summary>
    private const char NoComment = '~';

    private static Outcome Sylvan(byte[] bytes, char delimiter, int maxRecordChars, char? comment = null)
    {
        var records = new List<string[]>();
        try
        {
            using var reader = CsvDataReader.Create(new StreamReader(new MemoryStream(bytes), new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, 1 << 16),
                new CsvDataReaderOptions { HasHeaders = false, Delimiter = delimiter, BufferSize = 1 << 16, MaxBufferSize = maxRecordChars, Comment = comment ?? NoComment });
            while (reader.Read()) records.Add([.. Enumerable.Range(0, reader.RowFieldCount).Select(i => CellValues.LineBreaksAsLf(reader.GetFieldSpan(i).Trim().ToString()))]);
            return new Outcome(records, null);
        }
        catch (CsvRecordTooLargeException)
        {
            return new Outcome(records, "too large");
        }
        catch (CsvFormatException e)
        {
            return new Outcome(records, e.Message);
        }
        catch (DecoderFallbackException)
        {
            return new Outcome(records, "not UTF-8");
        }
    }

    private static Outcome Bytes(byte[] bytes, char delimiter, int maxRecordChars, int bufferSize = 1 << 20, int batch = 1024, char? comment = null)
    {
        var records = new List<string[]>();
        try
        {
            using var reader = new Utf8CsvReader(new MemoryStream(bytes), delimiter, maxRecordChars, bufferSize, comment);
            int count;
            while ((count = reader.ReadBatch(batch)) > 0)
            {
                for (var r = 0; r < count; r++) records.Add(reader.GetStrings(r));
            }
            return new Outcome(records, null);
        }
        catch (CsvInputException e)
        {
            return new Outcome(records, e.Problem switch
            {
                CsvInputProblem.RecordTooLarge => "too large",
                CsvInputProblem.InvalidEncoding => "not UTF-8",
                _ => e.Message,
            });
        }
    }

    private static readonly string[] Tokens =
        ["1", "2.5", "-3", "abc", "x y", " padded ", "\t", "NA", "", "#", "é", "\u00A0nbsp\u00A0", "\u2003", "日本", "🙂", "=1+2", "a\"b", "\u0001"];

    private static readonly string[] QuotedTokens =
        ["", "q", "a,b", "a;b", "a|b", "a\tb", "line\nbreak", "cr\r\nlf", "\"\"", "say \"\"hi\"\"", " spaced "];

    /// <summary>
    /// Random delimited text with consistent line ends (LF, CR LF or CR throughout): the domain where Sylvan's result does
    /// not depend on where its buffer happens to end (a lone CR among LF lines is read differently by its fast and slow paths).
    /// </summary>
    private static (byte[] Bytes, char Delimiter) RandomText(Random random)
    {
        var delimiter = ",;\t|"[random.Next(4)];
        var lineEnd = random.Next(6) switch { 0 => "\r\n", 1 => "\r", _ => "\n" };
        var text = new StringBuilder();
        var rows = random.Next(1, 40);
        var columns = random.Next(1, 6);
        for (var r = 0; r < rows; r++)
        {
            var fields = random.Next(8) == 0 ? random.Next(1, columns + 3) : columns;
            if (random.Next(15) == 0) fields = random.Next(2) == 0 ? 0 : 1;
            for (var f = 0; f < fields; f++)
            {
                if (f > 0) text.Append(delimiter);
                switch (random.Next(12))
                {
                    case 0:
                        text.Append('"').Append(QuotedTokens[random.Next(QuotedTokens.Length)]).Append('"');
                        break;
                    case 1:
                        text.Append('"').Append(QuotedTokens[random.Next(QuotedTokens.Length)]);
                        if (random.Next(3) > 0) text.Append('"');
                        if (random.Next(3) == 0) text.Append(Tokens[random.Next(Tokens.Length)]);
                        break;
                    case 2:
                        text.Append('#').Append(Tokens[random.Next(Tokens.Length)]);
                        break;
                    default:
                        text.Append(Tokens[random.Next(Tokens.Length)]);
                        if (random.Next(4) == 0) text.Append(Tokens[random.Next(Tokens.Length)]);
                        break;
                }
            }
            if (r < rows - 1 || random.Next(3) > 0) text.Append(lineEnd);
        }
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (random.Next(8) == 0) bytes = [0xEF, 0xBB, 0xBF, .. bytes];
        else if (random.Next(20) == 0 && bytes.Length > 0) bytes[random.Next(bytes.Length)] = (byte)random.Next(0x80, 0x100);
        return (bytes, delimiter);
    }

    private static bool ReadTheSameWhereverBuffersEnd(byte[] bytes)
    {
        var text = Encoding.UTF8.GetString(bytes);
        var first = text.IndexOfAny(['\r', '\n']);
        if (first < 0) return true;
        var crOnly = text[first] == '\r' && (first + 1 == text.Length || text[first + 1] != '\n');
        return crOnly ? !text.Contains('\n') : !text.Replace("\r\n", "").Contains('\r');
    }

    /// <summary>Small buffers and batches make the reader refill and resume often; the result must not depend on them.</summary>
    [Fact]
    public void ReadBatch_RandomDelimitedText_GivesTheRecordsAndErrorsSylvanGives()
    {
        var random = new Random(20240611);
        var comments = new Random(11);
        var compared = 0;
        while (compared < 4000)
        {
            var (bytes, delimiter) = RandomText(random);
            if (!ReadTheSameWhereverBuffersEnd(bytes)) continue;
            compared++;

            char? comment = comments.Next(2) == 0 ? '#' : null;
            var expected = Sylvan(bytes, delimiter, 1 << 20, comment);
            var actual = Bytes(bytes, delimiter, 1 << 20, bufferSize: random.Next(1, 200), batch: random.Next(1, 9), comment);

            Assert.True(expected.ToString() == actual.ToString(), $"{Convert.ToHexString(bytes)} ({delimiter})\nSylvan:\n{expected}\nUtf8CsvReader:\n{actual}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(4096)]
    public void ReadBatch_AnyBufferSize_GivesTheSameRecordsAsOneLargeBuffer(int bufferSize)
    {
        var random = new Random(bufferSize);
        var lines = Enumerable.Range(0, 3000).Select(i => $"{i},\"q,{i}\nx\",{Tokens[random.Next(Tokens.Length)]},🙂{i}");
        var bytes = Encoding.UTF8.GetBytes(string.Join("\r\n", lines));

        var small = Bytes(bytes, ',', 1 << 20, bufferSize, batch: 100);
        var large = Bytes(bytes, ',', 1 << 20);

        Assert.Null(large.Error);
        Assert.Equal(3000, large.Records.Count);
        Assert.Equal(large.ToString(), small.ToString());
    }

    /// <summary>
    /// Sylvan refused a record that did not fit its buffer, grown by doubling from 64 Ki characters up to the limit; at
    /// 128 Ki the buffer lands exactly on the limit, so the boundary is the limit itself (line end included, a CR LF pair
    /// counting two, a last record without a line end needing one character less).
    /// </summary>
    [Theory]
    [InlineData(131_071, "\n")]
    [InlineData(131_072, "\n")]
    [InlineData(131_070, "\r\n")]
    [InlineData(131_071, "\r\n")]
    [InlineData(131_071, "")]
    [InlineData(131_072, "")]
    [InlineData(131_060, "é\n")]
    [InlineData(131_061, "é\n")]
    [InlineData(200_000, "\n")]
    public void ReadBatch_RecordAroundTheSizeLimit_IsRefusedExactlyWhenSylvanRefusedIt(int length, string ending)
    {
        var record = new string('x', length - ending.Length) + ending;
        var bytes = Encoding.UTF8.GetBytes("a,b\n" + record + "c,d\n");

        var expected = Sylvan(bytes, ',', 131_072);
        var actual = Bytes(bytes, ',', 131_072, bufferSize: 1 << 16);

        Assert.Equal(expected.Error, actual.Error);
        Assert.Equal(expected.ToString(), actual.ToString());
    }

    [Fact]
    public void Trim_EveryWhiteSpaceCharacterAtEitherEnd_TrimsAsStringTrimDoes()
    {
        var whiteSpace = Enumerable.Range(0, 0x10000).Where(c => char.IsWhiteSpace((char)c)).Select(c => ((char)c).ToString()).ToList();
        var nearMisses = new[] { "\u200B", "\uFEFF", "\u0001", "\u001F", "x", "🙂" };
        foreach (var left in whiteSpace.Concat(nearMisses))
        {
            foreach (var right in whiteSpace.Concat(nearMisses))
            {
                var text = left + "é" + right;
                var bytes = Encoding.UTF8.GetBytes(text);

                var (offset, length) = Utf8CsvReader.Trim(bytes);

                Assert.Equal(text.Trim(), Encoding.UTF8.GetString(bytes, offset, length));
            }
        }
    }

    [Fact]
    public void ReadBatch_MalformedRecordAfterGoodOnes_ReturnsTheGoodOnesBeforeThrowing()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n1,2\n3,\"open\n");
        using var reader = new Utf8CsvReader(new MemoryStream(bytes), ',', 1 << 20);

        var first = reader.ReadBatch(10);
        var second = reader.GetStrings(1);
        var error = Assert.Throws<CsvInputException>(() => reader.ReadBatch(10));

        Assert.Equal(2, first);
        Assert.Equal(["1", "2"], second);
        Assert.Equal(CsvInputProblem.Malformed, error.Problem);
        Assert.Equal(3, error.RecordNumber);
    }

    [Fact]
    public void ReadBatch_NoCommentCharacter_ReadsLinesStartingWithHashAsRecords()
    {
        var bytes = Encoding.UTF8.GetBytes("#Label,x\n#1,2\n3,4\n");
        using var reader = new Utf8CsvReader(new MemoryStream(bytes), ',', 1 << 20);

        var count = reader.ReadBatch(10);

        Assert.Equal(3, count);
        Assert.Equal(["#Label", "x"], reader.GetStrings(0));
        Assert.Equal(["#1", "2"], reader.GetStrings(1));
        Assert.Equal(0, reader.Comments);
    }

    [Fact]
    public void ReadBatch_CommentCharacterGiven_SkipsAndCountsTheLinesItStarts()
    {
        var bytes = Encoding.UTF8.GetBytes("# made by hand\r\na,b\n#1,2\n3,4\n ;not a comment,5\n");
        using var reader = new Utf8CsvReader(new MemoryStream(bytes), ',', 1 << 20, comment: '#');

        var count = reader.ReadBatch(10);

        Assert.Equal(3, count);
        Assert.Equal(["a", "b"], reader.GetStrings(0));
        Assert.Equal(["3", "4"], reader.GetStrings(1));
        Assert.Equal(2, reader.Comments);
        // The third record is the file's fifth line: the two comment lines before it count.
        Assert.Equal(5, reader.RecordNumber(2));
    }

    [Theory]
    [InlineData("#1,2\n", false)]
    [InlineData("//1,2\n", false)]
    [InlineData("/1,2\n", true)]
    [InlineData("1,#2\n", true)]
    public void IsCanonical_RecordLedByACommentMark_IsNotCanonicalAsRead(string line, bool canonical)
    {
        using var reader = new Utf8CsvReader(new MemoryStream(Encoding.UTF8.GetBytes(line)), ',', 1 << 20);

        reader.ReadBatch(1);

        Assert.Equal(canonical, reader.IsCanonical(0));
    }
}
