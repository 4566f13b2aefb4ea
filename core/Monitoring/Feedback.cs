using System.Globalization;
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
        await foreach (var content in DayBlobs.ReadAsync(storage.Monitoring, day => MonitoringPaths.FeedbackDayPrefix(model, day), from, to, Wanted, ct).ConfigureAwait(false))
        {
            foreach (var entry in JsonLinesFile.Parse<FeedbackEntry>(content))
            {
                if (entry.Time >= from && entry.Time < to) yield return entry;
            }
        }
    }
}

/// <summary>Reading and writing JSON-lines blobs of records, with <see cref="JsonLines.Options"/>.</summary>
public static class JsonLinesFile
{
    /// <summary>The records of a JSON-lines blob; lines that are not records of the type (torn or foreign) are skipped.</summary>
    public static List<T> Parse<T>(BinaryData content) where T : class
    {
        var text = content.ToMemory();
        var records = new List<T>();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.Span[start..].IndexOf((byte)'\n');
            var line = end < 0 ? text[start..] : text.Slice(start, end);
            start = end < 0 ? text.Length : start + end + 1;
            if (line.Span.Trim((byte)' ').Trim((byte)'\r').IsEmpty) continue;
            try
            {
                if (JsonSerializer.Deserialize<T>(line.Span, JsonLines.Options) is { } record) records.Add(record);
            }
            catch (JsonException)
            {
            }
        }
        return records;
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
