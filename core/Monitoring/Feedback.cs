using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Core.Storage;

namespace Serverless.Core.Monitoring;

/// <summary>
/// The ground truth of one logged prediction (one line of a feedback blob): the request id and row it labels, the
/// label (a number for regression, a class name for classification), the version that answered and when, and when the
/// feedback came.
/// </summary>
public sealed record FeedbackEntry
{
    public required string RequestId { get; init; }

    /// <summary>The row's index within its request (0 for a single-object request).</summary>
    public required int Row { get; init; }

    /// <summary>A JSON number for a regression model, a JSON string (one of the version's classes) for a classifier.</summary>
    public required JsonElement Label { get; init; }

    /// <summary>The version that answered the request (from its log entry).</summary>
    public required string ModelVersion { get; init; }

    public required DateTimeOffset PredictedAt { get; init; }

    /// <summary>When the feedback was received.</summary>
    public required DateTimeOffset Time { get; init; }
}

/// <summary>Reads the feedback of a model received in a time range.</summary>
public sealed class FeedbackReader(PipelineStorage storage)
{
    /// <summary>The feedback received in [<paramref name="from"/>, <paramref name="to"/>), oldest blob first; malformed lines are skipped.</summary>
    public async IAsyncEnumerable<FeedbackEntry> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken ct = default)
    {
        bool Wanted(string name) => MonitoringPaths.FeedbackMinute(name) is { } minute && minute < to && minute.AddMinutes(1) > from;
        await foreach (var entry in DayBlobs.ReadAsync<FeedbackEntry>(storage.Monitoring, day => MonitoringPaths.FeedbackDayPrefix(model, day), from, to, Wanted, ct).ConfigureAwait(false))
        {
            if (entry.Time >= from && entry.Time < to) yield return entry;
        }
    }
}

/// <summary>Reading and writing JSON-lines blobs of records, with <see cref="JsonLines.Options"/>.</summary>
public static class JsonLinesFile
{
    /// <summary>The records of a JSON-lines blob held in memory; lines that are not records of the type (torn or foreign) are skipped.</summary>
    public static List<T> Parse<T>(BinaryData content) where T : class
    {
        var records = new List<T>();
        var lines = new ReadOnlySequence<byte>(content.ToMemory());
        AddLines(ref lines, final: true, records);
        return records;
    }

    /// <summary>
    /// The records of a JSON-lines stream as it is read, a buffer at a time: the memory held is one buffer and the records
    /// of its lines, however long the stream (a prediction log blob of a busy window holds hundreds of megabytes of
    /// lines). Lines that are not records of the type are skipped; a stream that ends in data that cannot be read (a gzip
    /// stream cut short) ends the records there.
    /// </summary>
    public static async IAsyncEnumerable<T> ReadAsync<T>(Stream stream, [EnumeratorCancellation] CancellationToken ct = default) where T : class
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBufferBytes, leaveOpen: true));
        var records = new List<T>();
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(ct).ConfigureAwait(false);
                }
                catch (InvalidDataException)
                {
                    yield break; // not gzip after all, or cut short: what follows is skipped like a malformed line
                }
                var buffer = result.Buffer;
                AddLines(ref buffer, result.IsCompleted, records);
                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var record in records) yield return record;
                records.Clear();
                if (result.IsCompleted) yield break;
            }
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How much of a stream is read at a time (a line longer than this is gathered over several reads).</summary>
    internal const int ReadBufferBytes = 64 << 10;

    /// <summary>Parses the whole lines of <paramref name="buffer"/> (and, when it is <paramref name="final"/>, the last line without its line break) and leaves it at what is left.</summary>
    private static void AddLines<T>(ref ReadOnlySequence<byte> buffer, bool final, List<T> records) where T : class
    {
        var reader = new SequenceReader<byte>(buffer);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n')) Add(line, records);
        if (final && !reader.End)
        {
            Add(reader.UnreadSequence, records);
            reader.AdvanceToEnd();
        }
        buffer = buffer.Slice(reader.Position);
    }

    private static void Add<T>(ReadOnlySequence<byte> line, List<T> records) where T : class
    {
        var span = line.IsSingleSegment ? line.FirstSpan : line.ToArray();
        if (span.Trim((byte)' ').Trim((byte)'\r').IsEmpty) return;
        try
        {
            if (JsonSerializer.Deserialize<T>(span, JsonLines.Options) is { } record) records.Add(record);
        }
        catch (JsonException)
        {
        }
    }

    public static BinaryData Write<T>(IEnumerable<T> records)
    {
        using var stream = new MemoryStream();
        foreach (var record in records)
        {
            JsonSerializer.Serialize(stream, record, JsonLines.Options);
            stream.WriteByte((byte)'\n');
        }
        return new BinaryData(stream.ToArray());
    }
}
