using DurableTask.Core;
using Grpc.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Options;
using P = Microsoft.DurableTask.Protobuf;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// The sidecar's gRPC service with a keep-alive: while a worker is connected, a health ping goes down its work-item
/// stream every <see cref="DurableEngineOptions.KeepAliveInterval"/>. The Durable Task worker treats a stream that carries
/// nothing for two minutes as silently dropped and reconnects; the preview sidecar sends nothing while the task hub is
/// idle, so without the pings an idle host reconnected every two minutes, with warnings, and raced its own stale stream.
/// </summary>
public sealed class KeepAliveTaskHubGrpcServer(
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory,
    IOrchestrationService service,
    IOrchestrationServiceClient client,
    IOptions<TaskHubGrpcServerOptions> serverOptions,
    IOptions<DurableEngineOptions> engineOptions)
    : TaskHubGrpcServer(lifetime, loggerFactory, service, client, serverOptions)
{
    public override async Task GetWorkItems(P.GetWorkItemsRequest request, IServerStreamWriter<P.WorkItem> responseStream, ServerCallContext context)
    {
        var interval = engineOptions.Value.KeepAliveInterval;
        if (interval <= TimeSpan.Zero)
        {
            await base.GetWorkItems(request, responseStream, context).ConfigureAwait(false);
            return;
        }
        var writer = new SerializedWriter(responseStream);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var pings = PingAsync(writer, interval, stop.Token);
        try
        {
            await base.GetWorkItems(request, writer, context).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await pings.ConfigureAwait(false);
        }
    }

    private static async Task PingAsync(SerializedWriter writer, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await writer.WriteAsync(new P.WorkItem { HealthPing = new P.HealthPing() }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The stream ended (the worker left or the host stops): no more pings on it.
        }
    }

    /// <summary>One write at a time on the stream, whether a work item or a ping.</summary>
    private sealed class SerializedWriter(IServerStreamWriter<P.WorkItem> inner) : IServerStreamWriter<P.WorkItem>
    {
        private readonly SemaphoreSlim _gate = new(1, 1);

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(P.WorkItem message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(P.WorkItem message, CancellationToken cancellationToken)
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
