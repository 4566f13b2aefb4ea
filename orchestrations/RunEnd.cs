using Azure;
using Serverless.Core.Storage;

namespace Serverless.Orchestrations;

/// <summary>
/// The one <c>trainingEnded</c> audit record of a run. Two writers may record a run's end: the run itself, and the
/// terminate route (the engine runs none of a terminated run's code after the stop). A run stopped at the very moment it
/// ended could have both: each writer first claims the end (<see cref="Blob"/>, written only if absent) and only the one
/// that claimed it records it.
/// </summary>
public static class RunEnd
{
    /// <summary>Where a run's end is claimed: <c>models/{model}/ended/{instance id}.json</c>.</summary>
    public static string Blob(string model, string instanceId) => $"{model}/ended/{instanceId}.json";

    /// <summary>What the claim holds: who ended the run, and when.</summary>
    public sealed record Claim(string By, DateTimeOffset At);

    /// <summary>True when this caller now owns the run's end record; false when the other writer claimed it first.</summary>
    public static async Task<bool> ClaimAsync(PipelineStorage storage, string model, string instanceId, string by, CancellationToken ct)
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        try
        {
            await JsonBlobs.WriteAsync(storage.Models.GetBlobClient(Blob(model, instanceId)), new Claim(by, DateTimeOffset.UtcNow), ct, createOnly: true).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (JsonBlobs.IsConcurrencyConflict(e))
        {
            return false;
        }
    }
}
