using Grpc.Net.Client;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serverless.Orchestrations;

namespace Serverless.Testing;

/// <summary>
/// A plain host with a Durable Task worker (running <c>tasks</c>) and client on a sidecar's gRPC channel, with the
/// pipeline's payload converter, for tests and benchmarks that bring their own workflows. The sidecar's stop is
/// registered first, so it runs after the worker has stopped; the sidecar itself is the caller's to start and dispose.
/// </summary>
public sealed class WorkerHost : IAsyncDisposable
{
    private readonly IHost _host;

    private WorkerHost(IHost host) => _host = host;

    public DurableTaskClient Client => _host.Services.GetRequiredService<DurableTaskClient>();

    public static async Task<WorkerHost> StartAsync(
        GrpcChannel channel, Func<CancellationToken, Task> stopSidecar, Action<DurableTaskRegistry> tasks, Action<HostApplicationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(DurablePayloads.Converter);
        builder.Services.AddSingleton<IHostedService>(new StopLast(stopSidecar));
        builder.Services.AddDurableTaskWorker(worker =>
        {
            worker.AddTasks(tasks);
            worker.UseGrpc(channel);
        });
        builder.Services.AddDurableTaskClient(client =>
        {
            client.UseGrpc(channel);
            client.RegisterDirectly();
        });
        configure?.Invoke(builder);
        var host = builder.Build();
        await host.StartAsync();
        return new WorkerHost(host);
    }

    public async ValueTask DisposeAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(bound.Token);
        _host.Dispose();
    }

    /// <summary>Registered first, stopped last: the sidecar outlives the worker that talks to it.</summary>
    private sealed class StopLast(Func<CancellationToken, Task> stop) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => stop(cancellationToken);
    }
}
