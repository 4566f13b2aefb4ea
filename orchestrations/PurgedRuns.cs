using System.Text.Json;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;

namespace Serverless.Orchestrations;

/// <summary>What a purge's audit record says of the run whose history the engine dropped.</summary>
public sealed record PurgeDetails(string InstanceId);

/// <summary>
/// Runs whose history was purged. The engine forgets such a run, but its experiment runs, registry lineage and audit
/// records stay under its id: the purge's audit record is what keeps the id taken, so that no later run is given it and
/// mixed with what the purged one left.
/// </summary>
public sealed class PurgedRuns(AuditLog audit)
{
    /// <summary>The audit record of the purge of <paramref name="instanceId"/>, or null when it was never purged.</summary>
    public async Task<AuditRecord?> FindAsync(string? model, string instanceId, CancellationToken ct)
    {
        string? page = null;
        do
        {
            var found = await audit.QueryAsync(new AuditQuery(model, AuditActions.Purge, PageSize: 1000, Page: page), ct).ConfigureAwait(false);
            foreach (var record in found.Records)
            {
                if (Of(record)?.InstanceId == instanceId) return record;
            }
            page = found.Next;
        }
        while (page is not null);
        return null;
    }

    private static PurgeDetails? Of(AuditRecord record)
    {
        if (record.Details is not { ValueKind: JsonValueKind.Object } details) return null;
        try
        {
            return details.Deserialize<PurgeDetails>(JsonBlobs.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
