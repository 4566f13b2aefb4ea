using Serverless.Core.Storage;

namespace Serverless.Orchestrations;

/// <summary>A run whose history was purged: which model's, when, by whom and why.</summary>
public sealed record PurgedRun(string InstanceId, string Model, DateTimeOffset At, string By, string? Reason);

/// <summary>
/// Runs whose history was purged. The engine forgets such a run, but its experiment runs, registry lineage and audit
/// records stay under its id: a marker per purged run (<see cref="Blob"/>, written before the engine purges) keeps the id
/// taken, so that no later run is given it and mixed with what the purged one left. One read finds it, on the upload path
/// as on the run routes.
/// </summary>
public sealed class PurgedRuns(PipelineStorage storage)
{
    /// <summary>
    /// Where the marker of a purged run is kept: <c>models/_purged/{instance id}.json</c>. A model's name never starts with
    /// '_', so the folder is no model's.
    /// </summary>
    public static string Blob(string instanceId) => $"_purged/{instanceId}.json";

    public async Task RecordAsync(PurgedRun run, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        await JsonBlobs.WriteAsync(storage.Models.GetBlobClient(Blob(run.InstanceId)), run, ct).ConfigureAwait(false);
    }

    /// <summary>The purge of <paramref name="instanceId"/>, or null when it was never purged.</summary>
    public async Task<PurgedRun?> FindAsync(string instanceId, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        return (await JsonBlobs.TryReadAsync<PurgedRun>(storage.Models.GetBlobClient(Blob(instanceId)), ct).ConfigureAwait(false))?.Value;
    }
}
