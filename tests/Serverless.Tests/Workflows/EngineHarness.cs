using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Storage;
using Serverless.Core.Workflows;
using Serverless.Core.Workflows.Durable;
using Serverless.Tests.Infrastructure;
using Serverless.Testing;

namespace Serverless.Tests.Workflows;

/// <summary>A durable engine on the Azurite fixture with a task hub (table prefix) of its own and the test workflows.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private EngineHarness(ServiceProvider services, string prefix, PipelineStorageOptions options)
    {
        _services = services;
        Prefix = prefix;
        StorageOptions = options;
        Engine = services.GetRequiredService<DurableWorkflowEngine>();
        Storage = services.GetRequiredService<PipelineStorage>();
    }

    public string Prefix { get; }
    public PipelineStorageOptions StorageOptions { get; }
    public DurableWorkflowEngine Engine { get; }
    public PipelineStorage Storage { get; }

    public static async Task<EngineHarness> StartAsync(AzuriteFixture azurite, string? prefix = null, bool start = true, int maxConcurrentActivities = 2)
    {
        prefix ??= "e" + Guid.NewGuid().ToString("N")[..10];
        var options = azurite.Options(prefix);
        options.WorkflowsContainer = "wf-" + prefix;
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton(Options.Create(options))
            .AddSingleton(Options.Create(new DurableWorkflowOptions
            {
                LeaseDuration = TimeSpan.FromSeconds(3), PollInterval = TimeSpan.FromMilliseconds(100), MaxConcurrentActivities = maxConcurrentActivities,
            }))
            .AddSingleton<PipelineStorage>()
            .AddSingleton<DurableWorkflowEngine>()
            .AddTestWorkflows()
            .BuildServiceProvider();
        var harness = new EngineHarness(services, prefix, options);
        if (start) await harness.Engine.StartAsync(CancellationToken.None);
        return harness;
    }

    public async Task<WorkflowInstance> RunAsync(string name, object? input, string? id = null, int timeoutSeconds = 60)
    {
        id = await Engine.StartAsync(name, input, id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        return await Engine.WaitForCompletionAsync(id, timeout.Token);
    }

    /// <summary>How often each step of an instance ran, by step index.</summary>
    public async Task<Dictionary<int, int>> ExecutionsAsync(string instanceId)
    {
        var table = Storage.Table("executions");
        await table.CreateIfNotExistsAsync();
        var counts = new Dictionary<int, int>();
        await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {instanceId}")))
        {
            var index = e.GetInt32("Index") ?? int.Parse(e.RowKey[..4]);
            counts[index] = counts.GetValueOrDefault(index) + 1;
        }
        return counts;
    }

    internal async Task<List<HistoryEvent>> HistoryAsync(string instanceId)
    {
        var store = new WorkflowStore(Storage);
        var state = await store.GetAsync(instanceId, CancellationToken.None);
        return state is null ? [] : await store.HistoryAsync(state, CancellationToken.None);
    }

    /// <summary>
    /// Leaves an instance as a host killed between the two writes of its last episode would: the history ends with
    /// ExecutionCompleted, the instance row still says Running.
    /// </summary>
    internal async Task RecordTornCompletionAsync(string instanceId, string name, int input, int output)
    {
        var store = new WorkflowStore(Storage);
        var now = DateTime.UtcNow;
        var state = new InstanceState
        {
            InstanceId = instanceId, Name = name, Status = WorkflowRuntimeStatus.Running, Input = input, CreatedTime = now, LastUpdatedTime = now,
        };
        await store.PutAsync(state, create: true, CancellationToken.None);
        await store.AppendHistoryAsync(state,
        [
            new HistoryEvent { Type = HistoryEventType.OrchestratorStarted, Timestamp = now },
            new HistoryEvent { Type = HistoryEventType.ExecutionStarted, Timestamp = now, Name = name, Data = input, MessageId = "start-0" },
            new HistoryEvent { Type = HistoryEventType.ExecutionCompleted, Timestamp = now, Data = output },
        ], CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
    }
}
