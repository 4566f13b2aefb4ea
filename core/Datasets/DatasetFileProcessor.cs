using System.Text;
using Serverless.Core.Specs;

namespace Serverless.Core.Datasets;

/// <summary>A local file checked, profiled and canonicalized: what a dataset version is made of.</summary>
internal sealed record ProcessedFile(DatasetSchema Schema, string CanonicalPath, string Sha256, long Rows, DatasetProfile Profile, FirstPassResult First);

/// <summary>
/// Checks, profiles and canonicalizes a local delimited text file: its bytes, the dialect sniffed from its first lines,
/// the first pass, the schema, and the second pass when one is needed. Touches storage only to read the previous
/// version's rows when appending.
/// </summary>
internal sealed class DatasetFileProcessor(IngestionOptions options, DatasetStore datasets)
{
    private readonly SchemaInference _schema = new(options);
    private readonly CanonicalNormalizer _normalizer = new(options, datasets);

    /// <summary>
    /// The canonical data goes to <paramref name="output"/>, unless the input is canonical already: then the result names
    /// the input file itself. Throws <see cref="Rejection"/> for a file that must be quarantined.
    /// </summary>
    public ProcessedFile Process(string text, ModelSpec spec, DatasetManifest? prior, string output, CancellationToken ct)
    {
        if (spec.Comment is { } mark && CommentCharacter.Problem(mark) is { } problem)
        {
            throw new Rejection(ReasonCodes.SpecInvalid, $"The spec's \"comment\" cannot be used: it must be {problem}.");
        }
        CheckBytes(text);
        var comment = CommentCharacter.Of(spec);
        var sniffLines = ReadSniffLines(text, comment, out var leadingComment, out var declared);
        if (sniffLines.Count == 0) throw new Rejection(ReasonCodes.EmptyFile, comment is null ? "The file holds only blank lines." : $"The file holds only blank lines and comment lines (starting with '{comment}').");
        var delimiter = declared ?? CsvSniffer.Delimiter(sniffLines)
            ?? throw new Rejection(ReasonCodes.NoDelimiter, "No comma, semicolon, tab or pipe separates the columns of the first lines; a dataset needs at least a label and one feature column.");
        var sniffRows = sniffLines.Select(l => (IReadOnlyList<string>)CsvSniffer.Split(l, delimiter)).ToList();
        CheckFirstLineDelimiter(sniffLines, sniffRows, delimiter, spec);
        // A first line holding the label the spec names is its header, whatever else it holds (years as names: "region,2022,2023,price").
        var hasHeader = spec.HasHeader ?? (spec.ColumnNames is null && (CsvSniffer.HasHeader(sniffRows) || NamesTheLabel(sniffRows, spec.Label)));
        var reading = DecimalMark.Infer(spec, delimiter, sniffRows.Skip(hasHeader ? 1 : 0), prior);
        var decimalMark = reading.Mark;

        var first = FirstPass.Run(options, text, delimiter, hasHeader, spec, prior, output + ".raw", sepLine: declared is not null, mark: decimalMark);
        DatasetSchema schema;
        try
        {
            schema = _schema.Decide(first, spec, prior);
            schema = schema with
            {
                DecimalSeparator = decimalMark,
                Inferred = DecimalMark.Note(spec, reading) is { } note ? [note, .. schema.Inferred] : schema.Inferred,
            };
        }
        catch (Rejection rejection) when (rejection.Problems is null)
        {
            rejection.Problems = first.Problems;
            throw;
        }
        // ML.NET's text format marks its header with '#': with comments on, such a header is read as a comment, and the
        // columns go unnamed. Said where a comment line before the rows has as many fields as they do.
        if (!hasHeader && leadingComment is not null && CsvSniffer.Split(leadingComment[1..], delimiter).Count == sniffRows[0].Count)
        {
            schema = schema with
            {
                Inferred = [.. schema.Inferred, $"the first line, '{CellValues.Escape(leadingComment)}', is a comment (the spec's \"comment\" is '{comment}') and has as many fields as the rows: " +
                                                "if it names the columns, leave \"comment\" out of the spec (a header marked with '#' is read as the header then) and upload the file again"],
            };
        }
        var sensitive = new HashSet<string>(schema.Sensitive, StringComparer.Ordinal);
        var appendTo = DataPolicies.AppendTarget(spec, prior);
        if (appendTo is null && !CanonicalNormalizer.IsNeeded(schema, first))
        {
            if (first.RawPath != text) File.Move(first.RawPath, output, overwrite: true);
            else output = text;
            var profile = new DatasetProfile
            {
                Model = "", DatasetVersion = "", Rows = first.AcceptedRows,
                Columns = [.. schema.Columns.Select((c, i) => first.Stats[i].Profile(c.Kind, sensitive.Contains(c.Name)))],
            };
            return new ProcessedFile(schema, output, first.RawSha256, first.AcceptedRows, profile, first);
        }
        var (canonical, sha, rows, finalProfile) = _normalizer.Write(first, schema, appendTo, output, ct);
        if (first.RawPath != text) File.Delete(first.RawPath);
        return new ProcessedFile(schema, canonical, sha, rows, finalProfile, first);
    }

    /// <summary>
    /// A first line that the rows' delimiter does not split, while another delimiter splits it into as many fields as the
    /// rows have (a header written with ';' over rows written with ','): named as such, rather than left to read as one
    /// column and blamed on whatever check that fails first.
    /// </summary>
    private static void CheckFirstLineDelimiter(List<string> lines, List<IReadOnlyList<string>> rows, char delimiter, ModelSpec spec)
    {
        if (rows.Count < 2 || rows[0].Count != 1 || spec.HasHeader is false) return;
        var fields = rows.Skip(1).Select(r => r.Count).GroupBy(c => c).OrderByDescending(g => g.Count()).First().Key;
        if (fields < 2) return;
        foreach (var other in CsvSniffer.Candidates.Where(c => c != delimiter))
        {
            if (CsvSniffer.Split(lines[0], other).Count == fields)
            {
                throw new Rejection(ReasonCodes.MixedDelimiters, $"The first line is separated by {Name(other)}, the rows below it by {Name(delimiter)}: " +
                                                        "write the header and the rows with the same delimiter, and upload the file again.");
            }
        }
        static string Name(char c) => c switch { '\t' => "tabs", ',' => "commas (,)", ';' => "semicolons (;)", _ => $"'{c}'" };
    }

    /// <summary>Rejects an empty file and binary content (a NUL byte in the first MiB); UTF-8 validity is checked while reading.</summary>
    private static void CheckBytes(string path)
    {
        var info = new FileInfo(path);
        if (info.Length == 0) throw new Rejection(ReasonCodes.EmptyFile, "The file is empty.");
        var buffer = new byte[(int)Math.Min(info.Length, 1 << 20)];
        using var stream = File.OpenRead(path);
        var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var nul = Array.IndexOf(buffer, (byte)0, 0, read);
        if (nul >= 0) throw new Rejection(ReasonCodes.BinaryContent, $"The file holds binary data (a NUL byte at offset {nul}); {WhatBinaryItIs(buffer.AsSpan(0, read))}");
    }

    /// <summary>Advice for binary content by what its first bytes say it is: the usual mistakes get their own fix.</summary>
    private static string WhatBinaryItIs(ReadOnlySpan<byte> head) => head switch
    {
        _ when head.StartsWith(UploadFiles.GzipMagic) => "its bytes are gzip, but its name does not end in .gz. Upload it as name.csv.gz, or decompress it first.",
        [0x50, 0x4B, 0x03, 0x04, ..] => "its bytes are a zip archive (an .xlsx workbook is one). Export the sheet as CSV, or unzip the file, and upload the text.",
        [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..] => "it is UTF-16 text (it starts with a UTF-16 byte-order mark). Save it as UTF-8 and upload it again.",
        [_, 0, _, 0, ..] or [0, _, 0, _, ..] when head.Length >= 4 => "it looks like UTF-16 text (every other byte is NUL). Save it as UTF-8 and upload it again.",
        _ => "upload delimited text.",
    };

    /// <summary>
    /// The first lines (up to 50, ended by LF, CR LF or CR) that are neither blank nor, when the spec names a comment character, comments: the
    /// lines the reader will read as the header and rows, for sniffing the delimiter and the header; and in
    /// <paramref name="leadingComment"/> the comment line that comes before all of them, if one does; in
    /// <paramref name="declared"/> the delimiter an Excel "sep=;" first line declares, that line left out.
    /// </summary>
    private List<string> ReadSniffLines(string path, char? comment, out string? leadingComment, out char? declared)
    {
        string? firstComment = null;
        char? sep = null;
        var firstLine = true;
        var lines = new List<string>();
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var line = new StringBuilder();
        void Keep()
        {
            var text = line.ToString();
            line.Clear();
            var isFirst = firstLine;
            firstLine = false;
            if (isFirst && CsvSniffer.DeclaredDelimiter(text) is { } d)
            {
                sep = d;
                return;
            }
            if (text.Trim().Length == 0) return;
            if (comment is { } mark && text.StartsWith(mark))
            {
                if (lines.Count == 0) firstComment ??= text;
            }
            else lines.Add(text);
        }
        int c;
        while (lines.Count < 50 && (c = reader.Read()) >= 0)
        {
            if (c == '\n') Keep();
            else if (c == '\r')
            {
                // A line ends at CR LF, LF or a lone CR (classic Mac files), as the row reader ends records.
                Keep();
                if (reader.Peek() == '\n') reader.Read();
            }
            else if (line.Length < options.MaxRecordChars) line.Append((char)c);
            else throw new Rejection(ReasonCodes.LineTooLong, $"The first lines are longer than {options.MaxRecordChars:N0} characters; is the file delimited text with line breaks?");
        }
        if (line.Length > 0 && lines.Count < 50) Keep();
        leadingComment = firstComment;
        declared = sep;
        return lines;
    }

    /// <summary>Whether the first line sniffed holds the label the spec names as one of its fields.</summary>
    private static bool NamesTheLabel(IReadOnlyList<IReadOnlyList<string>> rows, string? label) =>
        label is { Length: > 0 } && rows.Count > 0 && rows[0].Any(field => field.Trim() == label);
}
