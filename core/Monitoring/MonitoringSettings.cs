using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Serving;
using Serverless.Core.Specs;

namespace Serverless.Core.Monitoring;

/// <summary>What a model's spec says about logging its predictions: the share sampled, the columns never logged, and whether staging shadows production.</summary>
public sealed record ModelMonitoringSettings(double SampleRate, IReadOnlySet<string> Sensitive, bool Shadow);

/// <summary>
/// The monitoring settings of each model, read from its spec and kept: re-read in the background every
/// <see cref="PredictionOptions.RefreshInterval"/>, so a request waits for the spec only the first time its model is served.
/// </summary>
public sealed class MonitoringSettingsCache(ModelSpecStore specs, IOptions<PredictionLogOptions> options, IOptions<PredictionOptions> serving,
    ILogger<MonitoringSettingsCache> logger)
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public ValueTask<ModelMonitoringSettings> GetAsync(string model, CancellationToken ct)
    {
        if (_entries.TryGetValue(model, out var entry))
        {
            if (DateTime.UtcNow - entry.ReadAt > serving.Value.RefreshInterval && Interlocked.CompareExchange(ref entry.Refreshing, 1, 0) == 0)
            {
                _ = Task.Run(() => RefreshAsync(model), CancellationToken.None);
            }
            return new ValueTask<ModelMonitoringSettings>(entry.Settings);
        }
        return new ValueTask<ModelMonitoringSettings>(LoadAsync(model, ct));
    }

    private async Task<ModelMonitoringSettings> LoadAsync(string model, CancellationToken ct)
    {
        var settings = await ReadAsync(model, ct).ConfigureAwait(false);
        _entries[model] = new Entry(settings, DateTime.UtcNow);
        return settings;
    }

    private async Task RefreshAsync(string model)
    {
        try
        {
            await LoadAsync(model, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Could not re-read the spec of {ModelName}; its monitoring settings are kept", model);
            if (_entries.TryGetValue(model, out var entry)) Volatile.Write(ref entry.Refreshing, 0);
        }
    }

    private async Task<ModelMonitoringSettings> ReadAsync(string model, CancellationToken ct)
    {
        ModelSpec spec;
        try
        {
            spec = await specs.GetAsync(model, ct).ConfigureAwait(false);
        }
        catch (Api.BadRequestException e)
        {
            // A spec that is not valid JSON: the configured defaults, and no column of it can be trusted to be logged safely.
            logger.LogWarning("{ModelName}: {Problem}; predictions are logged at the configured rate", model, e.Message);
            spec = new ModelSpec();
        }
        var rate = spec.Drift?.SampleRate ?? options.Value.SampleRate;
        return new ModelMonitoringSettings(Math.Clamp(rate, 0, 1), new HashSet<string>(spec.Sensitive ?? [], StringComparer.Ordinal), spec.Shadow ?? false);
    }

    private sealed class Entry(ModelMonitoringSettings settings, DateTime readAt)
    {
        public ModelMonitoringSettings Settings { get; } = settings;
        public DateTime ReadAt { get; } = readAt;
        public int Refreshing;
    }
}
