using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Serverless.Core.Serving;
using Serverless.Core.Storage;

namespace Serverless.Core.Monitoring;

/// <summary>
/// One logged prediction, one line of a prediction log blob (JSON lines): the request's id and the row's index in it,
/// when it was answered, the version that answered, the row's input fields as they came (sensitive columns left out),
/// the answer, and, where a shadow version scored the row too, the shadow's version and answer.
/// </summary>
public sealed record PredictionLogEntry
{
    public required string RequestId { get; init; }

    /// <summary>The row's index within its request (0 for a single-object request).</summary>
    public required int Row { get; init; }

    public required DateTimeOffset Time { get; init; }

    public required string ModelVersion { get; init; }

    /// <summary>The row's fields as the request sent them (numbers, strings, booleans, null), sensitive columns left out; read back as one element (<see cref="JsonObjectFields"/>).</summary>
    [JsonConverter(typeof(JsonObjectFields.Converter))]
    public required IReadOnlyDictionary<string, JsonElement> Inputs { get; init; }

    public required RowPrediction Output { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ShadowVersion { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RowPrediction? ShadowOutput { get; init; }
}

/// <summary>
/// Where monitoring data lives in the monitoring container. Prediction logs: one blob per model, time window, version and
/// writer, named so that a time range is a set of date prefixes:
/// <c>{model}/predictions/{yyyy-MM-dd}/{HHmm}/{version}-{writer}-{sequence}.jsonl.gz</c>, where the window start is in UTC
/// (<c>.jsonl</c> when <see cref="PredictionLogOptions.Compress"/> is off).
/// </summary>
public static class MonitoringPaths
{
    public const string Predictions = "predictions";
    public const string Drift = "drift";
    public const string Feedback = "feedback";

    public static string PredictionLogPrefix(string model) => $"{model}/{Predictions}/";

    public static string PredictionLogDayPrefix(string model, DateOnly day) =>
        $"{PredictionLogPrefix(model)}{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/";

    /// <summary>The blob of one writer's entries of one version in the window that starts at <paramref name="windowStart"/>.</summary>
    public static string PredictionLogBlob(string model, string version, DateTimeOffset windowStart, string writer, int sequence, bool compressed)
    {
        var start = windowStart.UtcDateTime;
        return $"{PredictionLogDayPrefix(model, DateOnly.FromDateTime(start))}{start.ToString("HHmm", CultureInfo.InvariantCulture)}/" +
               $"{version}-{writer}-{sequence.ToString("D6", CultureInfo.InvariantCulture)}{(compressed ? JsonLinesGzipExtension : JsonLinesExtension)}";
    }

    /// <summary>The extension of a JSON-lines blob.</summary>
    public const string JsonLinesExtension = ".jsonl";

    /// <summary>The extension of a gzip-compressed JSON-lines blob: whole gzip members in each append, together one valid gzip file.</summary>
    public const string JsonLinesGzipExtension = ".jsonl.gz";

    /// <summary>
    /// The text of a monitoring blob as a stream over the stored bytes (which it owns): decompressed as it is read when the
    /// name says gzip (GZipStream reads every member of a multi-member file, one per append, as one stream), else as it is.
    /// </summary>
    public static Stream OpenContent(string blobName, Stream stored) =>
        blobName.EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(stored, System.IO.Compression.CompressionMode.Decompress) : stored;

    /// <summary>The window start a prediction log blob's name holds; null for a name not in the layout.</summary>
    public static DateTimeOffset? PredictionLogWindow(string blobName) => MinuteOf(blobName, Predictions);

    public static string FeedbackPrefix(string model) => $"{model}/{Feedback}/";

    public static string FeedbackDayPrefix(string model, DateOnly day) => $"{FeedbackPrefix(model)}{day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}/";

    /// <summary>
    /// The blob of one feedback request: <c>{model}/feedback/{yyyy-MM-dd}/{HHmm}/{writer}-{id}.jsonl</c>, where the minute
    /// (UTC) is the one it was received in.
    /// </summary>
    public static string FeedbackBlob(string model, DateTimeOffset received, string writer, string id)
    {
        var time = received.UtcDateTime;
        return $"{FeedbackDayPrefix(model, DateOnly.FromDateTime(time))}{time.ToString("HHmm", CultureInfo.InvariantCulture)}/{writer}-{id}.jsonl";
    }

    /// <summary>The minute a feedback blob's name holds; null for a name not in the layout.</summary>
    public static DateTimeOffset? FeedbackMinute(string blobName) => MinuteOf(blobName, Feedback);

    /// <summary>The minute <c>{model}/{kind}/{yyyy-MM-dd}/{HHmm}/{file}</c> names; null for another layout or kind.</summary>
    private static DateTimeOffset? MinuteOf(string blobName, string kind)
    {
        var parts = blobName.Split('/');
        if (parts.Length != 5 || parts[1] != kind) return null;
        return DateTimeOffset.TryParseExact($"{parts[2]} {parts[3]}", "yyyy-MM-dd HHmm", CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var start)
            ? start
            : null;
    }
}

/// <summary>Reads prediction log entries of a model in a time range, oldest window first.</summary>
public sealed class PredictionLogReader(PipelineStorage storage)
{
    /// <summary>
    /// The entries logged for <paramref name="model"/> in windows that start within [<paramref name="from"/>, <paramref name="to"/>)
    /// (entries are filtered by their own time too), optionally of one version, and optionally only those whose request
    /// id and row <paramref name="keep"/> accepts: a line is then parsed whole only when its first fields pass. A
    /// malformed line is skipped, not thrown.
    /// </summary>
    public async IAsyncEnumerable<PredictionLogEntry> ReadAsync(string model, DateTimeOffset from, DateTimeOffset to, string? version = null,
        Func<string, int, bool>? keep = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        JsonLinesFile.LineParser<PredictionLogEntry> parse = keep is null ? JsonLinesFile.Deserialize<PredictionLogEntry> : line =>
        {
            Span<char> id = stackalloc char[MaxHeadIdChars];
            return ReadLine(line, from, to, id, [], out var idLength, out var row, out _, out var whole) switch
            {
                LineRead.Head => keep(new string(id[..idLength]), row) ? JsonLinesFile.Deserialize<PredictionLogEntry>(line) : null,
                LineRead.Whole => whole,
                _ => null,
            };
        };
        await foreach (var entry in DayBlobs.ReadAsync(storage.Monitoring, day => MonitoringPaths.PredictionLogDayPrefix(model, day), from, to,
            name => Wanted(name, to, version), parse, ct).ConfigureAwait(false))
        {
            if (entry.Time >= from && entry.Time < to && (version is null || entry.ModelVersion == version) && (keep is null || keep(entry.RequestId, entry.Row))) yield return entry;
        }
    }

    /// <summary>
    /// Counts every entry logged for <paramref name="model"/> in [<paramref name="from"/>, <paramref name="to"/>) by the
    /// version that answered it, into <paramref name="perVersion"/> (a dictionary with an ordinal comparer), from each
    /// line's first fields; and gives whole only the entries whose request id and row <paramref name="keep"/> accepts
    /// or that carry a shadow answer. What a model's live metrics need from a day of logged rows, without parsing each.
    /// </summary>
    public async IAsyncEnumerable<PredictionLogEntry> ReadCountedAsync(string model, DateTimeOffset from, DateTimeOffset to, Func<string, int, bool> keep,
        Dictionary<string, long> perVersion, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var counts = perVersion.GetAlternateLookup<ReadOnlySpan<char>>();
        JsonLinesFile.LineParser<PredictionLogEntry> parse = line =>
        {
            Span<char> id = stackalloc char[MaxHeadIdChars];
            Span<char> version = stackalloc char[MaxHeadIdChars];
            switch (ReadLine(line, from, to, id, version, out var idLength, out var row, out var versionLength, out var whole))
            {
                case LineRead.Head:
                    counts[version[..versionLength]] = counts.TryGetValue(version[..versionLength], out var n) ? n + 1 : 1;
                    return keep(new string(id[..idLength]), row) || line.IndexOf(ShadowMarker) >= 0 ? JsonLinesFile.Deserialize<PredictionLogEntry>(line) : null;
                case LineRead.Whole:
                    perVersion[whole!.ModelVersion] = perVersion.GetValueOrDefault(whole.ModelVersion) + 1;
                    return whole;
                default:
                    return null;
            }
        };
        await foreach (var entry in DayBlobs.ReadAsync(storage.Monitoring, day => MonitoringPaths.PredictionLogDayPrefix(model, day), from, to,
            name => Wanted(name, to, version: null), parse, ct).ConfigureAwait(false))
        {
            yield return entry;
        }
    }

    /// <summary>The shadow version's field name as a line holds it: a line without it has no shadow answer.</summary>
    private static readonly byte[] ShadowMarker = [(byte)'"', .. PredictionLogEncoder.ShadowVersionName.EncodedUtf8Bytes, (byte)'"'];

    /// <summary>
    /// A deterministic sample of at most <paramref name="capacity"/> entries logged for <paramref name="model"/> in
    /// [<paramref name="from"/>, <paramref name="to"/>), keyed by <see cref="SampleHash"/>, as their lines, and how many
    /// entries the range holds: what <see cref="ReadAsync"/> and an offer of each entry to a <see cref="DeterministicSample{T}"/>
    /// give, without parsing every line. Each line's first fields (request id, row, time) are read; a line the sample
    /// admits is kept as its bytes, the rest only counted. A busy window logs millions of rows of which a drift check
    /// keeps 100,000, and reads only the columns it compares from those (<see cref="LoggedColumns"/>). (A line whose first
    /// fields read but whose rest is no entry would be counted; the writer writes none.)
    /// </summary>
    public async Task<DeterministicSample<byte[]>> SampleAsync(string model, DateTimeOffset from, DateTimeOffset to, int capacity, CancellationToken ct, string? version = null)
    {
        var sample = new DeterministicSample<byte[]>(capacity);
        var offer = SampleLine(from, to, sample);
        await foreach (var text in DayBlobs.OpenAsync(storage.Monitoring, day => MonitoringPaths.PredictionLogDayPrefix(model, day), from, to,
            name => Wanted(name, to, version), ct).ConfigureAwait(false))
        {
            await using (text) await JsonLinesFile.ForEachLineAsync(text, offer, ct).ConfigureAwait(false);
        }
        return sample;
    }

    /// <summary>The key a logged row is sampled by: its request id and its row in the request.</summary>
    public static ulong SampleHash(ReadOnlySpan<char> requestId, int row) => DeterministicSample<byte[]>.Hash(requestId, row);

    /// <summary>
    /// Offers a line to the sample of <see cref="SampleAsync"/> when its time is in range: a copy of its bytes when the
    /// sample admits it, else only counted (<see cref="DeterministicSample{T}.Pass"/>). A line whose first fields cannot
    /// be read so is parsed whole, and offered when it is an entry.
    /// </summary>
    internal static JsonLinesFile.LineAction SampleLine(DateTimeOffset from, DateTimeOffset to, DeterministicSample<byte[]> sample) => line =>
    {
        Span<char> id = stackalloc char[MaxHeadIdChars];
        ulong hash;
        switch (ReadLine(line, from, to, id, [], out var idLength, out var row, out _, out var whole))
        {
            case LineRead.Head:
                hash = SampleHash(id[..idLength], row);
                break;
            case LineRead.Whole:
                hash = SampleHash(whole!.RequestId, whole.Row);
                break;
            default:
                return;
        }
        if (sample.Admits(hash)) sample.Offer(hash, line.ToArray());
        else sample.Pass();
    };

    /// <summary>How <see cref="ReadLine"/> read a line.</summary>
    private enum LineRead
    {
        /// <summary>Not an entry, or one whose time is outside the range: skipped.</summary>
        OutOfRange,
        /// <summary>In range, read from its first fields (<see cref="TryReadHead(ReadOnlySpan{byte}, Span{char}, out int, out int, out DateTimeOffset, Span{char}, out int)"/>).</summary>
        Head,
        /// <summary>In range, parsed whole: its first fields could not be read so.</summary>
        Whole,
    }

    /// <summary>
    /// A line of the log read for the range [<paramref name="from"/>, <paramref name="to"/>): its request id, row (and
    /// version, when <paramref name="version"/> has room) from its first fields, or else the whole entry parsed. What the
    /// readers of many lines share; each then parses whole only the lines it needs.
    /// </summary>
    private static LineRead ReadLine(ReadOnlySpan<byte> line, DateTimeOffset from, DateTimeOffset to, Span<char> id, Span<char> version,
        out int idLength, out int row, out int versionLength, out PredictionLogEntry? whole)
    {
        whole = null;
        if (TryReadHead(line, id, out idLength, out row, out var time, version, out versionLength))
        {
            return time >= from && time < to ? LineRead.Head : LineRead.OutOfRange;
        }
        whole = JsonLinesFile.Deserialize<PredictionLogEntry>(line);
        return whole is { } entry && entry.Time >= from && entry.Time < to ? LineRead.Whole : LineRead.OutOfRange;
    }

    /// <summary>Request ids longer than this are read by the whole parse (the API's own are 32 characters).</summary>
    private const int MaxHeadIdChars = 256;

    /// <summary>
    /// An entry's request id, row and time, read from the line's top-level fields until the three are found (the encoder
    /// writes them first); false when the line is not an object holding the three, or the id does not fit <paramref name="id"/>.
    /// </summary>
    internal static bool TryReadHead(ReadOnlySpan<byte> line, Span<char> id, out int idLength, out int row, out DateTimeOffset time) =>
        TryReadHead(line, id, out idLength, out row, out time, [], out _);

    /// <summary>
    /// As <see cref="TryReadHead(ReadOnlySpan{byte}, Span{char}, out int, out int, out DateTimeOffset)"/>, and the
    /// answering version too when <paramref name="version"/> has room (it comes fourth).
    /// </summary>
    internal static bool TryReadHead(ReadOnlySpan<byte> line, Span<char> id, out int idLength, out int row, out DateTimeOffset time,
        Span<char> version, out int versionLength)
    {
        (idLength, row, time, versionLength) = (-1, 0, default, version.IsEmpty ? 0 : -1);
        bool hasRow = false, hasTime = false;
        var reader = new Utf8JsonReader(line);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals(PredictionLogEncoder.RequestIdName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > id.Length) return false;
                    idLength = reader.CopyString(id);
                }
                else if (reader.ValueTextEquals(PredictionLogEncoder.RowName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out row)) return false;
                    hasRow = true;
                }
                else if (reader.ValueTextEquals(PredictionLogEncoder.TimeName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out time)) return false;
                    hasTime = true;
                }
                else if (!version.IsEmpty && reader.ValueTextEquals(PredictionLogEncoder.ModelVersionName.EncodedUtf8Bytes))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.String || reader.ValueSpan.Length > version.Length) return false;
                    versionLength = reader.CopyString(version);
                }
                else if (!reader.Read() || !reader.TrySkip())
                {
                    return false;
                }
                if (idLength >= 0 && hasRow && hasTime && versionLength >= 0) return true;
            }
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether a prediction log blob may hold entries before <paramref name="to"/> of <paramref name="version"/> (null: any).
    /// A window that started before the range's start may still hold entries in it: entries are filtered by their own time.
    /// </summary>
    private static bool Wanted(string name, DateTimeOffset to, string? version) =>
        MonitoringPaths.PredictionLogWindow(name) is { } window && window < to
        && (version is null || Path.GetFileName(name).StartsWith(version + "-", StringComparison.Ordinal));

    /// <summary>The entries of one JSON-lines blob; lines that are not entries are skipped.</summary>
    public static IEnumerable<PredictionLogEntry> Parse(BinaryData content) => JsonLinesFile.Parse<PredictionLogEntry>(content);
}

/// <summary>The blobs of monitoring data kept under one prefix per day (prediction logs, feedback).</summary>
internal static class DayBlobs
{
    /// <summary>
    /// The records of the blobs under the day prefixes from <paramref name="from"/>'s day to <paramref name="to"/>'s, in
    /// name order within a day, that <paramref name="wanted"/> keeps, each blob read as it downloads (decompressed as it
    /// comes when its name says gzip), never held whole; blobs gone since the listing are skipped, and a missing
    /// container is no blobs.
    /// </summary>
    public static async IAsyncEnumerable<T> ReadAsync<T>(BlobContainerClient container, Func<DateOnly, string> dayPrefix, DateTimeOffset from,
        DateTimeOffset to, Func<string, bool> wanted, JsonLinesFile.LineParser<T> parse, [EnumeratorCancellation] CancellationToken ct) where T : class
    {
        await foreach (var text in OpenAsync(container, dayPrefix, from, to, wanted, ct).ConfigureAwait(false))
        {
            await using (text)
            {
                await foreach (var record in JsonLinesFile.ReadAsync(text, parse, ct).ConfigureAwait(false)) yield return record;
            }
        }
    }

    /// <summary>The text of each blob <see cref="ReadAsync{T}"/> reads, in its order, as a stream over the download (the caller disposes it).</summary>
    public static async IAsyncEnumerable<Stream> OpenAsync(BlobContainerClient container, Func<DateOnly, string> dayPrefix, DateTimeOffset from,
        DateTimeOffset to, Func<string, bool> wanted, [EnumeratorCancellation] CancellationToken ct)
    {
        for (var day = DateOnly.FromDateTime(from.UtcDateTime); day <= DateOnly.FromDateTime(to.UtcDateTime); day = day.AddDays(1))
        {
            var names = new List<string>();
            try
            {
                await foreach (var item in container.GetBlobsAsync(BlobTraits.None, BlobStates.None, dayPrefix(day), ct).ConfigureAwait(false))
                {
                    if (wanted(item.Name)) names.Add(item.Name);
                }
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound)
            {
                yield break;
            }
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names)
            {
                Stream stored;
                try
                {
                    // One GET, read as it comes: the blob as it stood when the download began, appends after it not seen.
                    stored = (await container.GetBlobClient(name).DownloadStreamingAsync(cancellationToken: ct).ConfigureAwait(false)).Value.Content;
                }
                catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound)
                {
                    continue;
                }
                yield return MonitoringPaths.OpenContent(name, stored);
            }
        }
    }
}

/// <summary>The serializer options of JSON-lines blobs: the blobs' camelCase, on one line.</summary>
public static class JsonLines
{
    public static readonly JsonSerializerOptions Options = new(JsonBlobs.Options) { WriteIndented = false };
}
