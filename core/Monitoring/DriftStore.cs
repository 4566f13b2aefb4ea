using System.Globalization;
using Azure;
using Azure.Storage.Blobs.Models;
using Serverless.Core.Storage;

namespace Serverless.Core.Monitoring;

/// <summary>Where a model stands between drift checks: drifted checks in a row, the last check, the last retraining.</summary>
public sealed record DriftState
{
    public DateTimeOffset? LastCheckAt { get; init; }
    public int Consecutive { get; init; }

    /// <summary>The production version <see cref="Consecutive"/> counts checks of; another version starts the count again.</summary>
    public string? ConsecutiveVersion { get; init; }

    /// <summary>
    /// When a drifted check last counted toward <see cref="Consecutive"/>. A drifted check counts once the model's check
    /// schedule came due since then: two checks a minute apart look at nearly the same rows, and confirm nothing twice.
    /// </summary>
    public DateTimeOffset? LastCountedAt { get; init; }

    public DateTimeOffset? LastRetrainAt { get; init; }
    public string? LastRetrainInstanceId { get; init; }

    /// <summary>When the spec's <c>retrainSchedule</c> last started a run (or was first seen, which starts none).</summary>
    public DateTimeOffset? LastScheduledRetrainAt { get; init; }
}

/// <summary>
/// Drift reports and state in the monitoring container: <c>{model}/drift/{inverted ticks}-{check id}.json</c>, so that a
/// listing (ascending by name) gives the newest first, and <c>{model}/drift-state.json</c>, written with ETags.
/// </summary>
public sealed class DriftStore(PipelineStorage storage)
{
    public static string ReportPrefix(string model) => $"{model}/{MonitoringPaths.Drift}/";

    public static string ReportBlob(string model, DateTimeOffset at, string checkId) =>
        $"{ReportPrefix(model)}{(DateTimeOffset.MaxValue.UtcTicks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture)}-{checkId}.json";

    public static string StateBlob(string model) => $"{model}/drift-state.json";

    public async Task SaveAsync(DriftReport report, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        await JsonBlobs.WriteAsync(storage.Monitoring.GetBlobClient(ReportBlob(report.Model, report.CheckedAt, report.CheckId)), report, ct).ConfigureAwait(false);
    }

    /// <summary>A page of reports, newest first, and how many there are.</summary>
    public async Task<(int Total, IReadOnlyList<DriftReport> Reports)> ListAsync(string model, int skip, int top, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var names = new List<string>();
        await foreach (var item in storage.Monitoring.GetBlobsAsync(BlobTraits.None, BlobStates.None, ReportPrefix(model), ct).ConfigureAwait(false))
        {
            if (item.Name.EndsWith(".json", StringComparison.Ordinal)) names.Add(item.Name);
        }
        names.Sort(StringComparer.Ordinal);
        var reports = new List<DriftReport>();
        foreach (var name in names.Skip(skip).Take(top))
        {
            if (await JsonBlobs.TryReadAsync<DriftReport>(storage.Monitoring.GetBlobClient(name), ct).ConfigureAwait(false) is { } read) reports.Add(read.Value);
        }
        return (names.Count, reports);
    }

    public async Task<(DriftState State, ETag? ETag)> GetStateAsync(string model, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        var read = await JsonBlobs.TryReadAsync<DriftState>(storage.Monitoring.GetBlobClient(StateBlob(model)), ct).ConfigureAwait(false);
        return read is { } r ? (r.Value, r.ETag) : (new DriftState(), null);
    }

    /// <summary>Writes the state only if it is unchanged since it was read (<paramref name="etag"/>; null: only if there is none).</summary>
    public Task<ETag> SetStateAsync(string model, DriftState state, ETag? etag, CancellationToken ct) =>
        JsonBlobs.WriteAsync(storage.Monitoring.GetBlobClient(StateBlob(model)), state, ct, ifMatch: etag, createOnly: etag is null);
}
