using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Client.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.Extensions.Options;
using Serverless.Orchestrations;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// Registration of the local host's Durable Task engine: the sidecar over Azure Storage, the Durable Task worker running
/// the training workflow and the <see cref="DurableTaskClient"/> the API and the blob trigger use.
/// </summary>
public static class DurableEngineExtensions
{
    public static IHostApplicationBuilder AddLocalDurableEngine(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DurableEngineOptions>().BindConfiguration(DurableEngineOptions.Section);
        builder.Services.AddSingleton<DurableSidecar>();
        // First of the engine's hosted services: it starts before the worker connects and stops after it has gone.
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DurableSidecar>());

        builder.Services.AddDurableTaskWorker(worker =>
        {
            worker.AddTasks(tasks => tasks.AddTrainingWorkflow());
            worker.UseGrpc();
        });
        builder.Services.AddOptions<GrpcDurableTaskWorkerOptions>(Options.DefaultName)
            .Configure<DurableSidecar>((options, sidecar) => options.Channel = sidecar.Channel);
        builder.Services.AddOptions<DurableTaskWorkerOptions>(Options.DefaultName)
            .Configure<DurableSidecar>((options, sidecar) => ApplyConcurrency(options, sidecar.Options));

        builder.Services.AddDurableTaskClient(client =>
        {
            client.UseGrpc();
            client.RegisterDirectly();
        });
        builder.Services.AddOptions<GrpcDurableTaskClientOptions>(Options.DefaultName)
            .Configure<DurableSidecar>((options, sidecar) => options.Channel = sidecar.Channel);

        // The engine logs every poll at Information; the console keeps its warnings.
        builder.Logging.AddFilter("DurableTask.AzureStorage", LogLevel.Warning);
        builder.Logging.AddFilter("DurableTask.Core", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.DurableTask", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        return builder;
    }

    /// <summary>The worker's concurrency, from the engine's settings (the sidecar paces activities with the same limit).</summary>
    public static void ApplyConcurrency(DurableTaskWorkerOptions options, DurableEngineOptions engine)
    {
        options.Concurrency.MaximumConcurrentActivityWorkItems = engine.ResolvedMaxConcurrentActivities;
        options.Concurrency.MaximumConcurrentOrchestrationWorkItems = engine.MaxConcurrentOrchestrations;
    }
}
