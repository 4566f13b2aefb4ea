using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Data.Tables;
using Serverless.Core.Storage;

namespace Serverless.Core.Workflows.Durable;

/// <summary>The persisted state of one orchestration instance (a row of the instances table).</summary>
internal sealed record InstanceState
{
    public required string InstanceId { get; init; }
    public required string Name { get; init; }
    public WorkflowRuntimeStatus Status { get; init; }
    public JsonNode? Input { get; init; }
    public JsonNode? Output { get; init; }
    public JsonNode? CustomStatus { get; init; }
    public WorkflowFailureDetails? Failure { get; init; }
    public DateTime CreatedTime { get; init; }
    public DateTime LastUpdatedTime { get; init; }
    public int Execution { get; init; }
    public int NextSequence { get; init; }
    public string? ParentInstanceId { get; init; }
    public int ParentTaskId { get; init; } = -1;
    public int ParentExecution { get; init; }
    public ETag ETag { get; init; }

    public bool IsFinished => Status is WorkflowRuntimeStatus.Completed or WorkflowRuntimeStatus.Failed or WorkflowRuntimeStatus.Terminated;

    public WorkflowInstance ToInstance() => new()
    {
        Name = Name,
        InstanceId = InstanceId,
        RuntimeStatus = Status,
        Input = Input?.DeepClone(),
        Output = Output?.DeepClone(),
        CustomStatus = CustomStatus?.DeepClone(),
        CreatedTime = CreatedTime,
        LastUpdatedTime = LastUpdatedTime,
        FailureDetails = Failure,
    };
}

/// <summary>
/// Orchestration state in Azure Tables, as Durable Task's Azure Storage provider keeps it: an instances table, a history
/// table (one partition per instance, events in sequence) and an inbox of messages not yet applied. Values too large for
/// a table property are kept in blobs of the workflows container.
/// </summary>
internal sealed class WorkflowStore(PipelineStorage storage)
{
    private const int MaxInlineChars = 30_000;
    private readonly Lazy<Task> _created = new(async () =>
    {
        await storage.EnsureCreatedAsync().ConfigureAwait(false);
        await storage.Workflows.CreateIfNotExistsAsync().ConfigureAwait(false);
        foreach (var table in new[] { "wfinstances", "wfhistory", "wfinbox", "wfhub" })
        {
            await storage.Table(table).CreateIfNotExistsAsync().ConfigureAwait(false);
        }
    });

    private TableClient Instances => storage.Table("wfinstances");
    private TableClient History => storage.Table("wfhistory");
    private TableClient Inbox => storage.Table("wfinbox");
    public TableClient Hub => storage.Table("wfhub");

    public Task EnsureCreatedAsync() => _created.Value;

    public async Task<InstanceState?> GetAsync(string instanceId, CancellationToken ct)
    {
        await EnsureCreatedAsync().ConfigureAwait(false);
        var response = await Instances.GetEntityIfExistsAsync<TableEntity>(Key(instanceId), "state", cancellationToken: ct).ConfigureAwait(false);
        if (!response.HasValue) return null;
        var e = response.Value!;
        return new InstanceState
        {
            InstanceId = instanceId,
            Name = e.GetString("Name"),
            Status = Enum.Parse<WorkflowRuntimeStatus>(e.GetString("Status")),
            Input = await NodeAsync(e.GetString("Input"), ct).ConfigureAwait(false),
            Output = await NodeAsync(e.GetString("Output"), ct).ConfigureAwait(false),
            CustomStatus = await NodeAsync(e.GetString("CustomStatus"), ct).ConfigureAwait(false),
            Failure = e.GetString("Failure") is { Length: > 0 } f ? JsonSerializer.Deserialize<WorkflowFailureDetails>(f, JsonBlobs.Options) : null,
            CreatedTime = Time(e.GetString("Created")),
            LastUpdatedTime = Time(e.GetString("Updated")),
            Execution = int.Parse(e.GetString("Execution") ?? "0", CultureInfo.InvariantCulture),
            NextSequence = int.Parse(e.GetString("NextSequence") ?? "0", CultureInfo.InvariantCulture),
            ParentInstanceId = e.GetString("ParentInstanceId"),
            ParentTaskId = int.Parse(e.GetString("ParentTaskId") ?? "-1", CultureInfo.InvariantCulture),
            ParentExecution = int.Parse(e.GetString("ParentExecution") ?? "0", CultureInfo.InvariantCulture),
            ETag = e.ETag,
        };
    }

    /// <summary>Writes an instance row; with an ETag only if nobody changed it meanwhile, without one only if it is new.</summary>
    public async Task<ETag> PutAsync(InstanceState state, bool create, CancellationToken ct)
    {
        await EnsureCreatedAsync().ConfigureAwait(false);
        var key = Key(state.InstanceId);
        var entity = new TableEntity(key, "state")
        {
            ["InstanceId"] = state.InstanceId,
            ["Name"] = state.Name,
            ["Status"] = state.Status.ToString(),
            ["Input"] = await TextAsync(state.InstanceId, "input", state.Input, ct).ConfigureAwait(false),
            ["Output"] = await TextAsync(state.InstanceId, "output", state.Output, ct).ConfigureAwait(false),
            ["CustomStatus"] = await TextAsync(state.InstanceId, "status", state.CustomStatus, ct).ConfigureAwait(false),
            ["Failure"] = state.Failure is null ? "" : JsonSerializer.Serialize(state.Failure, JsonBlobs.Options),
            ["Created"] = state.CreatedTime.ToString("o", CultureInfo.InvariantCulture),
            ["Updated"] = state.LastUpdatedTime.ToString("o", CultureInfo.InvariantCulture),
            ["Execution"] = state.Execution.ToString(CultureInfo.InvariantCulture),
            ["NextSequence"] = state.NextSequence.ToString(CultureInfo.InvariantCulture),
            ["ParentInstanceId"] = state.ParentInstanceId,
            ["ParentTaskId"] = state.ParentTaskId.ToString(CultureInfo.InvariantCulture),
            ["ParentExecution"] = state.ParentExecution.ToString(CultureInfo.InvariantCulture),
        };
        var response = create
            ? await Instances.AddEntityAsync(entity, ct).ConfigureAwait(false)
            : await Instances.UpdateEntityAsync(entity, state.ETag, TableUpdateMode.Replace, ct).ConfigureAwait(false);
        return response.Headers.ETag ?? default;
    }

    /// <summary>Instances that have not finished, to resume after a restart.</summary>
    public async Task<IReadOnlyList<string>> UnfinishedAsync(CancellationToken ct)
    {
        await EnsureCreatedAsync().ConfigureAwait(false);
        var ids = new List<string>();
        await foreach (var e in Instances.QueryAsync<TableEntity>("Status eq 'Pending' or Status eq 'Running'", select: ["InstanceId"], cancellationToken: ct).ConfigureAwait(false))
        {
            ids.Add(e.GetString("InstanceId"));
        }
        return ids;
    }

    public async Task<List<HistoryEvent>> HistoryAsync(InstanceState state, CancellationToken ct) =>
        await EventsAsync(History, Key(state.InstanceId), $"RowKey ge '{state.Execution:D6}-' and RowKey lt '{state.Execution:D6}.'", ct).ConfigureAwait(false);

    /// <summary>Deletes the history of one execution (after ContinueAsNew has started the next).</summary>
    public async Task DeleteHistoryAsync(string instanceId, int execution, CancellationToken ct)
    {
        var key = Key(instanceId);
        var rows = new List<TableTransactionAction>();
        var filter = $"{TableClient.CreateQueryFilter($"PartitionKey eq {key}")} and RowKey ge '{execution:D6}-' and RowKey lt '{execution:D6}.'";
        await foreach (var e in History.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: ct).ConfigureAwait(false))
        {
            rows.Add(new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All));
        }
        foreach (var chunk in rows.Chunk(100)) await History.SubmitTransactionAsync(chunk, ct).ConfigureAwait(false);
    }

    public async Task AppendHistoryAsync(InstanceState state, IReadOnlyList<HistoryEvent> events, CancellationToken ct)
    {
        var key = Key(state.InstanceId);
        var actions = new List<TableTransactionAction>();
        for (var i = 0; i < events.Count; i++)
        {
            var rowKey = $"{state.Execution:D6}-{state.NextSequence + i:D8}";
            actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(key, rowKey)
            {
                ["Event"] = await TextAsync(state.InstanceId, "h" + rowKey, JsonSerializer.SerializeToNode(events[i], JsonBlobs.Options), ct).ConfigureAwait(false),
            }));
        }
        foreach (var chunk in actions.Chunk(100))
        {
            await History.SubmitTransactionAsync(chunk, ct).ConfigureAwait(false);
        }
    }

    public async Task SendAsync(string instanceId, HistoryEvent message, CancellationToken ct)
    {
        await EnsureCreatedAsync().ConfigureAwait(false);
        var id = message.MessageId ?? throw new ArgumentException("A message needs an id.", nameof(message));
        var rowKey = $"{DateTime.UtcNow.Ticks:D19}-{id}";
        var entity = new TableEntity(Key(instanceId), rowKey)
        {
            ["InstanceId"] = instanceId,
            ["Event"] = await TextAsync(instanceId, "m" + id, JsonSerializer.SerializeToNode(message, JsonBlobs.Options), ct).ConfigureAwait(false),
        };
        await Inbox.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct).ConfigureAwait(false);
    }

    /// <summary>Instances with messages waiting, whoever sent them.</summary>
    public async Task<IReadOnlyCollection<string>> WithMessagesAsync(CancellationToken ct)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var e in Inbox.QueryAsync<TableEntity>(select: ["InstanceId"], cancellationToken: ct).ConfigureAwait(false))
        {
            if (e.GetString("InstanceId") is { } id) ids.Add(id);
        }
        return ids;
    }

    public async Task<List<(string RowKey, HistoryEvent Message)>> InboxAsync(string instanceId, CancellationToken ct)
    {
        var messages = new List<(string, HistoryEvent)>();
        await foreach (var e in Inbox.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {Key(instanceId)}"), cancellationToken: ct).ConfigureAwait(false))
        {
            var node = await NodeAsync(e.GetString("Event"), ct).ConfigureAwait(false);
            messages.Add((e.RowKey, node!.Deserialize<HistoryEvent>(JsonBlobs.Options)!));
        }
        return messages;
    }

    public async Task DeleteInboxAsync(string instanceId, IEnumerable<string> rowKeys, CancellationToken ct)
    {
        foreach (var chunk in rowKeys.Select(k => new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Key(instanceId), k), ETag.All)).Chunk(100))
        {
            await Inbox.SubmitTransactionAsync(chunk, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes an instance: its row, history, inbox and large values.</summary>
    public async Task DeleteAsync(string instanceId, bool keepInstanceRow, CancellationToken ct)
    {
        var key = Key(instanceId);
        foreach (var table in new[] { History, Inbox })
        {
            var rows = new List<TableTransactionAction>();
            await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {key}"), select: ["PartitionKey", "RowKey"], cancellationToken: ct).ConfigureAwait(false))
            {
                rows.Add(new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All));
            }
            foreach (var chunk in rows.Chunk(100)) await table.SubmitTransactionAsync(chunk, ct).ConfigureAwait(false);
        }
        await foreach (var blob in storage.Workflows.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, key + "/", ct).ConfigureAwait(false))
        {
            await storage.Workflows.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: ct).ConfigureAwait(false);
        }
        if (!keepInstanceRow) await Instances.DeleteEntityAsync(key, "state", ETag.All, ct).ConfigureAwait(false);
    }

    /// <summary>Instance ids are caller-chosen; table keys cannot hold / \ # ? or control characters, so those are escaped.</summary>
    internal static string Key(string instanceId) =>
        string.Concat(instanceId.Select(c => c is '/' or '\\' or '#' or '?' or '%' || char.IsControl(c) ? $"%{(int)c:X2}" : c.ToString()));

    private async Task<List<HistoryEvent>> EventsAsync(TableClient table, string key, string rowFilter, CancellationToken ct)
    {
        var events = new List<(string RowKey, HistoryEvent Event)>();
        await foreach (var e in table.QueryAsync<TableEntity>($"{TableClient.CreateQueryFilter($"PartitionKey eq {key}")} and {rowFilter}", cancellationToken: ct).ConfigureAwait(false))
        {
            var node = await NodeAsync(e.GetString("Event"), ct).ConfigureAwait(false);
            events.Add((e.RowKey, node!.Deserialize<HistoryEvent>(JsonBlobs.Options)!));
        }
        return [.. events.OrderBy(e => e.RowKey, StringComparer.Ordinal).Select(e => e.Event)];
    }

    private async Task<string?> TextAsync(string instanceId, string name, JsonNode? node, CancellationToken ct)
    {
        if (node is null) return null;
        var text = node.ToJsonString(JsonBlobs.Options);
        if (text.Length <= MaxInlineChars) return text;
        var blob = $"{Key(instanceId)}/{name}.json";
        await storage.Workflows.GetBlobClient(blob).UploadAsync(BinaryData.FromString(text), overwrite: true, ct).ConfigureAwait(false);
        return "blob:" + blob;
    }

    private async Task<JsonNode?> NodeAsync(string? text, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (text.StartsWith("blob:", StringComparison.Ordinal))
        {
            text = (await storage.Workflows.GetBlobClient(text[5..]).DownloadContentAsync(ct).ConfigureAwait(false)).Value.Content.ToString();
        }
        return JsonNode.Parse(text);
    }

    private static DateTime Time(string? text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : default;
}
