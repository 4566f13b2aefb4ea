using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Serverless.LocalHost.Durable;
using Serverless.Orchestrations;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;
using P = Microsoft.DurableTask.Protobuf;

namespace Serverless.Tests.Durable;

/// <summary>
/// The gaps of the preview gRPC sidecar over Azure Storage, each shown open (the sidecar alone misbehaves) and
/// closed by <see cref="SidecarGapsService"/> or <see cref="SidecarGrpcServer"/>, on the real engine on Azurite. Should an upgrade of the sidecar close a
/// gap itself, its "open" test fails and says that the decorator's part for it can go.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SidecarGapsTests(AzuriteFixture azurite)
{
    private static readonly ConcurrentDictionary<string, int> Runs = new();

    // Two hosts on one task hub: a message whose lease lapses is taken by the other host (within one process the
    // backend refuses a second lock on a message it is already running).

    [Fact]
    public async Task ActivityLongerThanItsVisibilityTimeout_RunsOnce_WhenLeasesAreRenewed()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All);
        await using var other = await GapEngine.StartAsync(azurite, SidecarGaps.All, engine.Options.TaskHubName);
        var key = await RunSlowActivityAsync(engine);
        Assert.Equal(1, Runs[key]);
        Assert.True(engine.Sidecar.Service.ActivityLeaseRenewals + other.Sidecar.Service.ActivityLeaseRenewals > 0);
    }

    [Fact]
    public async Task ActivityLongerThanItsVisibilityTimeout_RunsTwice_WithoutLeaseRenewal()
    {
        var open = SidecarGaps.All & ~SidecarGaps.ActivityLeases;
        await using var engine = await GapEngine.StartAsync(azurite, open);
        await using var other = await GapEngine.StartAsync(azurite, open, engine.Options.TaskHubName);
        var key = await RunSlowActivityAsync(engine);
        Assert.True(Runs[key] >= 2, $"The activity ran {Runs[key]} time(s): the sidecar renews leases itself now; drop SidecarGaps.ActivityLeases.");
    }

    [Fact]
    public async Task SubOrchestration_ParentCompletes_AndItsHistoryRowsAllHaveAnEventType()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All);
        var parent = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ParentWorkflow), 3);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await engine.Client.WaitForInstanceCompletionAsync(parent, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(6, done.ReadOutputAs<int>());
        Assert.Empty(await HistoryRowsWithoutEventTypeAsync(engine, parent));
    }

    [Fact]
    public async Task SubOrchestration_HistoryRowLacksEventType_WithoutTheReplacement()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All & ~SidecarGaps.SubOrchestrationEvents);
        var parent = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ParentWorkflow), 3);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var missing = new List<string>();
        while (DateTime.UtcNow < deadline && missing.Count == 0)
        {
            await Task.Delay(500);
            missing = await HistoryRowsWithoutEventTypeAsync(engine, parent);
        }
        var state = await engine.Client.GetInstanceAsync(parent);
        Assert.True(missing.Count > 0 || state?.RuntimeStatus != OrchestrationRuntimeStatus.Completed,
            "The sub-orchestration-created event was stored with its EventType: the sidecar fixed it; drop SidecarGaps.SubOrchestrationEvents.");
    }

    [Fact]
    public async Task SubOrchestrationWithTags_Completes()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All);
        var parent = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TaggedParentWorkflow), 4);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await engine.Client.WaitForInstanceCompletionAsync(parent, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(8, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task SubOrchestrationWithTags_NeverStarts_WithoutPlainTags()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All & ~SidecarGaps.SubOrchestrationTags);
        var parent = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(TaggedParentWorkflow), 4);
        await Task.Delay(TimeSpan.FromSeconds(15));
        var state = await engine.Client.GetInstanceAsync(parent);
        Assert.True(state?.RuntimeStatus != OrchestrationRuntimeStatus.Completed,
            "A tagged sub-orchestration started without the tag copy: the sidecar fixed it; drop SidecarGaps.SubOrchestrationTags.");
    }

    // The worker reconnects a work-item stream that carries nothing for its silent-disconnect window (two minutes by
    // default, three seconds here); the sidecar's keep-alive pings keep an idle stream open. Without them the worker
    // leaves its idle stream while the sidecar still holds it, and a work item the sidecar writes there in that moment is
    // lost (in one CI run, before redelivery, an orchestration scheduled after the reconnects was unfinished after 60 s);
    // redelivery (e, below) writes it again to the next stream, so work runs after the reconnects either way.

    [Fact]
    public async Task IdleWorkerStream_StaysConnected_WithKeepAlivePings_AndWorkRunsAfterwards()
    {
        var logs = new CapturedLogs();
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All, keepAlive: TimeSpan.FromSeconds(1), silentDisconnect: TimeSpan.FromSeconds(3), logs: logs);
        await Task.Delay(TimeSpan.FromSeconds(10));

        Assert.Empty(logs.Reconnects);
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ParentWorkflow), 5);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await engine.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(10, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task IdleWorkerStream_Reconnects_WithoutKeepAlive_AndWorkStillRuns()
    {
        var logs = new CapturedLogs();
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All, keepAlive: TimeSpan.Zero, silentDisconnect: TimeSpan.FromSeconds(3), logs: logs);
        await Task.Delay(TimeSpan.FromSeconds(10));

        Assert.True(logs.Reconnects.Count > 0, "An idle worker stream without pings was not reconnected: the sidecar keeps it alive itself now; drop the keep-alive.");
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ParentWorkflow), 5);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await engine.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(10, done.ReadOutputAs<int>());
    }

    // (e) The sidecar waits for a work item's answer without a timeout, so an item written to a stream the worker was
    // leaving held its orchestration forever. The test loses the parent's first episode and the child's activity as such
    // a stream would (kept as written, not sent); the worker, hearing nothing, leaves the stream and comes back on a new
    // one. Closed, both items are written again to the new stream and the run completes; a forged answer to the waiting
    // activity (another token) is dropped, not taken for the activity's.

    [Fact]
    public async Task WorkItemsLostWithTheirStream_AreWrittenAgainToTheNextStream_AndTheRunCompletes()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All, keepAlive: TimeSpan.Zero, silentDisconnect: TimeSpan.FromSeconds(3));
        var server = engine.Sidecar.Server!;
        var lost = new ConcurrentQueue<P.WorkItem>();
        server.LoseForTest = item =>
        {
            if (lost.Any(l => l.RequestCase == item.RequestCase) || item.RequestCase is not (P.WorkItem.RequestOneofCase.OrchestratorRequest or P.WorkItem.RequestOneofCase.ActivityRequest)) return false;
            lost.Enqueue(item);
            return true;
        };

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ParentWorkflow), 5);
        var activity = await WaitForAsync(() => lost.FirstOrDefault(l => l.ActivityRequest is not null)?.ActivityRequest, TimeSpan.FromSeconds(60));
        var forged = new P.ActivityResponse { InstanceId = activity.OrchestrationInstance.InstanceId, TaskId = activity.TaskId, Result = "999", CompletionToken = "forged" };
        await server.CompleteActivityTask(forged, null!);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await engine.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(10, done.ReadOutputAs<int>());
        Assert.Equal(2, lost.Count);
        Assert.Equal(2, server.Redelivered);
        Assert.Equal(1, server.DroppedAnswers);
    }

    [Fact]
    public async Task WorkItemLostWithItsStream_IsNeverAnswered_WithoutRedelivery()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All & ~SidecarGaps.LostWorkItems, keepAlive: TimeSpan.Zero, silentDisconnect: TimeSpan.FromSeconds(3));
        var lost = 0;
        engine.Sidecar.Server!.LoseForTest = item => item.OrchestratorRequest is not null && Interlocked.Exchange(ref lost, 1) == 0;

        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ParentWorkflow), 5);
        // Time for the worker to leave the silent stream (3 s), come back (5 s later) and run what it is given.
        await Task.Delay(TimeSpan.FromSeconds(15));
        var state = await engine.Client.GetInstanceAsync(id);

        Assert.Equal(1, lost);
        Assert.NotEqual(OrchestrationRuntimeStatus.Completed, state!.RuntimeStatus);
        Assert.Equal(0, engine.Sidecar.Server.Redelivered);
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> read, TimeSpan timeout) where T : class
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            if (read() is { } value) return value;
            await Task.Delay(50, cancel.Token);
        }
    }

    // (d) Activities are paced by the service's slot semaphore, not the sidecar's 500 ms re-check: a fan-out wider than
    // the host's limit runs exactly that many at once, no more.

    [Fact]
    public async Task FanOutWiderThanTheLimit_RunsExactlyTheLimitAtOnce()
    {
        await using var engine = await GapEngine.StartAsync(azurite, SidecarGaps.All, maxActivities: 2);
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(ProbeFanOutWorkflow), 8);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var done = await engine.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(2, done.ReadOutputAs<int>());
    }

    private static async Task<string> RunSlowActivityAsync(GapEngine engine)
    {
        var key = Guid.NewGuid().ToString("N");
        var id = await engine.Client.ScheduleNewOrchestrationInstanceAsync(nameof(SlowWorkflow), key);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var done = await engine.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, timeout.Token);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        // A second delivery may still be running when the first result completes the instance: give it time to count.
        await Task.Delay(TimeSpan.FromSeconds(3));
        return key;
    }

    private static async Task<List<string>> HistoryRowsWithoutEventTypeAsync(GapEngine engine, string instanceId)
    {
        var table = new TableServiceClient(engine.ConnectionString).GetTableClient(engine.Options.TaskHubName + "History");
        var rows = new List<string>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            if (row.RowKey == "sentinel") continue;
            if (!row.ContainsKey("EventType")) rows.Add(row.RowKey);
        }
        return rows;
    }

    /// <summary>An activity that outlives its message's visibility timeout (4 s) several times over, and counts its runs.</summary>
    public sealed class SlowActivity : TaskActivity<string, int>
    {
        public override async Task<int> RunAsync(TaskActivityContext context, string key)
        {
            var run = Runs.AddOrUpdate(key, 1, (_, n) => n + 1);
            // Seven times the test hosts' 4 s visibility timeout, so the other host has time to take a lapsed message even on
            // a loaded machine: each time the message reappears either host may take it, and the one already running it
            // refuses it (with 10 s, and once with 16 s, a suite run saw the unrenewed activity run only once).
            await Task.Delay(TimeSpan.FromSeconds(28));
            return run;
        }
    }

    public sealed class SlowWorkflow : TaskOrchestrator<string, int>
    {
        public override Task<int> RunAsync(TaskOrchestrationContext context, string key) => context.CallActivityAsync<int>(nameof(SlowActivity), key);
    }

    /// <summary>Counts how many probes run at once; returns the most it saw.</summary>
    public sealed class ConcurrencyProbe : TaskActivity<string, int>
    {
        private static readonly ConcurrentDictionary<string, (int Now, int Max)> Seen = new();

        public override async Task<int> RunAsync(TaskActivityContext context, string key)
        {
            Seen.AddOrUpdate(key, (1, 1), (_, v) => (v.Now + 1, Math.Max(v.Max, v.Now + 1)));
            await Task.Delay(300);
            return Seen.AddOrUpdate(key, (0, 0), (_, v) => (v.Now - 1, v.Max)).Max;
        }
    }

    public sealed class ProbeFanOutWorkflow : TaskOrchestrator<int, int>
    {
        public override async Task<int> RunAsync(TaskOrchestrationContext context, int width)
        {
            var key = context.InstanceId;
            var seen = await Task.WhenAll(Enumerable.Range(0, width).Select(_ => context.CallActivityAsync<int>(nameof(ConcurrencyProbe), key)));
            return seen.Max();
        }
    }

    public sealed class Doubler : TaskActivity<int, int>
    {
        public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input * 2);
    }

    public sealed class ChildWorkflow : TaskOrchestrator<int, int>
    {
        public override Task<int> RunAsync(TaskOrchestrationContext context, int input) => context.CallActivityAsync<int>(nameof(Doubler), input);
    }

    public sealed class ParentWorkflow : TaskOrchestrator<int, int>
    {
        public override Task<int> RunAsync(TaskOrchestrationContext context, int input) =>
            context.CallSubOrchestratorAsync<int>(nameof(ChildWorkflow), input);
    }

    public sealed class TaggedParentWorkflow : TaskOrchestrator<int, int>
    {
        public override Task<int> RunAsync(TaskOrchestrationContext context, int input) =>
            context.CallSubOrchestratorAsync<int>(nameof(ChildWorkflow), input,
                new SubOrchestrationOptions(new TaskOptions(tags: new Dictionary<string, string> { ["model"] = "taxi" })));
    }

    /// <summary>The local host's engine (sidecar over Azure Storage, gRPC worker and client) with the test workflows above.</summary>
    private sealed class GapEngine : IAsyncDisposable
    {
        private readonly WorkerHost _worker;

        private GapEngine(WorkerHost worker, DurableSidecar sidecar, DurableEngineOptions options, string connectionString)
        {
            _worker = worker;
            Sidecar = sidecar;
            Options = options;
            ConnectionString = connectionString;
        }

        public DurableSidecar Sidecar { get; }
        public DurableEngineOptions Options { get; }
        public string ConnectionString { get; }
        public DurableTaskClient Client => _worker.Client;

        public static async Task<GapEngine> StartAsync(
            AzuriteFixture azurite, SidecarGaps closed, string? taskHub = null, TimeSpan? keepAlive = null, TimeSpan? silentDisconnect = null,
            CapturedLogs? logs = null, int maxActivities = 4)
        {
            var options = new DurableEngineOptions
            {
                TaskHubName = taskHub ?? "gaps" + Guid.NewGuid().ToString("N")[..10],
                WorkerId = Guid.NewGuid().ToString("N"),
                PartitionCount = 1,
                WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(4),
                ActivityLeaseRenewal = TimeSpan.FromSeconds(1),
                MaxConcurrentActivities = maxActivities,
                KeepAliveInterval = keepAlive ?? TimeSpan.FromSeconds(30),
            };
            var sidecar = new DurableSidecar(Microsoft.Extensions.Options.Options.Create(options), azurite.CreateStorage(), NullLoggerFactory.Instance, closed);
            await sidecar.StartAsync(CancellationToken.None);
            var worker = await WorkerHost.StartAsync(sidecar.Channel, sidecar.StopAsync, tasks => tasks
                .AddOrchestrator<SlowWorkflow>().AddActivity<SlowActivity>()
                .AddOrchestrator<ParentWorkflow>().AddOrchestrator<TaggedParentWorkflow>()
                .AddOrchestrator<ChildWorkflow>().AddActivity<Doubler>()
                .AddOrchestrator<ProbeFanOutWorkflow>().AddActivity<ConcurrencyProbe>(), builder =>
            {
                if (logs is not null) builder.Logging.AddProvider(logs);
                if (silentDisconnect is { } window)
                {
                    builder.Services.Configure<Microsoft.DurableTask.Worker.Grpc.GrpcDurableTaskWorkerOptions>(o =>
                        Microsoft.DurableTask.Worker.Grpc.Internal.InternalOptionsExtensions.SetSilentDisconnectTimeout(o, window));
                }
            });
            return new GapEngine(worker, sidecar, options, azurite.ConnectionString);
        }

        public async ValueTask DisposeAsync()
        {
            await _worker.DisposeAsync();
            await Sidecar.DisposeAsync();
        }
    }

    /// <summary>The worker's "stopped receiving traffic, will reconnect" warnings.</summary>
    private sealed class CapturedLogs : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _reconnects = new();

        public IReadOnlyCollection<string> Reconnects => _reconnects;

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturedLogs owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var message = formatter(state, exception);
                if (category.StartsWith("Microsoft.DurableTask", StringComparison.Ordinal) && message.Contains("reconnect", StringComparison.OrdinalIgnoreCase))
                {
                    owner._reconnects.Enqueue(message);
                }
            }
        }
    }
}
