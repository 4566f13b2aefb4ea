using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Datasets;

/// <summary>
/// The first pass over an upload, the one every file gets: it reads the header, applies the row rules, profiles every
/// column and writes the accepted rows as canonical CSV while hashing them.
/// </summary>
internal static class FirstPass
{
    /// <summary>
    /// The one pass over the upload: reads the header, checks every row, counts and profiles every column, and writes
    /// the accepted rows (trimmed, missing tokens emptied) as canonical CSV while hashing it. Rows come in batches: a
    /// batch's rows are checked first, then each column takes its values of the batch in one loop (in row order, so the
    /// statistics are those of a row-by-row pass), then the accepted rows are written in order. Every line ends counted:
    /// as the header, a blank (<see cref="Utf8CsvReader.IsBlank"/>) or comment line, an accepted row, or a row rejected for a
    /// reason.
    /// </summary>
    /// <param name="sepLine">Whether the file starts with Excel's "sep=;" line (<see cref="CsvSniffer.DeclaredDelimiter"/>), skipped and counted with the comments.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    /// <param name="mark">The decimal mark the file's numbers are written with (<see cref="DecimalMark"/>); the rows are written as read, and the second pass writes its numbers with a point.</param>
    public static FirstPassResult Run(IngestionOptions options, string path, char delimiter, bool hasHeader, ModelSpec spec, DatasetManifest? prior, string rawOutput, bool sepLine = false,
        char mark = DecimalMark.Point)
    {
        var problems = new ProblemLog(options.SamplesPerProblem);
        string[]? header = null;
        ColumnStatistics[] stats = [];
        // The numeric and boolean kinds the spec declares, per column: their values are counted against the kind.
        ColumnKind?[] declared = [];
        int labelIndex = -1;
        long dataRows = 0, rejected = 0, accepted = 0, blank = 0, comments = 0;
        var rejectedBy = new Dictionary<string, long>(StringComparer.Ordinal);
        string? markedHeader = null;
        var namelessLast = false;
        var sensitive = new HashSet<string>(spec.Sensitive ?? [], StringComparer.Ordinal);
        RowRules? rules = null;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            using var sink = new CanonicalSink(path, rawOutput, sha);
            using var reader = new Utf8CsvReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1), delimiter, options.MaxRecordChars,
                comment: CommentCharacter.Of(spec), skipFirstLine: sepLine);
            reader.BeforeBufferChange = sink.FlushRun;
            var row = new RecordBuffer<byte>(1024);
            var fates = new RowFate[BatchSize];
            var keptRecords = new int[BatchSize];
            var notable = new List<(int Record, ValueOutcome Outcome)>();
            var events = new List<(long Record, int Column, string Code, string Detail, string? Sample)>();
            int count;
            while ((count = reader.ReadBatch(BatchSize)) > 0)
            {
                for (var r = 0; r < count; r++)
                {
                    fates[r] = RowFate.Skipped;
                    if (reader.IsBlank(r))
                    {
                        blank++;
                        continue;
                    }
                    if (header is null)
                    {
                        var names = reader.GetStrings(r);
                        if (hasHeader && names[0].StartsWith('#'))
                        {
                            // ML.NET's text format marks its header line with '#' ("#Label\tText"): the mark is not part of the name.
                            markedHeader = names[0];
                            names[0] = names[0][1..].Trim();
                        }
                        header = hasHeader ? names : [.. (spec.ColumnNames ?? prior?.Schema.Columns.Select(c => c.Name).ToList() ?? Enumerable.Range(1, names.Length).Select(i => $"column{i}").ToList())];
                        // A header ending with the delimiter, as files written with one after every field have: its last column has
                        // no name, and is checked once the rows are read (dropped when it is empty in every row).
                        namelessLast = hasHeader && SchemaInference.EndsWithDelimiter(header);
                        SchemaInference.CheckHeader(namelessLast ? header[..^1] : header);
                        stats = [.. header.Select(h => new ColumnStatistics(h, options.DistinctLimit, mark))];
                        declared = [.. header.Select(h => spec.Columns?.TryGetValue(h, out var kind) == true && kind is ColumnKind.Numeric or ColumnKind.Boolean ? kind : (ColumnKind?)null)];
                        try
                        {
                            labelIndex = SchemaInference.LabelIndex(namelessLast ? header[..^1] : header, spec);
                        }
                        catch (Rejection e) when (markedHeader is not null)
                        {
                            throw new Rejection(e.Code, $"{e.Message} {SchemaInference.MarkedHeaderAdvice(markedHeader)}", e.Problems);
                        }
                        rules = new RowRules(header, labelIndex, spec, delimiter, hasHeader, mark);
                        if (hasHeader && reader.IsCanonical(r)) sink.AppendRun(reader.Buffer, reader.RecordStart(r), reader.RecordLength(r), reader.FileOffset(r));
                        else
                        {
                            for (var c = 0; c < header.Length; c++)
                            {
                                if (c > 0) row.Append((byte)',');
                                CanonicalSink.AppendField(row, Encoding.UTF8.GetBytes(header[c]), first: c == 0);
                            }
                            row.Append((byte)'\n');
                            sink.Write(row.Written);
                            row.Clear();
                        }
                        if (hasHeader) continue;
                    }
                    dataRows++;
                    var problem = reader.FieldCount(r) == header.Length && !rules!.HasRanges && !CellValues.IsMissing(reader[r, labelIndex]) && !rules.IsHeaderAgain(reader, r)
                        ? null : rules!.Check(reader, r);
                    if (problem is not null)
                    {
                        rejected++;
                        rejectedBy[problem.Value.Code] = rejectedBy.GetValueOrDefault(problem.Value.Code) + 1;
                        var sample = problem.Value.Column is { } col && sensitive.Contains(header[col]) ? null : problem.Value.Sample;
                        events.Add((reader.RecordNumber(r), -1, problem.Value.Code, problem.Value.Detail, sample));
                        continue;
                    }
                    fates[r] = reader.IsCanonical(r) ? RowFate.AsRead : RowFate.Rewritten;
                }
                var kept = 0;
                for (var r = 0; r < count; r++)
                {
                    if (fates[r] != RowFate.Skipped) keptRecords[kept++] = r;
                }
                for (var c = 0; c < stats.Length; c++)
                {
                    stats[c].AddColumn(reader, c, keptRecords.AsSpan(0, kept), notable);
                    if (declared[c] is { } kind)
                    {
                        foreach (var r in keptRecords.AsSpan(0, kept)) stats[c].CountAgainst(kind, reader[r, c]);
                    }
                    foreach (var (r, outcome) in notable)
                    {
                        if (outcome == ValueOutcome.Missing)
                        {
                            if (!reader[r, c].IsEmpty) fates[r] = RowFate.Rewritten;
                            continue;
                        }
                        var text = reader.GetString(r, c);
                        events.Add((reader.RecordNumber(r), c, ReasonCodes.NonFiniteValues, $"'{header![c]}' holds {text}", sensitive.Contains(header[c]) ? null : CellValues.Escape(text)));
                    }
                    notable.Clear();
                }
                if (events.Count > 0)
                {
                    events.Sort((a, b) => a.Record != b.Record ? a.Record.CompareTo(b.Record) : a.Column.CompareTo(b.Column));
                    foreach (var e in events) problems.Add(e.Code, e.Record, e.Detail, e.Sample);
                    events.Clear();
                }
                for (var r = 0; r < count; r++)
                {
                    if (fates[r] == RowFate.Skipped) continue;
                    accepted++;
                    if (fates[r] == RowFate.AsRead)
                    {
                        sink.AppendRun(reader.Buffer, reader.RecordStart(r), reader.RecordLength(r), reader.FileOffset(r));
                        continue;
                    }
                    for (var c = 0; c < stats.Length; c++)
                    {
                        if (c > 0) row.Append((byte)',');
                        var value = reader[r, c];
                        if (!CellValues.IsMissing(value)) CanonicalSink.AppendField(row, value, first: c == 0);
                    }
                    row.Append((byte)'\n');
                    sink.Write(row.Written);
                    row.Clear();
                }
            }
            if (header is not null && dataRows > 0)
            {
                sink.Complete();
                if (sink.IsInput) rawOutput = path;
            }
            comments = reader.Comments;
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.RecordTooLarge)
        {
            throw new Rejection(ReasonCodes.LineTooLong, $"The record starting on line {e.Line:N0} is longer than {options.MaxRecordChars:N0} characters; the limit keeps memory bounded. " +
                                                  "Check that line for a missing line break, or for a quote that opens a field and is never closed.");
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.TextAfterQuote)
        {
            throw new Rejection(ReasonCodes.TextAfterQuote, $"Line {e.Line:N0}: the field {Shown(e.Field!)} has text after its closing quote. A field that starts with a quote is " +
                                                   "a quoted field, and ends at its closing quote; a quote inside a value must be doubled, inside a quoted field. " +
                                                   $"Quote the whole field and double the quotes inside it: {Shown(QuotedWhole(e.Field!))}.");
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.Malformed)
        {
            throw new Rejection(ReasonCodes.UnterminatedQuote, $"Line {e.Line:N0}: the quoted field starting {Shown(e.Field!)} has no closing quote, so everything after it, " +
                                                      "to the end of the file, would be one value. Add the closing quote where the value ends; if the quote is part of the value, " +
                                                      $"quote the whole field and double the quotes inside it (a value {Shown("\"17\" laptop")} is written {Shown(QuotedWhole("\"17\" laptop"))}).");
        }
        catch (CsvInputException e) when (e.Problem == CsvInputProblem.InvalidEncoding)
        {
            throw new Rejection(ReasonCodes.InvalidEncoding, $"The file is not UTF-8: {e.Message} (bytes counted from 1). Save it as UTF-8 and upload it again; " +
                                                    "a file saved as Latin-1 or Windows-1252 fails at its first accented letter.");
        }
        if (header is null)
        {
            throw new Rejection(ReasonCodes.EmptyFile, comments == 0 ? "The file holds no rows."
                : $"The file holds no rows: its {comments} non-blank line(s) start with the spec's comment character '{CellValues.Escape(spec.Comment!)}'.");
        }
        if (dataRows == 0) throw new Rejection(ReasonCodes.HeaderOnly, $"The file has a header ({string.Join(", ", header.Take(10).Select(CellValues.Escape))}) but no data rows.");
        if (namelessLast)
        {
            if (stats[^1].Present > 0) throw new Rejection(ReasonCodes.EmptyColumnName, SchemaInference.NamelessLastColumnHoldsValues(header, stats[^1].Present, accepted));
            header = header[..^1];
            stats = stats[..^1];
        }
        var lines = new LineCounts(dataRows, accepted, rejected, rejectedBy, comments, blank);
        return new FirstPassResult(header, stats, labelIndex, dataRows, rejected, problems, rules!, rawOutput, Convert.ToHexStringLower(sha.GetHashAndReset()), accepted, lines, markedHeader)
        {
            DroppedEmptyLastColumn = namelessLast,
            Mark = mark,
            NamesWithoutHeader = hasHeader ? null
                : spec.ColumnNames is not null ? "the spec's columnNames"
                : prior is not null ? $"the columns of the previous dataset version {prior.Version}"
                : $"column1 to column{header?.Length ?? 0}",
        };
    }

    private const int BatchSize = 1024;

    /// <summary>A field's text as a message shows it: in backticks, since it holds quotes of its own.</summary>
    private static string Shown(string text) => $"`{CellValues.Escape(text)}`";

    /// <summary>A value as one quoted field, the way a value holding quotes, delimiters or line breaks must be written.</summary>
    private static string QuotedWhole(string value) => $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>What becomes of a record of a batch: nothing (blank, header or rejected), written as read, or rewritten canonically.</summary>
    private enum RowFate : byte { Skipped, AsRead, Rewritten }
}
