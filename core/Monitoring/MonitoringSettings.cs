using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Serving;
using Serverless.Core.Specs;

namespace Serverless.Core.Monitoring;

/// <summary>What a model's spec says about logging its predictions: the share sampled, the columns never logged, and whether staging shadows production.</summary>
public sealed record ModelMonitoringSettings(double SampleRate, IReadOnlySet<string> Sensitive, bool Shadow);

/// <summary>
/// The monitoring settings of each model, read from its spec and kept. A spec changed on this host is read again at the
/// next request; otherwise the settings are re-read as <see cref="PredictionOptions.StalenessOf"/> says, so a column made
/// sensitive on another host is logged for at most a refresh interval after (while storage answers in time).
/// </summary>
public sealed class MonitoringSettingsCache
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ModelSpecStore _specs;
    private readonly PredictionLogOptions _options;
    private readonly PredictionOptions _serving;
    private readonly ILogger<MonitoringSettingsCache> _logger;

    public MonitoringSettingsCache(ModelSpecStore specs, IOptions<PredictionLogOptions> options, IOptions<PredictionOptions> serving, ILogger<MonitoringSettingsCache> logger)
    {
        (_specs, _options, _serving, _logger) = (specs, options.Value, serving.Value, logger);
        specs.Changed += model => _entries.TryRemove(model, out _);
    }

    public ValueTask<ModelMonitoringSettings> GetAsync(string model, CancellationToken ct)
    {
        if (_entries.TryGetValue(model, out var entry))
        {
            switch (_serving.StalenessOf(entry.ReadAt))
            {
                case Staleness.RefreshFirst:
                    return new ValueTask<ModelMonitoringSettings>(RefreshedAsync(model, entry, ct));
                case Staleness.RefreshInBackground when !entry.Refresh.Running:
                    entry.Refresh.Start(() => RefreshAsync(model, entry));
                    break;
            }
            return new ValueTask<ModelMonitoringSettings>(entry.Settings);
        }
        return new ValueTask<ModelMonitoringSettings>(LoadAsync(model, ct));
    }

    private async Task<ModelMonitoringSettings> LoadAsync(string model, CancellationToken ct)
    {
        var settings = await ReadAsync(model, ct).ConfigureAwait(false);
        _entries[model] = new Entry(settings, Environment.TickCount64);
        return settings;
    }

    /// <summary>
    /// The settings read again before the request goes on, waited for at most <see cref="PredictionOptions.RefreshWait"/>
    /// (the request path: storage that does not answer must not hold up predictions); past that, or when the spec cannot
    /// be read, the request goes on with those held.
    /// </summary>
    private async Task<ModelMonitoringSettings> RefreshedAsync(string model, Entry held, CancellationToken ct)
    {
        if (await held.Refresh.WaitAsync(() => RefreshAsync(model, held), _serving.RefreshWait, ct).ConfigureAwait(false))
        {
            _logger.LogWarning("Re-reading the spec of {ModelName} takes longer than {RefreshWait}; its monitoring settings are kept meanwhile", model, _serving.RefreshWait);
        }
        return _entries.TryGetValue(model, out var now) ? now.Settings : held.Settings;
    }

    private async Task RefreshAsync(string model, Entry held)
    {
        try
        {
            await LoadAsync(model, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Could not re-read the spec of {ModelName}; its monitoring settings are kept", model);
            // Tried now: the next read comes after an interval, in the background, so an outage holds up no request.
            _entries.TryUpdate(model, new Entry(held.Settings, Environment.TickCount64), held);
        }
    }

    private async Task<ModelMonitoringSettings> ReadAsync(string model, CancellationToken ct)
    {
        ModelSpec spec;
        try
        {
            spec = await _specs.GetAsync(model, ct).ConfigureAwait(false);
        }
        catch (Api.BadRequestException e)
        {
            // A spec that is not valid JSON: the configured defaults, and no column of it can be trusted to be logged safely.
            _logger.LogWarning("{ModelName}: {Problem}; predictions are logged at the configured rate", model, e.Message);
            spec = new ModelSpec();
        }
        var rate = spec.Drift?.SampleRate ?? _options.SampleRate;
        return new ModelMonitoringSettings(Math.Clamp(rate, 0, 1), new HashSet<string>(spec.Sensitive ?? [], StringComparer.Ordinal), spec.Shadow ?? false);
    }

    /// <summary>Settings and when they were read, in <see cref="Environment.TickCount64"/> milliseconds (checked on every request: the cheapest clock).</summary>
    private sealed class Entry(ModelMonitoringSettings settings, long readAt)
    {
        public ModelMonitoringSettings Settings { get; } = settings;
        public long ReadAt { get; } = readAt;
        public SharedRefresh Refresh { get; } = new();
    }
}
