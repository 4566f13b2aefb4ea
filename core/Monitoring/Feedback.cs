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

    /// <summary>
    /// Whether this is the feedback of <paramref name="prediction"/>: the logged prediction it was checked against when it
    /// was received (same request id and row, version and time), not a later one that reused the request id.
    /// </summary>
    public bool Labels(PredictionLogEntry prediction) =>
        prediction.RequestId == RequestId && prediction.Row == Row && prediction.ModelVersion == ModelVersion
        && Math.Abs((prediction.Time - PredictedAt).Ticks) < TimeSpan.TicksPerMillisecond;
}

/// <summary>Reads the feedback of a model received in a time range.</summary>
public sealed class FeedbackReader(PipelineStorage storage)
{
    /// <summary>The feedback received in [<paramref name="from"/>, <paramref name="to"/>), oldest blob first; malformed lines are skipped.</summary>
    public async IAsyncEnumerable<FeedbackEntry> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken ct = default)
    {
        bool Wanted(string name) => MonitoringPaths.FeedbackMinute(name) is { } minute && minute < to && minute.AddMinutes(1) > from;
        await foreach (var entry in DayBlobs.ReadAsync(storage.Monitoring, day => MonitoringPaths.FeedbackDayPrefix(model, day), from, to, Wanted, JsonLinesFile.Deserialize<FeedbackEntry>, ct).ConfigureAwait(false))
        {
            if (entry.Time >= from && entry.Time < to) yield return entry;
        }
    }

    /// <summary>
    /// The label in force of each row labelled in [<paramref name="from"/>, <paramref name="to"/>) (of the requests
    /// <paramref name="wanted"/> names, else all): the latest received, since a row labelled again is relabelled.
    /// </summary>
    public async Task<Dictionary<(string RequestId, int Row), FeedbackEntry>> LatestAsync(string model, DateTimeOffset from, DateTimeOffset to, Func<string, bool>? wanted = null, CancellationToken ct = default)
    {
        var labels = new Dictionary<(string RequestId, int Row), FeedbackEntry>();
        await foreach (var entry in ReadAsync(model, from, to, ct).ConfigureAwait(false))
        {
            if (wanted is not null && !wanted(entry.RequestId)) continue;
            var key = (entry.RequestId, entry.Row);
            if (!labels.TryGetValue(key, out var held) || held.Time <= entry.Time) labels[key] = entry;
        }
        return labels;
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
        TakeLines(ref lines, final: true, line => { if (Deserialize<T>(line) is { } record) records.Add(record); });
        return records;
    }

    /// <summary>
    /// The records of a JSON-lines stream as it is read, a buffer at a time: the memory held is one buffer and the records
    /// of its lines, however long the stream (a prediction log blob of a busy window holds hundreds of megabytes of
    /// lines). Lines that are not records of the type are skipped; a stream that ends in data that cannot be read (a gzip
    /// stream cut short) ends the records there.
    /// </summary>
    public static IAsyncEnumerable<T> ReadAsync<T>(Stream stream, CancellationToken ct = default) where T : class => ReadAsync(stream, Deserialize<T>, ct);

    /// <summary>Makes a record of one line (without its line break), or null to skip the line.</summary>
    public delegate T? LineParser<out T>(ReadOnlySpan<byte> line) where T : class;

    /// <summary>Takes one line (without its line break); the span is valid only during the call.</summary>
    public delegate void LineAction(ReadOnlySpan<byte> line);

    /// <summary>
    /// As <see cref="ReadAsync{T}(Stream, CancellationToken)"/>, each line made a record by <paramref name="parse"/>
    /// (which may look at a line's first fields and skip it before paying for the whole).
    /// </summary>
    public static async IAsyncEnumerable<T> ReadAsync<T>(Stream stream, LineParser<T> parse, [EnumeratorCancellation] CancellationToken ct = default) where T : class
    {
        var records = new List<T>();
        await foreach (var _ in ReadBuffersAsync(stream, line => { if (parse(line) is { } record) records.Add(record); }, ct).ConfigureAwait(false))
        {
            foreach (var record in records) yield return record;
            records.Clear();
        }
    }

    /// <summary>Hands each line of the stream to <paramref name="action"/> as it is read, a buffer at a time, with no record made.</summary>
    public static async Task ForEachLineAsync(Stream stream, LineAction action, CancellationToken ct = default)
    {
        await foreach (var _ in ReadBuffersAsync(stream, action, ct).ConfigureAwait(false))
        {
        }
    }

    /// <summary>
    /// Reads the stream a buffer at a time, hands the buffer's whole lines to <paramref name="action"/>, and yields after
    /// each buffer; a stream that ends in data that cannot be read (a gzip stream cut short) ends there.
    /// </summary>
    private static async IAsyncEnumerable<int> ReadBuffersAsync(Stream stream, LineAction action, [EnumeratorCancellation] CancellationToken ct)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBufferBytes, leaveOpen: true));
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
                var lines = TakeLines(ref buffer, result.IsCompleted, action);
                reader.AdvanceTo(buffer.Start, buffer.End);
                yield return lines;
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

    /// <summary>
    /// Hands the whole lines of <paramref name="buffer"/> (and, when it is <paramref name="final"/>, the last line without
    /// its line break) to <paramref name="action"/>, skipping blank ones, and leaves the buffer at what is left. Returns the lines handed.
    /// </summary>
    private static int TakeLines(ref ReadOnlySequence<byte> buffer, bool final, LineAction action)
    {
        var reader = new SequenceReader<byte>(buffer);
        var lines = 0;
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n')) lines += Take(line, action);
        if (final && !reader.End)
        {
            lines += Take(reader.UnreadSequence, action);
            reader.AdvanceToEnd();
        }
        buffer = buffer.Slice(reader.Position);
        return lines;
    }

    private static int Take(ReadOnlySequence<byte> line, LineAction action)
    {
        var span = line.IsSingleSegment ? line.FirstSpan : line.ToArray();
        if (span.Trim((byte)' ').Trim((byte)'\r').IsEmpty) return 0;
        action(span);
        return 1;
    }

    /// <summary>The line as a record of the type, or null for a line that is not one (torn or foreign).</summary>
    public static T? Deserialize<T>(ReadOnlySpan<byte> line) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(line, JsonLines.Options);
        }
        catch (JsonException)
        {
            return null;
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
