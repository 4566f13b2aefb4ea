using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using Serverless.Core.Storage;

namespace Serverless.LocalHost.Triggers;

/// <summary>
/// Receipts of the local blob trigger (table <c>{prefix}receipts</c>), one per blob content version (name + ETag), as the
/// Functions host keeps them: a blob version is claimed before it is processed and marked done after, so it is handled
/// once, also across restarts and by several hosts on the same storage.
/// </summary>
public sealed class BlobReceipts(PipelineStorage storage)
{
    private readonly CreatedOnce _created = new(() => storage.Table("receipts").CreateIfNotExistsAsync());

    public enum State { Processing, Failed, Done, Poison }

    public sealed record Receipt(string BlobName, string ETag, State State, int Attempts, string Host, DateTimeOffset ClaimedAt, string? Result, ETag RowETag);

    /// <summary>The row key of a blob version; ETags are compared without quotes (listings omit them, headers carry them).</summary>
    public static string Key(string blobName, string etag) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(blobName + "\n" + etag.Trim('"'))));

    public async Task<Receipt?> GetAsync(string blobName, string etag, CancellationToken ct)
    {
        await _created.EnsureAsync().ConfigureAwait(false);
        var response = await Table.GetEntityIfExistsAsync<TableEntity>("incoming", Key(blobName, etag), cancellationToken: ct).ConfigureAwait(false);
        return response.HasValue ? ToReceipt(response.Value!) : null;
    }

    /// <summary>Claims a blob version for this host; null when another host holds a live claim or it is finished.</summary>
    public async Task<Receipt?> TryClaimAsync(string blobName, string etag, string host, TimeSpan claimTimeout, CancellationToken ct)
    {
        await _created.EnsureAsync().ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var existing = await GetAsync(blobName, etag, ct).ConfigureAwait(false);
        var entity = new TableEntity("incoming", Key(blobName, etag))
        {
            ["BlobName"] = blobName,
            ["BlobETag"] = etag,
            ["State"] = nameof(State.Processing),
            ["Host"] = host,
            ["ClaimedAt"] = now.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
            ["Attempts"] = (existing?.Attempts ?? 0) + 1,
        };
        try
        {
            if (existing is null)
            {
                await Table.AddEntityAsync(entity, ct).ConfigureAwait(false);
            }
            else
            {
                var claimable = existing.State == State.Failed || (existing.State == State.Processing && now - existing.ClaimedAt > claimTimeout);
                if (!claimable) return null;
                await Table.UpdateEntityAsync(entity, existing.RowETag, TableUpdateMode.Replace, ct).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return null;
        }
        return await GetAsync(blobName, etag, ct).ConfigureAwait(false);
    }

    /// <summary>Extends a live claim; false when another host has taken it over meanwhile.</summary>
    public async Task<Receipt?> RenewAsync(Receipt claim, CancellationToken ct)
    {
        var entity = new TableEntity("incoming", Key(claim.BlobName, claim.ETag)) { ["ClaimedAt"] = DateTimeOffset.UtcNow.ToString("o", System.Globalization.CultureInfo.InvariantCulture) };
        try
        {
            var response = await Table.UpdateEntityAsync(entity, claim.RowETag, TableUpdateMode.Merge, ct).ConfigureAwait(false);
            return claim with { RowETag = response.Headers.ETag ?? claim.RowETag };
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return null;
        }
    }

    public async Task CompleteAsync(Receipt claim, State state, string result, CancellationToken ct)
    {
        var entity = new TableEntity("incoming", Key(claim.BlobName, claim.ETag))
        {
            ["BlobName"] = claim.BlobName,
            ["BlobETag"] = claim.ETag,
            ["State"] = state.ToString(),
            ["Host"] = claim.Host,
            ["ClaimedAt"] = claim.ClaimedAt.ToString("o", System.Globalization.CultureInfo.InvariantCulture),
            ["Attempts"] = claim.Attempts,
            ["Result"] = result.Length > 30000 ? result[..30000] : result,
        };
        await Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct).ConfigureAwait(false);
    }

    private TableClient Table => storage.Table("receipts");

    private static Receipt ToReceipt(TableEntity e) => new(
        e.GetString("BlobName"),
        e.GetString("BlobETag"),
        Enum.Parse<State>(e.GetString("State")),
        e.GetInt32("Attempts") ?? 0,
        e.GetString("Host") ?? "",
        DateTimeOffset.TryParse(e.GetString("ClaimedAt"), System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var at) ? at : default,
        e.GetString("Result"),
        e.ETag);
}
