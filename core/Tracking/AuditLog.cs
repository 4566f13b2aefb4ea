using System.Globalization;
using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Core.Storage;

namespace Serverless.Core.Tracking;

/// <summary>
/// One audited action: who did what to which model, when, why, and the details as the JSON they were recorded as (an
/// object, usually); null when there are none.
/// </summary>
public sealed record AuditRecord(DateTimeOffset At, string Action, string Model, string Actor, JsonElement? Details, string? Reason = null);

/// <summary>Which audit records to list: any of model, action (<see cref="AuditActions"/>) and time range, a page at a time.</summary>
public sealed record AuditQuery(string? Model = null, string? Action = null, DateTimeOffset? From = null, DateTimeOffset? To = null, int PageSize = 100, string? Page = null);

/// <summary>A page of audit records, newest first; <see cref="Next"/> continues the listing (null on the last page).</summary>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Records, string? Next);

/// <summary>
/// The append-only audit log (table <c>{prefix}audit</c>). Rows are keyed by inverted time so the newest come first and
/// a time range is a range of row keys.
/// </summary>
public sealed class AuditLog(PipelineStorage storage)
{
    private readonly CreatedOnce _created = new(() => storage.Table("audit").CreateIfNotExistsAsync());

    public Task RecordAsync(string action, string model, string actor, object? details, CancellationToken ct) =>
        RecordAsync(action, model, actor, null, details, ct);

    /// <summary>Records an action with the reason its actor gave (or the pipeline's own reason).</summary>
    public async Task RecordAsync(string action, string model, string actor, string? reason, object? details, CancellationToken ct)
    {
        var table = await TableAsync(ct).ConfigureAwait(false);
        var at = DateTimeOffset.UtcNow;
        var entity = new TableEntity("audit", $"{InvertedTicks(at)}-{Guid.NewGuid():N}")
        {
            ["At"] = at,
            ["Action"] = action,
            ["Model"] = model,
            ["Actor"] = actor,
            // Bounded where it is taken (Reasons.Check); cut here too, so that no record is ever refused for its reason.
            ["Reason"] = reason is { Length: > Api.Reasons.MaxLength } ? reason[..Api.Reasons.MaxLength] + "…" : reason ?? "",
            ["Details"] = details is null ? "" : JsonSerializer.Serialize(details, DetailsOptions),
        };
        await table.AddEntityAsync(entity, ct).ConfigureAwait(false);
    }

    /// <summary>The newest records first, optionally for one model.</summary>
    public async Task<IReadOnlyList<AuditRecord>> ListAsync(string? model, int max, CancellationToken ct) =>
        (await QueryAsync(new AuditQuery(model, PageSize: max), ct).ConfigureAwait(false)).Records;

    /// <summary>One page of the records that match the query, newest first.</summary>
    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct)
    {
        var table = await TableAsync(ct).ConfigureAwait(false);
        var filter = "PartitionKey eq 'audit'";
        if (query.Model is { } model) filter += " and " + TableClient.CreateQueryFilter($"Model eq {model}");
        if (query.Action is { } action) filter += " and " + TableClient.CreateQueryFilter($"Action eq {action}");
        // Newer records have smaller keys: "at or after From" is "key before From's key with any suffix" ('.' sorts after '-').
        if (query.From is { } from) filter += " and " + TableClient.CreateQueryFilter($"RowKey lt {InvertedTicks(from) + "."}");
        if (query.To is { } to) filter += " and " + TableClient.CreateQueryFilter($"RowKey ge {InvertedTicks(to)}");
        var size = Math.Clamp(query.PageSize, 1, 1000);
        var records = new List<AuditRecord>();
        string? next = query.Page;
        // A page of the table service may hold fewer matches than asked (it filters as it scans): read on until the page
        // is full or the table ends, and hand back where to continue.
        do
        {
            var pages = table.QueryAsync<TableEntity>(filter, maxPerPage: size - records.Count, cancellationToken: ct).AsPages(next, size - records.Count);
            await using var enumerator = pages.GetAsyncEnumerator(ct);
            if (!await enumerator.MoveNextAsync().ConfigureAwait(false)) { next = null; break; }
            records.AddRange(enumerator.Current.Values.Select(ToRecord));
            next = enumerator.Current.ContinuationToken;
        }
        while (next is not null && records.Count < size);
        return new AuditPage(records, next);
    }

    private static string InvertedTicks(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.Ticks - at.UtcTicks).ToString("D19", CultureInfo.InvariantCulture);

    private static AuditRecord ToRecord(TableEntity e) => new(
        e.GetDateTimeOffset("At") ?? default, e.GetString("Action"), e.GetString("Model"), e.GetString("Actor"), ReadDetails(e.GetString("Details")),
        e.GetString("Reason") is { Length: > 0 } reason ? reason : null);

    /// <summary>
    /// The details column holds JSON text. Rows written before details were always serialized may hold a bare string that
    /// is not JSON: it is read as a JSON string, so the answer is JSON either way.
    /// </summary>
    internal static JsonElement? ReadDetails(string? stored)
    {
        if (string.IsNullOrEmpty(stored)) return null;
        try
        {
            using var document = JsonDocument.Parse(stored);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(stored);
        }
    }

    private static readonly JsonSerializerOptions DetailsOptions = new(JsonBlobs.Options)
    {
        WriteIndented = false,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private async Task<TableClient> TableAsync(CancellationToken ct)
    {
        await _created.EnsureAsync().WaitAsync(ct).ConfigureAwait(false);
        return storage.Table("audit");
    }
}
