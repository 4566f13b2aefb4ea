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

    /// <summary>The records of a canonical CSV file, each with the file's header; a record shorter than the header ends in nulls.</summary>
    public static async IAsyncEnumerable<(string[] Header, string?[] Fields)> ReadRecordsAsync(
        string file, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = OpenReader(new StreamReader(file, Encoding.UTF8));
        var header = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            var fields = new string?[header.Length];
            for (var i = 0; i < fields.Length; i++) fields[i] = i < reader.RowFieldCount ? reader.GetString(i) : null;
            yield return (header, fields);
        }
    }

    /// <summary>Writes a whole canonical CSV file: the header, then the records.</summary>
    public static void WriteFile(string path, IReadOnlyList<string?> header, IEnumerable<IReadOnlyList<string?>> records)
    {
        using var writer = new StreamWriter(path, false, Utf8, 1 << 16);
        WriteRecord(writer, header);
        foreach (var record in records) WriteRecord(writer, record);
    }

    /// <summary>
    /// Writes one record. A first field that starts with '#' or "//" is quoted, so that no reader of the file (Sylvan's
    /// comment character, ML.NET's comment lines) takes the record for a comment.
    /// </summary>
    public static void WriteRecord(TextWriter writer, IReadOnlyList<string?> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0) writer.Write(',');
            if (i == 0 && fields[0] is ['#', ..] or ['/', '/', ..]) WriteQuoted(writer, fields[0]!);
            else WriteField(writer, fields[i]);
        }
        writer.Write('\n');
    }

    public static void WriteField(TextWriter writer, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) return;
        if (value.IndexOfAny(",\"\r\n") < 0)
        {
            writer.Write(value);
            return;
        }
        WriteField(writer, value.ToString());
    }

    /// <summary>Appends a field to a row being built, quoting it if it needs quotes.</summary>
    public static void AppendField(RecordBuffer<char> row, ReadOnlySpan<char> value)
    {
        if (value.IndexOfAny(",\"\r\n") < 0)
        {
            row.Append(value);
            return;
        }
        row.Append('"');
        foreach (var c in value)
        {
            if (c == '"') row.Append('"');
            row.Append(c);
        }
        row.Append('"');
    }

    public static void WriteField(TextWriter writer, string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            writer.Write(value);
            return;
        }
        WriteQuoted(writer, value);
    }

    private static void WriteQuoted(TextWriter writer, string value)
    {
        writer.Write('"');
        writer.Write(value.Replace("\"", "\"\"", StringComparison.Ordinal));
        writer.Write('"');
    }

    /// <summary>A number as the canonical file writes it: invariant culture, round-trippable.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static UTF8Encoding Utf8 { get; } = new(encoderShouldEmitUTF8Identifier: false);
}

/// <summary>A growable buffer for building one record at a time (of chars or UTF-8 bytes) without allocating per field.</summary>
public sealed class RecordBuffer<T>(int capacity) where T : unmanaged
{
    private T[] _items = new T[capacity];
    private int _length;

    public ReadOnlySpan<T> Written => _items.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void Append(T item)
    {
        if (_length == _items.Length) Array.Resize(ref _items, _items.Length * 2);
        _items[_length++] = item;
    }

    public void Append(ReadOnlySpan<T> items)
    {
        if (_length + items.Length > _items.Length) Array.Resize(ref _items, Math.Max(_items.Length * 2, _length + items.Length));
        items.CopyTo(_items.AsSpan(_length));
        _length += items.Length;
    }
}
