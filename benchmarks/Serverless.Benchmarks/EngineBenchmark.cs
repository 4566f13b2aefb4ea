using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Runtime.ExceptionServices;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask.Testing.Sidecar;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Storage;
using Serverless.LocalHost.Durable;
using Serverless.Testing;
using IOrchestrationService = DurableTask.Core.IOrchestrationService;
using IOrchestrationServiceClient = DurableTask.Core.IOrchestrationServiceClient;

namespace Serverless.Benchmarks;

/// <summary>
/// The Durable Task engine's own cost: N no-op activities one after another (cost per activity on the critical path) and
/// N fanned out at once, on the local host's engine (DurableTask.AzureStorage on a fresh Azurite, behind the in-process
/// gRPC sidecar, fresh task hub) and on the in-memory <see cref="DurableTaskTestHost"/> (same SDK worker and client, same
/// gRPC protocol, no storage), in one process. Medians of several runs after a warm-up run. Both run with the local host's
/// concurrency (the processor count), so the difference is the backend; the fan-out runs once more on each backend with
/// room for every activity at once, since the sidecar's dispatcher, once at its limit, looks for more work only every 500 ms.
/// </summary>
public static class EngineOverhead
{
    private const string Sequence = nameof(NoopSequence);
    private const string FanOut = nameof(NoopFanOut);
    private const string InMemory = "in-memory";
    private const string InMemoryUncapped = "in-memory uncapped";
    private const string Azure = "azure storage";
    private const string AzureUncapped = "azure uncapped";

    public static async Task<int> RunAsync(int activities, int runs)
    {
        if (activities < 1 || runs < 1) throw new ArgumentException("activities and runs must be at least 1.");
        // The in-memory test host builds its own hosts, which log every gRPC call at Information to the console unless told.
        if (Environment.GetEnvironmentVariable("Logging__LogLevel__Default") is null) Environment.SetEnvironmentVariable("Logging__LogLevel__Default", "Warning");
        var hub = "bench" + Guid.NewGuid().ToString("N")[..10];
        var settings = new DurableEngineOptions { TaskHubName = hub };
        // Each engine again with room for every activity at once (twice as much: reaching the limit exactly pauses too): the
        // sidecar's dispatcher stops fetching activities while its maximum run and looks again only every 500 ms, which the
        // local host's setting (the processor count) hits in any fan-out. The uncapped pair shows what the backends cost there.
        var uncapped = new DurableEngineOptions { TaskHubName = hub + "x", MaxConcurrentActivities = activities * 2 };
        Console.WriteLine($"engine: {activities} no-op activities, median of {runs} runs after 1 warm-up; {Environment.ProcessorCount} cores; " +
                          $"local host's concurrency: {settings.ResolvedMaxConcurrentActivities} activities / {settings.MaxConcurrentOrchestrations} orchestrations");
        Console.WriteLine($"  in-memory: DurableTaskTestHost (its sidecar runs at most {Environment.ProcessorCount} activities at once: the processor count)");
        Console.WriteLine($"  azure storage: DurableSidecar over Azurite (in memory), task hub {settings.TaskHubName}, {settings.PartitionCount} partitions, " +
                          $"MaxQueuePollingInterval {settings.MaxQueuePollingInterval.TotalSeconds:0.###} s");
        Console.WriteLine($"  uncapped (fan-out only): the same two backends behind a sidecar allowing {uncapped.ResolvedMaxConcurrentActivities} activities at once " +
                          $"(in-memory: the test host's InMemoryOrchestrationService; azure: task hub {uncapped.TaskHubName})");
        Console.WriteLine("  client ms: schedule until a GetInstance poll sees the end (every 10 ms in memory, 25 ms on Azurite); engine ms: the instance's CreatedAt to LastUpdatedAt");
        Console.WriteLine($"  load before: {LoadAverage()}");

        var results = new List<(string Engine, string Workload, Sample Median)>();
        var memoryPoll = TimeSpan.FromMilliseconds(10);
        var azurePoll = TimeSpan.FromMilliseconds(25);

        // In memory first, each engine stopped before the next starts: none's idle polling runs under another's measurement.
        await using (var memory = await DurableTaskTestHost.StartAsync(Register, new DurableTaskTestHostOptions
        {
            LoggerFactory = NullLoggerFactory.Instance,
            ConfigureServices = services => services.Configure<DurableTaskWorkerOptions>(o => DurableEngineExtensions.ApplyConcurrency(o, settings)),
        }))
        {
            foreach (var workload in new[] { Sequence, FanOut })
            {
                results.Add((InMemory, workload, await MedianAsync(memory.Client, workload, activities, runs, memoryPoll)));
            }
        }
        await using (var memory = await Engine.StartAsync(new CappedSidecar(new InMemoryOrchestrationService(NullLoggerFactory.Instance), uncapped.ResolvedMaxConcurrentActivities), uncapped))
        {
            results.Add((InMemoryUncapped, FanOut, await MedianAsync(memory.Client, FanOut, activities, runs, memoryPoll)));
        }

        await using var azurite = await AzuriteProcess.StartAsync();
        var storage = new PipelineStorage(Options.Create(new PipelineStorageOptions { ConnectionString = azurite.ConnectionString }));
        await using (var azure = await Engine.StartAsync(new StorageSidecar(new DurableSidecar(Options.Create(settings), storage, NullLoggerFactory.Instance)), settings))
        {
            foreach (var workload in new[] { Sequence, FanOut })
            {
                results.Add((Azure, workload, await MedianAsync(azure.Client, workload, activities, runs, azurePoll)));
            }
        }
        await using (var azure = await Engine.StartAsync(new StorageSidecar(new DurableSidecar(Options.Create(uncapped), storage, NullLoggerFactory.Instance)), uncapped))
        {
            results.Add((AzureUncapped, FanOut, await MedianAsync(azure.Client, FanOut, activities, runs, azurePoll)));
        }
        Console.WriteLine($"  load after:  {LoadAverage()}");

        Console.WriteLine();
        Console.WriteLine($"  {"workload",-22} {"engine",-19} {"client ms",10} {"ms/activity",12} {"engine ms",10} {"ms/activity",12} {"client min-max ms",20}");
        foreach (var workload in new[] { Sequence, FanOut })
        {
            var label = workload == Sequence ? $"{activities} in sequence" : $"{activities} fanned out";
            var rows = results.Where(r => r.Workload == workload).ToDictionary(r => r.Engine, r => r.Median);
            foreach (var (engine, m) in rows)
            {
                Console.WriteLine($"  {label,-22} {engine,-19} {m.Client,10:F1} {m.Client / activities,12:F2} {m.Engine,10:F1} {m.Engine / activities,12:F2} {$"{m.ClientMin:F1}-{m.ClientMax:F1}",20}");
            }
            foreach (var (slow, fast, name) in new[] { (Azure, InMemory, "ratio azure"), (AzureUncapped, InMemoryUncapped, "ratio uncapped") })
            {
                if (rows.TryGetValue(slow, out var s) && rows.TryGetValue(fast, out var f))
                {
                    Console.WriteLine($"  {label,-22} {name,-19} {s.Client / f.Client,9:G3}x {"",12} {s.Engine / f.Engine,9:G3}x");
                }
            }
        }
        return 0;
    }

    private static void Register(DurableTaskRegistry tasks) =>
        tasks.AddOrchestrator<NoopSequence>().AddOrchestrator<NoopFanOut>().AddActivity<Noop>();

    /// <summary>One warm-up run, then the median (and range) of <paramref name="runs"/> runs.</summary>
    private static async Task<Sample> MedianAsync(DurableTaskClient client, string workload, int activities, int runs, TimeSpan poll)
    {
        var samples = new List<(double Client, double Engine)>();
        for (var i = 0; i <= runs; i++)
        {
            var clock = Stopwatch.StartNew();
            var id = await client.ScheduleNewOrchestrationInstanceAsync(workload, activities);
            OrchestrationMetadata? state;
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
            while (true)
            {
                state = await client.GetInstanceAsync(id, getInputsAndOutputs: false);
                if (state is { IsCompleted: true }) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{workload} {id} did not end within 5 minutes ({state?.RuntimeStatus}).");
                await Task.Delay(poll);
            }
            clock.Stop();
            if (state.RuntimeStatus != OrchestrationRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"{workload} {id} ended {state.RuntimeStatus}.");
            }
            var done = await client.GetInstanceAsync(id, getInputsAndOutputs: true);
            if (done?.ReadOutputAs<int>() != activities) throw new InvalidOperationException($"{workload} {id} returned {done?.SerializedOutput}, not {activities}.");
            if (i > 0) samples.Add((clock.Elapsed.TotalMilliseconds, (state.LastUpdatedAt - state.CreatedAt).TotalMilliseconds));
        }
        return new Sample(Median(samples.Select(s => s.Client)), Median(samples.Select(s => s.Engine)),
            samples.Min(s => s.Client), samples.Max(s => s.Client));
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    internal static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private sealed record Sample(double Client, double Engine, double ClientMin, double ClientMax);

    public sealed class Noop : TaskActivity<int, int>
    {
        public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input);
    }

    /// <summary>N no-op activities, each awaited before the next is scheduled; returns N.</summary>
    public sealed class NoopSequence : TaskOrchestrator<int, int>
    {
        public override async Task<int> RunAsync(TaskOrchestrationContext context, int count)
        {
            var done = 0;
            for (var i = 0; i < count; i++)
            {
                await context.CallActivityAsync<int>(nameof(Noop), i);
                done++;
            }
            return done;
        }
    }

    /// <summary>N no-op activities scheduled at once and awaited together; returns N.</summary>
    public sealed class NoopFanOut : TaskOrchestrator<int, int>
    {
        public override async Task<int> RunAsync(TaskOrchestrationContext context, int count)
        {
            var results = await Task.WhenAll(Enumerable.Range(0, count).Select(i => context.CallActivityAsync<int>(nameof(Noop), i)));
            return results.Length;
        }
    }

    /// <summary>A gRPC sidecar the worker and client connect to: the local host's, or the in-memory backend's behind the same server.</summary>
    private interface ISidecar : IAsyncDisposable
    {
        GrpcChannel Channel { get; }
        Task StartAsync();
        Task StopAsync(CancellationToken cancellationToken);
    }

    /// <summary>The local host's <see cref="DurableSidecar"/> (Azure Storage) as it is.</summary>
    private sealed class StorageSidecar(DurableSidecar sidecar) : ISidecar
    {
        public GrpcChannel Channel => sidecar.Channel;
        public Task StartAsync() => sidecar.StartAsync(CancellationToken.None);
        public Task StopAsync(CancellationToken cancellationToken) => sidecar.StopAsync(cancellationToken);
        public ValueTask DisposeAsync() => sidecar.DisposeAsync();
    }

    /// <summary>
    /// An orchestration service behind Microsoft.DurableTask.InProcessTestHost's <c>TaskHubGrpcServer</c>, hosted the way
    /// <see cref="DurableSidecar"/> hosts it, with the dispatchers' concurrency set to <paramref name="maxWorkItems"/>
    /// (the in-memory service fixes it at the processor count).
    /// </summary>
    private sealed class CappedSidecar(IOrchestrationService service, int maxWorkItems) : ISidecar
    {
        private readonly int _port = AzuriteProcess.FreePort();
        private WebApplication? _server;
        private GrpcChannel? _channel;

        public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress($"http://127.0.0.1:{_port}");

        public async Task StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, _port, listen => listen.Protocols = HttpProtocols.Http2));
            builder.Services.AddGrpc();
            builder.Services.AddSingleton(WithConcurrency.Create(service, maxWorkItems));
            builder.Services.AddSingleton((IOrchestrationServiceClient)service);
            builder.Services.AddSingleton<TaskHubGrpcServer>();
            var app = builder.Build();
            app.MapGrpcService<TaskHubGrpcServer>();
            await app.StartAsync();
            _server = app;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            if (_server is not null) await _server.StopAsync(cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            if (_server is not null) await _server.DisposeAsync();
            _channel?.Dispose();
        }
    }

    /// <summary>An <see cref="IOrchestrationService"/> that forwards every call but answers its own concurrency limits.</summary>
    public class WithConcurrency : DispatchProxy
    {
        private IOrchestrationService _inner = null!;
        private int _max;

        public static IOrchestrationService Create(IOrchestrationService inner, int max)
        {
            var proxy = Create<IOrchestrationService, WithConcurrency>();
            var self = (WithConcurrency)(object)proxy;
            self._inner = inner;
            self._max = max;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name is "get_MaxConcurrentTaskActivityWorkItems" or "get_MaxConcurrentTaskOrchestrationWorkItems") return _max;
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }

    /// <summary>
    /// A sidecar with the workloads above: the sidecar started first, then a worker host on its channel with the local
    /// host's concurrency (<see cref="DurableEngineExtensions.ApplyConcurrency"/>); stopped in reverse.
    /// </summary>
    private sealed class Engine : IAsyncDisposable
    {
        private readonly WorkerHost _worker;
        private readonly ISidecar _sidecar;

        private Engine(WorkerHost worker, ISidecar sidecar)
        {
            _worker = worker;
            _sidecar = sidecar;
        }

        public DurableTaskClient Client => _worker.Client;

        public static async Task<Engine> StartAsync(ISidecar sidecar, DurableEngineOptions settings)
        {
            await sidecar.StartAsync();
            var worker = await WorkerHost.StartAsync(sidecar.Channel, sidecar.StopAsync, Register,
                builder => builder.Services.Configure<DurableTaskWorkerOptions>(o => DurableEngineExtensions.ApplyConcurrency(o, settings)));
            return new Engine(worker, sidecar);
        }

        public async ValueTask DisposeAsync()
        {
            await _worker.DisposeAsync();
            await _sidecar.DisposeAsync();
        }
    }
}
