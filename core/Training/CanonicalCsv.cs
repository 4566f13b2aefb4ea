using System.Globalization;
using System.Text;
using Sylvan.Data.Csv;

namespace Serverless.Core.Training;

/// <summary>
/// The canonical CSV of dataset versions and splits: comma-separated, a header row, RFC 4180 quoting, empty = missing.
/// Reading goes through Sylvan (quoted newlines and quotes handled); writing quotes only what needs it.
/// </summary>
public static class CanonicalCsv
{
    public static CsvDataReader OpenReader(TextReader reader) =>
        CsvDataReader.Create(reader, new CsvDataReaderOptions { HasHeaders = true, Delimiter = ',', BufferSize = 1 << 16, MaxBufferSize = 64 << 20 });

    public static void WriteRecord(TextWriter writer, IReadOnlyList<string?> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0) writer.Write(',');
            WriteField(writer, fields[i]);
        }
        writer.Write('\n');
    }

    public static void WriteField(TextWriter writer, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            writer.Write(value);
            return;
        }
        writer.Write('"');
        writer.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
        writer.Write('"');
    }

    /// <summary>A number as the canonical file writes it: invariant culture, round-trippable.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static UTF8Encoding Utf8 { get; } = new(encoderShouldEmitUTF8Identifier: false);
}
