using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Serverless.Core.Registry;
using Serverless.Core.Serving;

namespace Serverless.Core.Monitoring;

/// <summary>How many requests the prediction log has taken, dropped (buffer full) and written, since this host started.</summary>
public sealed record PredictionLogCounts(long Sampled, long Dropped, long WrittenEntries, long FailedEntries, long ShadowScored, long ShadowFailed);

/// <summary>
/// The request path's side of the prediction log: decides whether a request is sampled and hands it to the writer
/// through a bounded channel. It never waits: when the channel is full, the request is dropped and counted
/// (<see cref="PredictionLogCounts.Dropped"/>, and the <c>serverless.prediction_log.dropped</c> counter).
/// </summary>
public sealed class PredictionLogBuffer
{
    public const string MeterName = "Serverless.PredictionLog";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> SampledCounter = Meter.CreateCounter<long>("serverless.prediction_log.sampled", "{request}", "Requests taken into the prediction log's buffer");
    private static readonly Counter<long> DroppedCounter = Meter.CreateCounter<long>("serverless.prediction_log.dropped", "{request}", "Sampled requests dropped because the prediction log's buffer was full");
    private static readonly Counter<long> FailedCounter = Meter.CreateCounter<long>("serverless.prediction_log.failed", "{entry}", "Prediction log entries lost because storage did not take them");

    private readonly Channel<PendingPrediction> _channel;
    private readonly PredictionLogOptions _options;
    private readonly MonitoringSettingsCache _settings;
    private long _sampled;
    private long _dropped;
    internal long WrittenEntries;
    private long _failedEntries;
    internal long ShadowScored;
    internal long ShadowFailed;

    public PredictionLogBuffer(IOptions<PredictionLogOptions> options, MonitoringSettingsCache settings)
    {
        _options = options.Value;
        _settings = settings;
        if (_options.BufferCapacity < 1) throw new InvalidOperationException($"{PredictionLogOptions.Section}:{nameof(PredictionLogOptions.BufferCapacity)} must be at least 1.");
        _options.WindowMinutes();
        _channel = Channel.CreateBounded<PendingPrediction>(new BoundedChannelOptions(_options.BufferCapacity)
        {
            // TryWrite on a full channel in Wait mode returns false at once: the request is dropped, never made to wait.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
    }

    public PredictionLogCounts Counts => new(Interlocked.Read(ref _sampled), Interlocked.Read(ref _dropped), Interlocked.Read(ref WrittenEntries),
        Interlocked.Read(ref _failedEntries), Interlocked.Read(ref ShadowScored), Interlocked.Read(ref ShadowFailed));

    internal ChannelReader<PendingPrediction> Reader => _channel.Reader;

    /// <summary>
    /// Offers an answered request to the log: sampled by its id at the model's rate, its rows copied, and queued
    /// without waiting. <paramref name="production"/> says the request was answered by production unpinned (only
    /// those are shadowed).
    /// </summary>
    internal async ValueTask OfferAsync(string model, ModelManifest manifest, bool production, string requestId,
        IReadOnlyList<JsonElement> rows, IReadOnlyList<RowPrediction> outputs, CancellationToken ct)
    {
        if (!_options.Enabled) return;
        var settings = await _settings.GetAsync(model, ct).ConfigureAwait(false);
        if (!PredictionSampling.IsSampled(requestId, settings.SampleRate)) return;
        var copies = new byte[rows.Count][];
        for (var i = 0; i < copies.Length; i++) copies[i] = JsonMarshal.GetRawUtf8Value(rows[i]).ToArray();
        var pending = new PendingPrediction(model, manifest, requestId, DateTimeOffset.UtcNow, copies, outputs, production, settings);
        if (_channel.Writer.TryWrite(pending))
        {
            Interlocked.Increment(ref _sampled);
            SampledCounter.Add(1);
        }
        else
        {
            Interlocked.Increment(ref _dropped);
            DroppedCounter.Add(1);
        }
    }

    /// <summary>Counts entries the writer took and lost (storage did not take them, or a request could not be encoded).</summary>
    internal void CountFailed(int entries)
    {
        Interlocked.Add(ref _failedEntries, entries);
        FailedCounter.Add(entries);
    }

    /// <summary>No more requests are taken (the host is stopping); what is queued is still written.</summary>
    internal void Complete() => _channel.Writer.TryComplete();
}
