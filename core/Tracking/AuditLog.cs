using System.Text.Json;
using Azure.Data.Tables;
using Serverless.Core.Storage;

namespace Serverless.Core.Tracking;

/// <summary>
/// One audited action: who did what to which model, when, and the details as the JSON they were recorded as (an object,
/// usually); null when there are none.
/// </summary>
public sealed record AuditRecord(DateTimeOffset At, string Action, string Model, string Actor, JsonElement? Details);

/// <summary>
/// The append-only audit log (table <c>{prefix}audit</c>). Rows are keyed by inverted time so the newest come first.
/// </summary>
public sealed class AuditLog(PipelineStorage storage)
{
    private readonly Lazy<Task> _created = new(() => storage.Table("audit").CreateIfNotExistsAsync());

    public async Task RecordAsync(string action, string model, string actor, object? details, CancellationToken ct)
    {
        var table = await TableAsync(ct).ConfigureAwait(false);
        var at = DateTimeOffset.UtcNow;
        var entity = new TableEntity("audit", $"{DateTimeOffset.MaxValue.Ticks - at.Ticks:D19}-{Guid.NewGuid():N}")
        {
            ["At"] = at,
            ["Action"] = action,
            ["Model"] = model,
            ["Actor"] = actor,
            ["Details"] = details is null ? "" : JsonSerializer.Serialize(details, DetailsOptions),
        };
        await table.AddEntityAsync(entity, ct).ConfigureAwait(false);
    }

    /// <summary>The newest records first, optionally for one model.</summary>
    public async Task<IReadOnlyList<AuditRecord>> ListAsync(string? model, int max, CancellationToken ct)
    {
        var table = await TableAsync(ct).ConfigureAwait(false);
        var filter = model is null ? "PartitionKey eq 'audit'" : TableClient.CreateQueryFilter($"PartitionKey eq 'audit' and Model eq {model}");
        var records = new List<AuditRecord>();
        await foreach (var e in table.QueryAsync<TableEntity>(filter, maxPerPage: Math.Min(max, 1000), cancellationToken: ct).ConfigureAwait(false))
        {
            records.Add(new AuditRecord(e.GetDateTimeOffset("At") ?? default, e.GetString("Action"), e.GetString("Model"), e.GetString("Actor"), ReadDetails(e.GetString("Details"))));
            if (records.Count >= max) break;
        }
        return records;
    }

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
        await _created.Value.WaitAsync(ct).ConfigureAwait(false);
        return storage.Table("audit");
    }
}
