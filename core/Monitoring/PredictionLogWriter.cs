using System.Buffers;
using System.Diagnostics;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Storage;

namespace Serverless.Core.Monitoring;

/// <summary>
/// Writes the prediction log, off the request path: takes sampled requests from <see cref="PredictionLogBuffer"/>,
/// scores them with the staging version where the model's spec turns shadow on, encodes one JSON line per row (sensitive
/// columns left out) and appends them in batches, every <see cref="PredictionLogOptions.FlushInterval"/> or when a block
/// fills, to one append blob per model, version, time window and writer (<see cref="MonitoringPaths.PredictionLogBlob"/>).
/// Append blobs, because a batch is then one request to storage, readers see only whole batches (whole lines), and a
/// window's entries stay in one blob instead of one blob per batch; each writer (host process) has blobs of its own, so
/// appends never race. What is buffered is written when the host stops.
/// </summary>
public sealed class PredictionLogWriter(
    PredictionLogBuffer buffer,
    PredictionService predictions,
    PipelineStorage storage,
    IOptions<PredictionLogOptions> options,
    IOptions<PredictionOptions> serving,
    ILogger<PredictionLogWriter> logger) : BackgroundService
{
    /// <summary>A batch of plain lines is appended as soon as it holds this much.</summary>
    private const int BlockBytes = 1 << 20;

    /// <summary>
    /// When the log is compressed, a batch's lines become a gzip member as soon as they reach this much: the compression
    /// runs in slices of a millisecond or two as requests come, on lines still in the cache, instead of in one burst
    /// over megabytes that holds a core for tens of milliseconds (which the requests of that moment wait for). Tests make it smaller.
    /// </summary>
    internal int MemberLines { get; init; } = DefaultMemberLines;

    internal const int DefaultMemberLines = 256 << 10;

    /// <summary>
    /// A compressed batch is appended as soon as its gzip members hold this much (JSON lines shrink to a sixth or a tenth,
    /// so about 6 to 10 MiB of lines): storage sees about one append a second however busy the host is. Each append has a
    /// fixed cost to storage besides its bytes (about 2.6 ms of Azurite's CPU in the serving benchmark), so fewer and
    /// larger is cheaper. Tests make it smaller.
    /// </summary>
    internal int CompressedBlockBytes { get; init; } = DefaultCompressedBlockBytes;

    internal const int DefaultCompressedBlockBytes = 1 << 20;

    /// <summary>The service's limit for one append block.</summary>
    internal const int AppendLimit = 4 << 20;

    /// <summary>The most one append may carry (<see cref="AppendLimit"/>; tests make it smaller); a larger gzip member is split.</summary>
    internal int MaxAppendBytes { get; init; } = AppendLimit;

    /// <summary>A blob takes at most 50,000 appends; the writer moves to the next sequence number before that.</summary>
    private const int MaxBlocksPerBlob = 49_000;

    /// <summary>
    /// How long the writer lets requests gather between reads of the buffer while entries wait to be written: short, so
    /// that queued requests are encoded (and their objects die) before a garbage collection promotes them.
    /// </summary>
    private static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(10);

    private readonly PredictionLogOptions _options = options.Value;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(string Model, string Version, DateTimeOffset Window), Batch> _batches = [];
    private readonly Dictionary<string, DateTime> _noShadowUntil = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _scratch = new();
    private Utf8JsonWriter? _json;
    private int _unwritten;
    private bool _monitoringChecked;

    /// <summary>This writer's name in its blobs: random per process, so two hosts (or a restarted one) never append to one blob.</summary>
    public string WriterId { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>Writes everything taken so far (the buffer drained, every batch appended). For tests, and for feedback that arrives before the next flush.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await DrainAsync(ct).ConfigureAwait(false);
            await WriteAllAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        buffer.Complete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var counts = buffer.Counts;
        logger.LogInformation("Prediction log flushed at stop: {Written} entries written, {Failed} failed, {Dropped} requests dropped", counts.WrittenEntries, counts.FailedEntries, counts.Dropped);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = buffer.Reader;
        var lastWrite = Stopwatch.GetTimestamp();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (_unwritten == 0)
                {
                    // Nothing waits to be written: sleep until a request comes.
                    if (!await reader.WaitToReadAsync(stoppingToken).ConfigureAwait(false)) return;
                }
                else
                {
                    var left = _options.FlushInterval - Stopwatch.GetElapsedTime(lastWrite);
                    if (left > TimeSpan.Zero) await Task.Delay(left < DrainInterval ? left : DrainInterval, stoppingToken).ConfigureAwait(false);
                }
                await _gate.WaitAsync(stoppingToken).ConfigureAwait(false);
                try
                {
                    // Not cancelled by the stop: an append cut short would lose its batch; StopAsync waits for this one to end.
                    await DrainAsync(CancellationToken.None).ConfigureAwait(false);
                    if (Stopwatch.GetElapsedTime(lastWrite) >= _options.FlushInterval)
                    {
                        await WriteAllAsync(CancellationToken.None).ConfigureAwait(false);
                        lastWrite = Stopwatch.GetTimestamp();
                    }
                }
                catch (Exception e)
                {
                    // A background service that throws stops the host, and with it serving: the log is never worth that.
                    // Appends count what they lose themselves; what is still in a batch is tried again after a flush interval.
                    logger.LogError(e, "The prediction log's writer failed a pass; it goes on");
                    lastWrite = Stopwatch.GetTimestamp();
                }
                finally
                {
                    _gate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync writes what is left.
        }
    }

    /// <summary>Encodes every request waiting in the buffer into its batch; appends batches that filled a block. Call holding the gate.</summary>
    private async Task DrainAsync(CancellationToken ct)
    {
        while (buffer.Reader.TryRead(out var pending))
        {
            try
            {
                // Shadow scoring is the only part that may wait; a request without it is encoded with no await.
                var shadow = pending.Production && pending.Settings.Shadow ? await ShadowAsync(pending, ct).ConfigureAwait(false) : default;
                if (Encode(pending, shadow.Version, shadow.Outputs) is { } full) await AppendAsync(full, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // One request that cannot be written must not stop the writer (a failed background service stops the host).
                // A cancellation is the stop (or the flushing caller giving up) only when ct says so: the writer's own passes
                // drain with CancellationToken.None, so one there is a timeout (storage's network timeout), and the request is
                // lost like any other that cannot be written, not lost uncounted in the pass's catch.
                buffer.CountFailed(pending.Rows.Length);
                logger.LogWarning(e, "Could not log request {RequestId} of {ModelName}", pending.RequestId, pending.Model);
            }
        }
    }

    /// <summary>
    /// Adds a request's lines to its batch: all of them, or (when one cannot be encoded) none. Returns the batch when it
    /// is to be appended now (it filled a block), else null.
    /// </summary>
    private Batch? Encode(PendingPrediction pending, string? shadowVersion, IReadOnlyList<RowPrediction>? shadowOutputs)
    {
        var window = WindowOf(pending.Time);
        var key = (pending.Model, pending.Manifest.Version, window);
        if (!_batches.TryGetValue(key, out var batch)) _batches[key] = batch = new Batch(pending.Model, pending.Manifest.Version, window);
        if (!ReferenceEquals(batch.Settings, pending.Settings))
        {
            batch.Settings = pending.Settings;
            batch.Sensitive = Sensitive(pending);
        }
        _scratch.ResetWrittenCount();
        _json ??= new Utf8JsonWriter(_scratch, PredictionLogEncoder.WriterOptions);
        for (var r = 0; r < pending.Rows.Length; r++)
        {
            PredictionLogEncoder.WriteLine(_json, _scratch, pending.RequestId, r, pending.Time, pending.Manifest.Version, pending.Rows[r], batch.Sensitive,
                pending.Outputs[r], shadowVersion, shadowOutputs?[r]);
        }
        batch.Buffer.Write(_scratch.WrittenSpan);
        batch.Entries += pending.Rows.Length;
        _unwritten += pending.Rows.Length;
        if (!_options.Compress) return batch.Buffer.WrittenCount >= BlockBytes ? batch : null;
        if (batch.Buffer.WrittenCount >= MemberLines) CompressLines(batch);
        return batch.Compressed.Length >= CompressedBlockBytes ? batch : null;
    }

    /// <summary>The columns never logged: the version's sensitive columns and the spec's (which may have grown since training).</summary>
    private static IReadOnlySet<string> Sensitive(PendingPrediction pending)
    {
        if (pending.Manifest.Schema.Sensitive.Count == 0) return pending.Settings.Sensitive;
        var set = new HashSet<string>(pending.Settings.Sensitive, StringComparer.Ordinal);
        set.UnionWith(pending.Manifest.Schema.Sensitive);
        return set;
    }

    /// <summary>
    /// The staging version's answers to a production request whose spec turns shadow on (the caller checks both), when
    /// staging is another version; rows staging cannot read (its schema differs) get its version and no answer.
    /// </summary>
    private async Task<(string? Version, IReadOnlyList<RowPrediction>? Outputs)> ShadowAsync(PendingPrediction pending, CancellationToken ct)
    {
        if (_noShadowUntil.TryGetValue(pending.Model, out var until) && DateTime.UtcNow < until) return default;
        LoadedModel staging;
        try
        {
            staging = await predictions.GetAsync(pending.Model, new ModelSelector(Alias: ModelRegistry.Staging), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NotFoundException or ConflictException or ModelUnavailableException or RequestFailedException
                                      || (StorageUnreachable.Is(e) && !ct.IsCancellationRequested))
        {
            // No staging version (or none servable, or storage did not answer): asked again after the refresh interval, not per
            // request. An outage is one too (the SDK's retries given up, or its network timeout): the request is logged with
            // production's answer, and the next ones do not each wait through the retries again, holding up the writer. A
            // cancellation of ct is not one: it is the stop, or the flushing caller giving up, and goes on to them.
            _noShadowUntil[pending.Model] = DateTime.UtcNow + serving.Value.RefreshInterval;
            return default;
        }
        if (staging.Version == pending.Manifest.Version) return default;
        var documents = new JsonDocument[pending.Rows.Length];
        try
        {
            for (var r = 0; r < documents.Length; r++) documents[r] = JsonDocument.Parse(pending.Rows[r]);
            var outputs = staging.Predict([.. documents.Select(d => d.RootElement)]);
            Interlocked.Increment(ref buffer.ShadowScored);
            return (staging.Version, outputs);
        }
        catch (BadRequestException)
        {
            Interlocked.Increment(ref buffer.ShadowFailed);
            return (staging.Version, null);
        }
        finally
        {
            foreach (var document in documents) document?.Dispose();
        }
    }

    private DateTimeOffset WindowOf(DateTimeOffset time)
    {
        var window = TimeSpan.FromMinutes(_options.WindowMinutes()).Ticks;
        var utc = time.UtcTicks;
        return new DateTimeOffset(utc - utc % window, TimeSpan.Zero);
    }

    /// <summary>Appends every batch that holds entries, and forgets the blobs of windows that have passed. Call holding the gate.</summary>
    private async Task WriteAllAsync(CancellationToken ct)
    {
        foreach (var batch in _batches.Values.ToList())
        {
            if (batch.Entries > 0) await AppendAsync(batch, ct).ConfigureAwait(false);
        }
        var current = WindowOf(DateTimeOffset.UtcNow);
        foreach (var key in _batches.Keys.Where(k => k.Window < current).ToList()) _batches.Remove(key);
    }

    /// <summary>One append of a batch's lines to its blob; a failure is logged and its entries counted as failed, never retried forever.</summary>
    private async Task AppendAsync(Batch batch, CancellationToken ct)
    {
        var entries = batch.Entries;
        try
        {
            if (batch.Blocks >= MaxBlocksPerBlob)
            {
                batch.Sequence++;
                batch.Blocks = 0;
                batch.Created = false;
            }
            var blob = storage.Monitoring.GetAppendBlobClient(
                MonitoringPaths.PredictionLogBlob(batch.Model, batch.Version, batch.Window, WriterId, batch.Sequence, _options.Compress));
            if (!batch.Created)
            {
                await EnsureContainerAsync(ct).ConfigureAwait(false);
                var type = _options.Compress ? "application/gzip" : "application/x-ndjson";
                await blob.CreateIfNotExistsAsync(new AppendBlobCreateOptions { HttpHeaders = new BlobHttpHeaders { ContentType = type } }, ct).ConfigureAwait(false);
                batch.Created = true;
            }
            batch.Blocks += _options.Compress
                ? await AppendMembersAsync(blob, batch, ct).ConfigureAwait(false)
                : await AppendLinesAsync(blob, batch.Buffer.WrittenMemory, ct).ConfigureAwait(false);
            Interlocked.Add(ref buffer.WrittenEntries, entries);
        }
        catch (Exception e)
        {
            // Whatever failed, the finally below lets go of the batch, so its entries are counted here: the Azure SDK throws an
            // AggregateException once its retries run out (storage unreachable), not only RequestFailedException.
            batch.Created = false;
            // Storage may have come back without the container (an emulator restarted in memory): checked again at the next append.
            _monitoringChecked = false;
            buffer.CountFailed(entries);
            logger.LogWarning(e, "Could not append {Entries} prediction log entries of {ModelName} {ModelVersion}; they are lost", entries, batch.Model, batch.Version);
        }
        finally
        {
            batch.Buffer.ResetWrittenCount();
            batch.Compressed.SetLength(0);
            batch.Compressed.Position = 0;
            batch.MemberEnds.Clear();
            _unwritten -= entries;
            batch.Entries = 0;
        }
    }

    /// <summary>The batch's lines not yet compressed, made into gzip members at the end of its compressed block.</summary>
    private void CompressLines(Batch batch)
    {
        AddMembers(batch, batch.Buffer.WrittenMemory);
        batch.Buffer.ResetWrittenCount();
    }

    /// <summary>
    /// Lines as one gzip member (a blob of members one after another is one valid gzip file); lines whose member would not
    /// fit one append (data that hardly compresses) become two members, split at a line break.
    /// </summary>
    private void AddMembers(Batch batch, ReadOnlyMemory<byte> lines)
    {
        if (lines.IsEmpty) return;
        var start = batch.Compressed.Length;
        using (var gzip = new GZipStream(batch.Compressed, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(lines.Span);
        if (batch.Compressed.Length - start > MaxAppendBytes && lines.Span[..(lines.Length / 2)].LastIndexOf((byte)'\n') is var cut and >= 0)
        {
            batch.Compressed.SetLength(start);
            batch.Compressed.Position = start;
            AddMembers(batch, lines[..(cut + 1)]);
            AddMembers(batch, lines[(cut + 1)..]);
            return;
        }
        batch.MemberEnds.Add((int)batch.Compressed.Length);
    }

    /// <summary>
    /// Appends a compressed batch: its lines not yet compressed are made members first, then the members go in as few
    /// appends as fit <see cref="MaxAppendBytes"/>, each of whole members. Returns the number of appends.
    /// </summary>
    private async Task<int> AppendMembersAsync(AppendBlobClient blob, Batch batch, CancellationToken ct)
    {
        CompressLines(batch);
        var data = batch.Compressed.GetBuffer();
        int appends = 0, from = 0, last = 0;
        foreach (var end in batch.MemberEnds)
        {
            if (end - from > MaxAppendBytes && last > from)
            {
                await AppendBlockAsync(blob, new ArraySegment<byte>(data, from, last - from), ct).ConfigureAwait(false);
                appends++;
                from = last;
            }
            last = end;
        }
        if (last > from)
        {
            await AppendBlockAsync(blob, new ArraySegment<byte>(data, from, last - from), ct).ConfigureAwait(false);
            appends++;
        }
        return appends;
    }

    private static async Task AppendBlockAsync(AppendBlobClient blob, ArraySegment<byte> block, CancellationToken ct)
    {
        using var content = new MemoryStream(block.Array!, block.Offset, block.Count, writable: false);
        await blob.AppendBlockAsync(content, cancellationToken: ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Appends whole lines as they are (the log uncompressed); lines that do not fit one append go as two halves, split at a
    /// line break. Returns the number of appends.
    /// </summary>
    private async Task<int> AppendLinesAsync(AppendBlobClient blob, ReadOnlyMemory<byte> lines, CancellationToken ct)
    {
        if (lines.Length > MaxAppendBytes && lines.Span[..(lines.Length / 2)].LastIndexOf((byte)'\n') is var cut and >= 0)
        {
            var first = await AppendLinesAsync(blob, lines[..(cut + 1)], ct).ConfigureAwait(false);
            return first + await AppendLinesAsync(blob, lines[(cut + 1)..], ct).ConfigureAwait(false);
        }
        if (!MemoryMarshal.TryGetArray(lines, out var segment)) throw new InvalidOperationException("The batch buffer is not an array.");
        await AppendBlockAsync(blob, segment, ct).ConfigureAwait(false);
        return 1;
    }

    private async Task EnsureContainerAsync(CancellationToken ct)
    {
        if (_monitoringChecked) return;
        await storage.Monitoring.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        _monitoringChecked = true;
    }

    /// <summary>The entries of one blob not yet appended, and where that blob stands.</summary>
    private sealed class Batch(string model, string version, DateTimeOffset window)
    {
        public string Model { get; } = model;
        public string Version { get; } = version;
        public DateTimeOffset Window { get; } = window;

        /// <summary>The settings <see cref="Sensitive"/> was worked out from; a request with newer ones works it out again.</summary>
        public ModelMonitoringSettings? Settings;
        public IReadOnlySet<string> Sensitive = new HashSet<string>();
        /// <summary>Lines not yet appended (compressed log: not yet compressed).</summary>
        public ArrayBufferWriter<byte> Buffer { get; } = new(64 * 1024);

        /// <summary>The compressed log's gzip members not yet appended, one after another, and where each ends.</summary>
        public MemoryStream Compressed { get; } = new();
        public List<int> MemberEnds { get; } = [];
        public int Entries;
        public int Sequence;
        public int Blocks;
        public bool Created;
    }
}
