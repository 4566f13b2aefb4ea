using System.Collections.Concurrent;
using DurableTask.Core;
using Grpc.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.Extensions.Options;
using P = Microsoft.DurableTask.Protobuf;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// The sidecar's gRPC service, with two things the preview package lacks on the worker's work-item stream:
/// <list type="bullet">
/// <item><b>Keep-alive.</b> While a worker is connected, a health ping goes down its stream every
/// <see cref="DurableEngineOptions.KeepAliveInterval"/>. The worker treats a stream that carries nothing for a while as
/// silently dropped and reconnects; the preview sidecar sends nothing while the task hub is idle, so without the pings an
/// idle host reconnected again and again, with warnings, and raced its own stale stream.</item>
/// <item><b>Redelivery.</b> The preview sidecar writes a work item to the stream it holds and waits for the answer without
/// a timeout. An item written to a stream the worker was leaving is never answered, and its orchestration waited forever
/// (seen once in CI). Every orchestrator and activity item is stamped with a completion token and kept until answered; an
/// item written less than <see cref="DurableEngineOptions.RedeliveryWindow"/> before its stream ended is written again to
/// the worker's next stream. An item written earlier than that was received (the worker runs what it received to the end
/// whatever becomes of the stream, and answers it over its own call), so it is not sent twice. An answer whose token is
/// not that of the item waiting under its key (the second answer of an item that ran twice) is dropped, so it can never
/// complete another episode of the same instance.</item>
/// </list>
/// </summary>
public sealed class SidecarGrpcServer(
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggerFactory,
    IOrchestrationService service,
    IOrchestrationServiceClient client,
    IOptions<TaskHubGrpcServerOptions> serverOptions,
    IOptions<DurableEngineOptions> engineOptions,
    SidecarGaps closed)
    : TaskHubGrpcServer(lifetime, loggerFactory, service, client, serverOptions)
{
    private static readonly Task<P.CompleteTaskResponse> Dropped = Task.FromResult(new P.CompleteTaskResponse());

    /// <summary>How long a new stream is given to be taken as the worker's (the base refuses a second one for about 60 ms) before items are written again to it.</summary>
    private static readonly TimeSpan SettleTime = TimeSpan.FromMilliseconds(250);

    private readonly ILogger _logger = loggerFactory.CreateLogger<SidecarGrpcServer>();
    private readonly ConcurrentDictionary<string, Delivery> _unanswered = new(StringComparer.OrdinalIgnoreCase);
    private long _streams;
    private int _redelivered;
    private int _dropped;

    /// <summary>Items written again to a new stream since the start.</summary>
    public int Redelivered => Volatile.Read(ref _redelivered);

    /// <summary>Answers dropped since the start: second answers of an item that ran twice.</summary>
    public int DroppedAnswers => Volatile.Read(ref _dropped);

    /// <summary>For tests: items this returns true for are kept as written but not sent, as a stream the worker is leaving loses them.</summary>
    internal Func<P.WorkItem, bool>? LoseForTest { get; set; }

    public override async Task GetWorkItems(P.GetWorkItemsRequest request, IServerStreamWriter<P.WorkItem> responseStream, ServerCallContext context)
    {
        var stream = new WorkerStream(this, responseStream, Interlocked.Increment(ref _streams));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var interval = engineOptions.Value.KeepAliveInterval;
        var pings = interval > TimeSpan.Zero ? PingAsync(stream, interval, stop.Token) : Task.CompletedTask;
        var redelivery = closed.HasFlag(SidecarGaps.LostWorkItems) ? RedeliverAsync(stream, stop.Token) : Task.CompletedTask;
        try
        {
            await base.GetWorkItems(request, stream, context).ConfigureAwait(false);
        }
        finally
        {
            stream.End();
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(pings, redelivery).ConfigureAwait(false);
        }
    }

    public override Task<P.CompleteTaskResponse> CompleteOrchestratorTask(P.OrchestratorResponse request, ServerCallContext context)
    {
        // The base tells a chunk from the final answer by IsPartial (obsolete in the protocol, read by the base all the same).
#pragma warning disable CS0612
        var final = !request.IsPartial;
#pragma warning restore CS0612
        return Answered(OrchestratorKey(request.InstanceId), request.CompletionToken, final) ? base.CompleteOrchestratorTask(request, context) : Dropped;
    }

    public override Task<P.CompleteTaskResponse> CompleteActivityTask(P.ActivityResponse request, ServerCallContext context) =>
        Answered(ActivityKey(request.InstanceId, request.TaskId), request.CompletionToken, final: true)
            ? base.CompleteActivityTask(request, context)
            : Dropped;

    /// <summary>
    /// True when the answer is for the item waiting under its key, which a final answer releases. False for an answer the
    /// base must not see: the second answer of an item that ran twice (the base would give it to whatever waits under
    /// that key now, another episode of the same instance).
    /// </summary>
    private bool Answered(string key, string token, bool final)
    {
        if (_unanswered.TryGetValue(key, out var delivery))
        {
            if (token.Length > 0 && token != delivery.Token)
            {
                Interlocked.Increment(ref _dropped);
                _logger.LogWarning("Dropped a second answer to {WorkItem}: it ran twice after it was written again to a new stream", key);
                return false;
            }
            if (final) _unanswered.TryRemove(new KeyValuePair<string, Delivery>(key, delivery));
            return true;
        }
        if (token.Length == 0) return true;
        Interlocked.Increment(ref _dropped);
        _logger.LogWarning("Dropped a second answer to {WorkItem}: it was answered already", key);
        return false;
    }

    private static string OrchestratorKey(string instanceId) => "orchestrator " + instanceId;

    private static string ActivityKey(string instanceId, int taskId) => $"activity {instanceId} #{taskId}";

    private static string? KeyOf(P.WorkItem item) => item.RequestCase switch
    {
        P.WorkItem.RequestOneofCase.OrchestratorRequest => OrchestratorKey(item.OrchestratorRequest.InstanceId),
        P.WorkItem.RequestOneofCase.ActivityRequest => ActivityKey(item.ActivityRequest.OrchestrationInstance.InstanceId, item.ActivityRequest.TaskId),
        _ => null,
    };

    /// <summary>
    /// Once the stream is the worker's, writes to it again every unanswered item written less than
    /// <see cref="DurableEngineOptions.RedeliveryWindow"/> before its own stream ended.
    /// </summary>
    private async Task RedeliverAsync(WorkerStream stream, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(SettleTime, cancellationToken).ConfigureAwait(false);
            var window = (long)engineOptions.Value.RedeliveryWindow.TotalMilliseconds;
            if (window <= 0) return;
            foreach (var (key, delivery) in _unanswered)
            {
                if (delivery.Stream == stream || delivery.Stream.EndedAt is not { } ended || ended - delivery.WrittenAt > window) continue;
                if (!_unanswered.TryUpdate(key, delivery with { Stream = stream, WrittenAt = Environment.TickCount64 }, delivery)) continue;
                _logger.LogWarning("{WorkItem} was written to a worker stream that ended before it was answered; writing it again to the new stream", key);
                await stream.WriteAgainAsync(delivery.Item, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _redelivered);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The stream ended too: what is left waits for the next one.
        }
    }

    private static async Task PingAsync(WorkerStream stream, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await stream.WriteAsync(new P.WorkItem { HealthPing = new P.HealthPing() }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            // The stream ended (the worker left or the host stops): no more pings on it.
        }
    }

    /// <summary>An item written to a stream and not answered yet.</summary>
    private sealed record Delivery(P.WorkItem Item, string Token, WorkerStream Stream, long WrittenAt);

    /// <summary>One worker's stream: one write at a time (work items, pings, items written again), each item kept until answered.</summary>
    private sealed class WorkerStream(SidecarGrpcServer server, IServerStreamWriter<P.WorkItem> inner, long number) : IServerStreamWriter<P.WorkItem>
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private long _endedAt;

        /// <summary>When the stream ended, in <see cref="Environment.TickCount64"/> milliseconds; null while it is open.</summary>
        public long? EndedAt => Volatile.Read(ref _endedAt) is var at && at > 0 ? at : null;

        public void End() => Volatile.Write(ref _endedAt, Math.Max(1, Environment.TickCount64));

        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(P.WorkItem message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(P.WorkItem message, CancellationToken cancellationToken)
        {
            // Kept before it is written: the worker may answer before the write returns.
            var key = KeyOf(message);
            if (key is not null)
            {
                if (message.CompletionToken.Length == 0) message.CompletionToken = Guid.NewGuid().ToString("N");
                server._unanswered[key] = new Delivery(message, message.CompletionToken, this, Environment.TickCount64);
                if (server.LoseForTest?.Invoke(message) == true) return;
            }
            try
            {
                await WriteNowAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch when (key is not null)
            {
                // The base gives up the item (its dispatcher abandons it, and the engine delivers it again).
                server._unanswered.TryRemove(key, out _);
                throw;
            }
        }

        public Task WriteAgainAsync(P.WorkItem message, CancellationToken cancellationToken) => WriteNowAsync(message, cancellationToken);

        private async Task WriteNowAsync(P.WorkItem message, CancellationToken cancellationToken)
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

        public override string ToString() => $"worker stream {number}";
    }
}
