using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Hosting;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Workflows;
using Serverless.Core.Workflows.Durable;
using Serverless.Core.Workflows.InProcess;
using Serverless.Orchestrations;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// The durable engine's own cost, on a real Azurite started for the run: no-op activities one after another (cost per
/// activity on the critical path) and 100 fanned out at once, next to the same workflows on the in-process runner (no
/// persistence) in the same process; medians of several runs after a warm-up.
/// </summary>
public static class EngineOverhead
{
    public static async Task<int> RunAsync(int activities, int repeats)
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var storage = new PipelineStorageOptions { ConnectionString = azurite.ConnectionString, TablePrefix = "bench" };
        await using var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton(Options.Create(storage))
            .AddSingleton(Options.Create(new DurableWorkflowOptions()))
            .AddSingleton<PipelineStorage>()
            .AddSingleton<DurableWorkflowEngine>()
            .AddSingleton<InProcessWorkflowEngine>()
            .AddTestWorkflows()
            .BuildServiceProvider();
        var durable = services.GetRequiredService<DurableWorkflowEngine>();
        await durable.StartAsync(CancellationToken.None);
        var inProcess = services.GetRequiredService<InProcessWorkflowEngine>();
        Console.WriteLine($"engine overhead: {Environment.ProcessorCount} cores, MaxConcurrentActivities {new DurableWorkflowOptions().MaxConcurrentActivities}, " +
                          $"median of {repeats} runs after one warm-up");

        foreach (var (workflow, label) in new[] { (nameof(NoopSequenceWorkflow), "in sequence"), (nameof(NoopFanOutWorkflow), "fanned out") })
        {
            var durableTime = await MedianAsync(durable, workflow, activities, repeats);
            var inProcessTime = await MedianAsync(inProcess, workflow, activities, repeats);
            Console.WriteLine($"  {activities} no-op activities {label}: durable {durableTime.TotalMilliseconds:F0} ms " +
                              $"({durableTime.TotalMilliseconds / activities:F2} ms per activity), in-process runner {inProcessTime.TotalMilliseconds:F1} ms, " +
                              $"ratio {durableTime / inProcessTime:F0}x");
        }
        await durable.StopAsync(CancellationToken.None);
        return 0;
    }

    private static async Task<TimeSpan> MedianAsync(IWorkflowClient engine, string workflow, int activities, int repeats)
    {
        var times = new List<TimeSpan>();
        for (var i = 0; i <= repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            var id = await engine.StartAsync(workflow, activities);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            var done = await engine.WaitForCompletionAsync(id, timeout.Token);
            clock.Stop();
            if (done.RuntimeStatus != WorkflowRuntimeStatus.Completed || done.Output?.GetValue<int>() != activities)
            {
                throw new InvalidOperationException($"{workflow} ended {done.RuntimeStatus} with {done.Output}: {done.FailureDetails?.ErrorMessage}");
            }
            if (i > 0) times.Add(clock.Elapsed);
        }
        times.Sort();
        return times[times.Count / 2];
    }
}

/// <summary>
/// The training workflow on the durable engine over Azurite, on the taxi data (100,000 rows, regression): its wall time
/// (instance created to execution ended) next to the sum of its activities' times on the critical path.
/// </summary>
public static class TrainingOverhead
{
    public static async Task<int> RunAsync(int runs)
    {
        await using var azurite = await AzuriteProcess.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Pipeline:Storage:ConnectionString"] = azurite.ConnectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.AddPipelineCore();
        builder.AddPipelineIngestion();
        builder.AddPipelineTraining();
        builder.AddPipelineOrchestrations();
        builder.AddDurableWorkflows();
        using var host = builder.Build();
        await host.StartAsync();
        var storage = host.Services.GetRequiredService<PipelineStorage>();
        var engine = host.Services.GetRequiredService<DurableWorkflowEngine>();
        var dropZone = host.Services.GetRequiredService<DropZone>();
        await storage.EnsureCreatedAsync();

        Console.WriteLine($"training workflow: taxi, {Environment.ProcessorCount} cores, MaxConcurrentActivities {new DurableWorkflowOptions().MaxConcurrentActivities}");
        for (var run = 1; run <= runs; run++)
        {
            var model = $"taxi{run}";
            await host.Services.GetRequiredService<ModelSpecStore>().SetAsync(model, new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression }, CancellationToken.None);
            await using (var file = File.OpenRead(Path.Combine(ScaledData.Datasets, "taxi", "taxi-fare-train.csv")))
            {
                await storage.Incoming.GetBlobClient($"{model}/taxi-fare-train.csv").UploadAsync(file, overwrite: true);
            }
            var dropped = await dropZone.HandleAsync($"{model}/taxi-fare-train.csv", engine, CancellationToken.None);
            var id = dropped.InstanceId ?? throw new InvalidOperationException($"Ingestion did not start training: {dropped.Ingestion.Status}");
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
            var done = await engine.WaitForCompletionAsync(id, timeout.Token);
            if (done.RuntimeStatus != WorkflowRuntimeStatus.Completed)
            {
                throw new InvalidOperationException($"Training ended {done.RuntimeStatus}: {done.FailureDetails?.ErrorMessage}");
            }
            var timeline = (await engine.GetTimelineAsync(id))!;
            Console.WriteLine($"  run {run} ({done.Output?["status"]}, winner {done.Output?["winner"]}): wall {timeline.Wall.TotalSeconds:F2} s, " +
                              $"critical path {timeline.CriticalPathTime.TotalSeconds:F2} s in {timeline.CriticalPath.Count} activities, " +
                              $"overhead {timeline.Overhead.TotalSeconds:F2} s = {timeline.OverheadShare:P1} of wall; " +
                              $"all {timeline.Activities.Count} activities summed {timeline.Activities.Sum(a => a.Duration.TotalSeconds):F2} s");
            foreach (var step in timeline.CriticalPath)
            {
                Console.WriteLine($"      {step.Name,-18} {(step.Start - done.CreatedTime).TotalSeconds,7:F2} s +{step.Duration.TotalSeconds:F2} s");
            }
        }
        await host.StopAsync();
        return 0;
    }
}
