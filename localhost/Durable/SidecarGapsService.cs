using System.Collections.Concurrent;
using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;

namespace Serverless.LocalHost.Durable;

/// <summary>
/// The task hub's orchestration service as the Durable Task sidecar (<c>TaskHubGrpcServer</c> of
/// Microsoft.DurableTask.InProcessTestHost 0.2.3-preview.1) needs it when its backend is Azure Storage and not its own
/// in-memory one. It delegates everything to the inner service and closes three gaps of that preview:
/// <list type="bullet">
/// <item>(a) The sidecar never renews an activity's message lease, so an activity running longer than the work-item
/// queue's visibility timeout is delivered again and runs twice. Here every locked activity has its lease renewed every
/// <see cref="ActivityLeaseRenewal"/> until it is completed or abandoned.</item>
/// <item>(b) The sidecar records a sub-orchestration's start as <c>GrpcSubOrchestrationInstanceCreatedEvent</c>, a subclass
/// without a data contract: Azure Storage writes its history row without an EventType and the parent can never be loaded
/// again. Here it is replaced by the <see cref="SubOrchestrationInstanceCreatedEvent"/> it extends before it is stored.</item>
/// <item>(c) A sub-orchestration's start message carries its tags as a protobuf MapField, which cannot be read back from
/// the queue (a poison message). Here they are copied into a plain dictionary.</item>
/// </list>
/// It also fixes the sidecar's pace: (d) its dispatcher stops fetching activities when it holds as many as the service
/// allows and looks again only every 500 ms, so a slot freed by a finished activity stayed idle for 250 ms on average.
/// Here the sidecar is told it may hold many, and a slot semaphore of the service's own limit makes the fetch wait
/// exactly until a slot frees.
/// Nothing here schedules, replays or persists: the engine is DurableTask.Core with DurableTask.AzureStorage.
/// </summary>
public sealed class SidecarGapsService(IOrchestrationService service, TimeSpan activityLeaseRenewal, SidecarGaps closed = SidecarGaps.All)
    : IOrchestrationService, IOrchestrationServiceClient, IOrchestrationServiceQueryClient, IOrchestrationServicePurgeClient, IDisposable
{
    /// <summary>What the sidecar's dispatcher is told it may hold when this service paces activities itself.</summary>
    internal const int UnthrottledDispatcherLimit = 10_000;

    private readonly IOrchestrationServiceClient _client = (IOrchestrationServiceClient)service;
    private readonly SemaphoreSlim _activitySlots = new(service.MaxConcurrentTaskActivityWorkItems, service.MaxConcurrentTaskActivityWorkItems);
    private readonly ConcurrentDictionary<TaskActivityWorkItem, byte> _slotted = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<TaskActivityWorkItem, ActivityLease> _leases = new(ReferenceEqualityComparer.Instance);
    private readonly CancellationTokenSource _stopping = new();

    public IOrchestrationService Inner => service;

    public TimeSpan ActivityLeaseRenewal => activityLeaseRenewal;

    /// <summary>How many activity leases were renewed (for tests and logs).</summary>
    public long ActivityLeaseRenewals => Interlocked.Read(ref _renewals);
    private long _renewals;

    // (a) Activity leases renewed while the activity runs.

    public async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        var paced = closed.HasFlag(SidecarGaps.ActivitySlots);
        if (paced) await _activitySlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        TaskActivityWorkItem workItem;
        try
        {
            workItem = await service.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (paced) _activitySlots.Release();
            throw;
        }
        if (paced)
        {
            if (workItem is null) _activitySlots.Release();
            else _slotted[workItem] = 0;
        }
        if (workItem is not null && closed.HasFlag(SidecarGaps.ActivityLeases))
        {
            var lease = new ActivityLease(CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token));
            _leases[workItem] = lease;
            lease.Loop = RenewWhileRunningAsync(workItem, lease);
        }
        return workItem!;
    }

    private async Task RenewWhileRunningAsync(TaskActivityWorkItem workItem, ActivityLease lease)
    {
        try
        {
            while (true)
            {
                await Task.Delay(activityLeaseRenewal, lease.Cancel.Token).ConfigureAwait(false);
                await lease.Gate.WaitAsync(lease.Cancel.Token).ConfigureAwait(false);
                try
                {
                    await service.RenewTaskActivityWorkItemLockAsync(workItem).ConfigureAwait(false);
                    Interlocked.Increment(ref _renewals);
                }
                catch (Exception) when (!lease.Cancel.IsCancellationRequested)
                {
                    // A failed renewal is retried at the next interval; the lease holds until its visibility timeout.
                }
                finally
                {
                    lease.Gate.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // completed, abandoned or stopping
        }
    }

    private async Task EndLeaseAsync(TaskActivityWorkItem workItem)
    {
        if (_slotted.TryRemove(workItem, out _)) _activitySlots.Release();
        if (!_leases.TryRemove(workItem, out var lease)) return;
        lease.Cancel.Cancel();
        await lease.Gate.WaitAsync().ConfigureAwait(false);
        lease.Gate.Release();
        lease.Cancel.Dispose();
    }

    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        await EndLeaseAsync(workItem).ConfigureAwait(false);
        await service.CompleteTaskActivityWorkItemAsync(workItem, responseMessage).ConfigureAwait(false);
    }

    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        await EndLeaseAsync(workItem).ConfigureAwait(false);
        await service.AbandonTaskActivityWorkItemAsync(workItem).ConfigureAwait(false);
    }

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) =>
        service.RenewTaskActivityWorkItemLockAsync(workItem);

    // (b) and (c): history and messages made storable before they are stored.

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        if (newOrchestrationRuntimeState is not null && closed.HasFlag(SidecarGaps.SubOrchestrationEvents))
        {
            ReplaceSubOrchestrationEvents(newOrchestrationRuntimeState.Events);
            ReplaceSubOrchestrationEvents(newOrchestrationRuntimeState.NewEvents);
        }
        if (workItem.OrchestrationRuntimeState is { } current && !ReferenceEquals(current, newOrchestrationRuntimeState) && closed.HasFlag(SidecarGaps.SubOrchestrationEvents))
        {
            ReplaceSubOrchestrationEvents(current.Events);
            ReplaceSubOrchestrationEvents(current.NewEvents);
        }
        foreach (var message in closed.HasFlag(SidecarGaps.SubOrchestrationTags) ? orchestratorMessages ?? [] : [])
        {
            if (message.Event is ExecutionStartedEvent started) started.Tags = PlainTags(started.Tags);
        }
        return service.CompleteTaskOrchestrationWorkItemAsync(
            workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);
    }

    /// <summary>Replaces each subclassed sub-orchestration-created event by the data-contract type it extends.</summary>
    internal static void ReplaceSubOrchestrationEvents(IList<HistoryEvent>? events)
    {
        if (events is null) return;
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i] is SubOrchestrationInstanceCreatedEvent created && created.GetType() != typeof(SubOrchestrationInstanceCreatedEvent))
            {
                events[i] = new SubOrchestrationInstanceCreatedEvent(created.EventId)
                {
                    Name = created.Name,
                    Version = created.Version,
                    InstanceId = created.InstanceId,
                    Input = created.Input,
                    ClientSpanId = created.ClientSpanId,
                    Tags = PlainTags(created.Tags),
                    Timestamp = created.Timestamp,
                    IsPlayed = created.IsPlayed,
                };
            }
        }
    }

    /// <summary>Tags as a plain dictionary (null stays null), whatever dictionary type they came in.</summary>
    internal static IDictionary<string, string>? PlainTags(IDictionary<string, string>? tags) =>
        tags is null or Dictionary<string, string> ? tags : new Dictionary<string, string>(tags, StringComparer.Ordinal);

    // Everything else is the inner service's.

    public int TaskOrchestrationDispatcherCount => service.TaskOrchestrationDispatcherCount;
    public int MaxConcurrentTaskOrchestrationWorkItems => service.MaxConcurrentTaskOrchestrationWorkItems;
    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => service.EventBehaviourForContinueAsNew;
    public int TaskActivityDispatcherCount => service.TaskActivityDispatcherCount;
    public int MaxConcurrentTaskActivityWorkItems =>
        closed.HasFlag(SidecarGaps.ActivitySlots) ? UnthrottledDispatcherLimit : service.MaxConcurrentTaskActivityWorkItems;

    public Task StartAsync() => service.StartAsync();
    public Task StopAsync() => StopAsync(false);

    /// <summary>
    /// Stops the inner service once, whoever asks first: the host's bounded stop and the sidecar's own dispatcher host
    /// (from an async void handler, where an exception would end the process) both call it, and Azure Storage's service
    /// throws when stopped twice. Never throws.
    /// </summary>
    public Task StopAsync(bool isForced)
    {
        lock (_stopGate)
        {
            return _stopped ??= StopOnceAsync(isForced);
        }
    }

    private async Task StopOnceAsync(bool isForced)
    {
        try
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await service.StopAsync(isForced).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            StopFailure = e;
        }
    }

    /// <summary>What the inner service threw while stopping, if anything.</summary>
    public Exception? StopFailure { get; private set; }

    private readonly object _stopGate = new();
    private Task? _stopped;

    public Task CreateAsync() => service.CreateAsync();
    public Task CreateAsync(bool recreateInstanceStore) => service.CreateAsync(recreateInstanceStore);
    public Task CreateIfNotExistsAsync() => service.CreateIfNotExistsAsync();
    public Task DeleteAsync() => service.DeleteAsync();
    public Task DeleteAsync(bool deleteInstanceStore) => service.DeleteAsync(deleteInstanceStore);
    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => service.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);
    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => service.GetDelayInSecondsAfterOnProcessException(exception);
    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => service.GetDelayInSecondsAfterOnFetchException(exception);
    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) => service.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => service.RenewTaskOrchestrationWorkItemLockAsync(workItem);
    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => service.AbandonTaskOrchestrationWorkItemAsync(workItem);
    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => service.ReleaseTaskOrchestrationWorkItemAsync(workItem);

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) => _client.CreateTaskOrchestrationAsync(creationMessage);
    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[] dedupeStatuses) => _client.CreateTaskOrchestrationAsync(creationMessage, dedupeStatuses);
    public Task SendTaskOrchestrationMessageAsync(TaskMessage message) => _client.SendTaskOrchestrationMessageAsync(message);
    public Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages) => _client.SendTaskOrchestrationMessageBatchAsync(messages);
    public Task<OrchestrationState> WaitForOrchestrationAsync(string instanceId, string executionId, TimeSpan timeout, CancellationToken cancellationToken) => _client.WaitForOrchestrationAsync(instanceId, executionId, timeout, cancellationToken);
    public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string reason) => _client.ForceTerminateTaskOrchestrationAsync(instanceId, reason);
    public Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions) => _client.GetOrchestrationStateAsync(instanceId, allExecutions);
    public Task<OrchestrationState> GetOrchestrationStateAsync(string instanceId, string executionId) => _client.GetOrchestrationStateAsync(instanceId, executionId);
    public Task<string> GetOrchestrationHistoryAsync(string instanceId, string executionId) => _client.GetOrchestrationHistoryAsync(instanceId, executionId);
    public Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc, OrchestrationStateTimeRangeFilterType timeRangeFilterType) => _client.PurgeOrchestrationHistoryAsync(thresholdDateTimeUtc, timeRangeFilterType);
    public Task<OrchestrationQueryResult> GetOrchestrationWithQueryAsync(OrchestrationQuery query, CancellationToken cancellationToken) => ((IOrchestrationServiceQueryClient)service).GetOrchestrationWithQueryAsync(query, cancellationToken);
    public Task<PurgeResult> PurgeInstanceStateAsync(string instanceId) => ((IOrchestrationServicePurgeClient)service).PurgeInstanceStateAsync(instanceId);
    public Task<PurgeResult> PurgeInstanceStateAsync(PurgeInstanceFilter purgeInstanceFilter) => ((IOrchestrationServicePurgeClient)service).PurgeInstanceStateAsync(purgeInstanceFilter);

    public void Dispose()
    {
        if (!_stopping.IsCancellationRequested) _stopping.Cancel();
        (service as IDisposable)?.Dispose();
    }

    private sealed class ActivityLease(CancellationTokenSource cancel)
    {
        public CancellationTokenSource Cancel { get; } = cancel;
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public Task? Loop { get; set; }
    }
}

/// <summary>The gaps of the preview sidecar that <see cref="SidecarGapsService"/> and <see cref="SidecarGrpcServer"/> close; all of them in every host (tests leave one open to show it).</summary>
[Flags]
public enum SidecarGaps
{
    None = 0,
    ActivityLeases = 1,
    SubOrchestrationEvents = 2,
    SubOrchestrationTags = 4,
    ActivitySlots = 8,

    /// <summary>A work item written to a stream the worker was leaving is never answered (closed by <see cref="SidecarGrpcServer"/>).</summary>
    LostWorkItems = 16,
    All = ActivityLeases | SubOrchestrationEvents | SubOrchestrationTags | ActivitySlots | LostWorkItems,
}
