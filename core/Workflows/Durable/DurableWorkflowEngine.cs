using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Serverless.Core.Storage;

namespace Serverless.Core.Workflows.Durable;

/// <summary>
/// The local orchestration engine with Durable Functions semantics. Instances, their histories and their inboxes live in
/// Azure Tables; each episode replays the orchestrator over its history, appends what it newly scheduled, and dispatches
/// activities, timers and sub-orchestrations. One engine at a time holds the task hub (a renewed lease row); a host that
/// starts after another was killed takes the lease once it lapses and resumes every unfinished instance: activities
/// whose results are in the history are not run again.
/// </summary>
public sealed class DurableWorkflowEngine : IWorkflowClient, IHostedService, IAsyncDisposable
{
    private readonly WorkflowStore _store;
    private readonly IServiceProvider _services;
    private readonly WorkflowCatalog _catalog;
    private readonly DurableWorkflowOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new();
    private readonly ConcurrentDictionary<string, byte> _inFlight = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _changed = new();
    private readonly SemaphoreSlim _activitySlots;
    private readonly CancellationTokenSource _stopping = new();
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
    private Task? _running;

    public DurableWorkflowEngine(PipelineStorage storage, IServiceProvider services, WorkflowCatalog catalog, IOptions<DurableWorkflowOptions> options, ILoggerFactory loggers)
    {
        _store = new WorkflowStore(storage);
        _services = services;
        _catalog = catalog;
        _options = options.Value;
        _loggers = loggers;
        _logger = loggers.CreateLogger<DurableWorkflowEngine>();
        _activitySlots = new SemaphoreSlim(Math.Max(1, _options.MaxConcurrentActivities));
    }

    /// <summary>Whether this engine holds the task hub and runs orchestrations.</summary>
    public bool IsActive { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_running is not null) await _running.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        if (IsActive) await ReleaseLeaseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested) await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    public async Task<string> StartAsync(string orchestratorName, object? input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        _catalog.CreateWorkflow(_services, orchestratorName);
        instanceId ??= Guid.NewGuid().ToString("N");
        await StartInstanceAsync(orchestratorName, JsonSerializer.SerializeToNode(input, JsonBlobs.Options), instanceId, null, -1, cancellationToken).ConfigureAwait(false);
        return instanceId;
    }

    public async Task<WorkflowInstance?> GetAsync(string instanceId, CancellationToken cancellationToken = default) =>
        (await _store.GetAsync(instanceId, cancellationToken).ConfigureAwait(false))?.ToInstance();

    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventData, CancellationToken cancellationToken = default)
    {
        var state = await _store.GetAsync(instanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        if (state.IsFinished) return;
        await SendAsync(instanceId, new HistoryEvent
        {
            Type = HistoryEventType.EventRaised,
            Timestamp = DateTime.UtcNow,
            Name = eventName,
            Data = JsonSerializer.SerializeToNode(eventData, JsonBlobs.Options),
            MessageId = "event-" + Guid.NewGuid().ToString("N"),
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task TerminateAsync(string instanceId, string? reason, CancellationToken cancellationToken = default)
    {
        var state = await _store.GetAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (state is null || state.IsFinished) return;
        await SendAsync(instanceId, new HistoryEvent
        {
            Type = HistoryEventType.ExecutionTerminated,
            Timestamp = DateTime.UtcNow,
            Data = JsonValue.Create(reason),
            MessageId = "terminate-" + Guid.NewGuid().ToString("N"),
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var state = await _store.GetAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (state is null || !state.IsFinished) return false;
        await _store.DeleteAsync(instanceId, keepInstanceRow: false, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<WorkflowInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var changed = _changed.GetOrAdd(instanceId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            var state = await _store.GetAsync(instanceId, cancellationToken).ConfigureAwait(false)
                ?? throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
            if (state.IsFinished) return state.ToInstance();
            await Task.WhenAny(changed.Task, Task.Delay(500, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private async Task StartInstanceAsync(string name, JsonNode? input, string instanceId, string? parentId, int parentTaskId, CancellationToken ct)
    {
        var existing = await _store.GetAsync(instanceId, ct).ConfigureAwait(false);
        if (existing is not null && existing.Status is not (WorkflowRuntimeStatus.Failed or WorkflowRuntimeStatus.Terminated)) return;
        var now = DateTime.UtcNow;
        var state = new InstanceState
        {
            InstanceId = instanceId,
            Name = name,
            Status = WorkflowRuntimeStatus.Pending,
            Input = input,
            CreatedTime = now,
            LastUpdatedTime = now,
            Execution = (existing?.Execution ?? -1) + 1,
            ParentInstanceId = parentId,
            ParentTaskId = parentTaskId,
            ETag = existing?.ETag ?? default,
        };
        try
        {
            if (existing is not null) await _store.DeleteAsync(instanceId, keepInstanceRow: true, ct).ConfigureAwait(false);
            await _store.PutAsync(state, create: existing is null, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return;
        }
        await SendAsync(instanceId, new HistoryEvent
        {
            Type = HistoryEventType.ExecutionStarted,
            Timestamp = now,
            Name = name,
            Data = input,
            MessageId = $"start-{state.Execution}",
        }, ct).ConfigureAwait(false);
    }

    private async Task SendAsync(string instanceId, HistoryEvent message, CancellationToken ct)
    {
        await _store.SendAsync(instanceId, message, ct).ConfigureAwait(false);
        _ready.Writer.TryWrite(instanceId);
    }

    private async Task RunAsync(CancellationToken ct)
    {
        await _store.EnsureCreatedAsync().ConfigureAwait(false);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!await TryAcquireLeaseAsync(ct).ConfigureAwait(false))
                {
                    await Task.Delay(_options.LeaseDuration / 3, ct).ConfigureAwait(false);
                    continue;
                }
                IsActive = true;
                _logger.LogInformation("Workflow engine {Owner} holds the task hub; resuming unfinished orchestrations", _owner);
                foreach (var id in await _store.UnfinishedAsync(ct).ConfigureAwait(false)) _ready.Writer.TryWrite(id);
                using var held = CancellationTokenSource.CreateLinkedTokenSource(ct);
                var renewal = RenewLeaseAsync(held.Token);
                var polling = PollInboxAsync(held.Token);
                var workers = Enumerable.Range(0, Math.Max(1, _options.MaxConcurrentOrchestrations)).Select(_ => WorkAsync(held.Token)).ToList();
                await Task.WhenAny(renewal, Task.WhenAll(workers)).ConfigureAwait(false);
                await held.CancelAsync().ConfigureAwait(false);
                await Task.WhenAll([polling, .. workers]).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
                IsActive = false;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Workflow engine loop failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task PollInboxAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                foreach (var id in await _store.WithMessagesAsync(ct).ConfigureAwait(false)) _ready.Writer.TryWrite(id);
                await Task.Delay(_options.PollInterval, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RequestFailedException e)
            {
                _logger.LogWarning("Polling the workflow inbox failed: {Error}", e.Message);
                await Task.Delay(_options.PollInterval, ct).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    private async Task WorkAsync(CancellationToken ct)
    {
        await foreach (var instanceId in _ready.Reader.ReadAllAsync(ct).ConfigureAwait(false))
        {
            try
            {
                await RunEpisodeAsync(instanceId, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Episode of {InstanceId} failed; it will be retried", instanceId);
                _ = Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => _ready.Writer.TryWrite(instanceId), TaskScheduler.Default);
            }
        }
    }

    /// <summary>Applies the inbox to one instance: replay, persist the new events, dispatch the work they ask for.</summary>
    private async Task RunEpisodeAsync(string instanceId, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(instanceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var state = await _store.GetAsync(instanceId, ct).ConfigureAwait(false);
            if (state is null) return;
            var inbox = await _store.InboxAsync(instanceId, ct).ConfigureAwait(false);
            if (state.IsFinished)
            {
                if (inbox.Count > 0) await _store.DeleteInboxAsync(instanceId, inbox.Select(m => m.RowKey), ct).ConfigureAwait(false);
                return;
            }
            var history = await _store.HistoryAsync(state, ct).ConfigureAwait(false);
            var applied = history.Where(e => e.MessageId is not null).Select(e => e.MessageId!).ToHashSet(StringComparer.Ordinal);
            var fresh = inbox.Where(m => !applied.Contains(m.Message.MessageId!)).OrderBy(m => m.RowKey, StringComparer.Ordinal).ToList();
            var isStart = fresh.Any(m => m.Message.Type == HistoryEventType.ExecutionStarted);
            if (fresh.Count == 0 && history.Count > 0)
            {
                if (inbox.Count > 0) await _store.DeleteInboxAsync(instanceId, inbox.Select(m => m.RowKey), ct).ConfigureAwait(false);
                Dispatch(state, history, [], ct);
                return;
            }
            if (history.Count == 0 && !isStart) return;

            var now = DateTime.UtcNow;
            if (fresh.FirstOrDefault(m => m.Message.Type == HistoryEventType.ExecutionTerminated) is { Message: { } terminate })
            {
                var ended = state with { Status = WorkflowRuntimeStatus.Terminated, Output = terminate.Data, LastUpdatedTime = now, NextSequence = state.NextSequence + 1 };
                await _store.AppendHistoryAsync(state, [terminate], ct).ConfigureAwait(false);
                await _store.PutAsync(ended, create: false, ct).ConfigureAwait(false);
                await _store.DeleteInboxAsync(instanceId, inbox.Select(m => m.RowKey), ct).ConfigureAwait(false);
                await NotifyParentAsync(ended, null, new WorkflowFailureDetails("Terminated", $"Sub-orchestration {instanceId} was terminated: {terminate.Data}"), ct).ConfigureAwait(false);
                Changed(instanceId);
                return;
            }

            var newEvents = new List<HistoryEvent> { new() { Type = HistoryEventType.OrchestratorStarted, Timestamp = now } };
            newEvents.AddRange(fresh.Select(m => m.Message));
            var all = history.Concat(newEvents).ToList();
            var workflow = _catalog.CreateWorkflow(_services, state.Name);
            var context = new ReplayContext(state.Name, instanceId, all, history.Count, _loggers);
            var result = context.Run(workflow);

            var toAppend = newEvents.Concat(result.NewActions).ToList();
            var status = WorkflowRuntimeStatus.Running;
            JsonNode? output = null;
            WorkflowFailureDetails? failure = null;
            if (result.Completed)
            {
                status = result.Failure is null ? WorkflowRuntimeStatus.Completed : WorkflowRuntimeStatus.Failed;
                output = result.Output;
                failure = result.Failure;
                toAppend.Add(new HistoryEvent
                {
                    Type = result.Failure is null ? HistoryEventType.ExecutionCompleted : HistoryEventType.ExecutionFailed,
                    Timestamp = now,
                    Data = output,
                    Failure = failure,
                });
            }
            await _store.AppendHistoryAsync(state, toAppend, ct).ConfigureAwait(false);
            var next = state with
            {
                Status = status,
                Output = output,
                Failure = failure,
                CustomStatus = result.CustomStatusSet ? result.CustomStatus : state.CustomStatus,
                LastUpdatedTime = now,
                NextSequence = state.NextSequence + toAppend.Count,
            };
            if (result.ContinuedAsNew)
            {
                await _store.DeleteAsync(instanceId, keepInstanceRow: true, ct).ConfigureAwait(false);
                next = next with { Status = WorkflowRuntimeStatus.Pending, Execution = state.Execution + 1, NextSequence = 0, Input = result.ContinueInput };
                next = next with { ETag = await _store.PutAsync(next, create: false, ct).ConfigureAwait(false) };
                await SendAsync(instanceId, new HistoryEvent
                {
                    Type = HistoryEventType.ExecutionStarted, Timestamp = now, Name = state.Name, Data = result.ContinueInput, MessageId = $"start-{next.Execution}",
                }, ct).ConfigureAwait(false);
                return;
            }
            next = next with { ETag = await _store.PutAsync(next, create: false, ct).ConfigureAwait(false) };
            await _store.DeleteInboxAsync(instanceId, inbox.Select(m => m.RowKey), ct).ConfigureAwait(false);
            Changed(instanceId);

            if (result.Completed)
            {
                if (failure is not null) _logger.LogWarning("Orchestration {InstanceId} ({Orchestrator}) failed: {Error}", instanceId, state.Name, failure.ErrorMessage);
                await NotifyParentAsync(next, output, failure, ct).ConfigureAwait(false);
                return;
            }
            Dispatch(next, all, result.NewActions, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Starts the work the history asks for and nobody is doing: activities without a result, timers not fired, children not started.</summary>
    private void Dispatch(InstanceState state, IReadOnlyList<HistoryEvent> history, IReadOnlyList<HistoryEvent> newActions, CancellationToken ct)
    {
        var events = history.Concat(newActions).ToList();
        var finished = events.Where(e => e.Type is HistoryEventType.TaskCompleted or HistoryEventType.TaskFailed or HistoryEventType.TimerFired
            or HistoryEventType.SubOrchestrationCompleted or HistoryEventType.SubOrchestrationFailed).Select(e => e.TaskId).ToHashSet();
        foreach (var scheduled in events.Where(e => HistoryEventType.IsScheduling(e.Type) && !finished.Contains(e.TaskId)))
        {
            var key = $"{state.InstanceId}|{state.Execution}|{scheduled.TaskId}";
            if (!_inFlight.TryAdd(key, 0)) continue;
            var work = scheduled.Type switch
            {
                HistoryEventType.TaskScheduled => RunActivityAsync(state, scheduled, ct),
                HistoryEventType.TimerCreated => FireTimerAsync(state, scheduled, ct),
                _ => StartChildAsync(state, scheduled, ct),
            };
            _ = work.ContinueWith(t =>
            {
                if (scheduled.Type != HistoryEventType.SubOrchestrationCreated || t.IsFaulted) _inFlight.TryRemove(key, out _);
                if (t.IsFaulted) _logger.LogError(t.Exception, "Dispatching {TaskType} #{TaskId} of {InstanceId} failed", scheduled.Type, scheduled.TaskId, state.InstanceId);
            }, TaskScheduler.Default);
        }
    }

    private async Task RunActivityAsync(InstanceState state, HistoryEvent scheduled, CancellationToken ct)
    {
        var name = scheduled.Name!;
        var retry = scheduled.Retry;
        HistoryEvent outcome;
        for (var attempt = 1; ; attempt++)
        {
            await _activitySlots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await using var scope = _services.CreateAsyncScope();
                var activity = _catalog.CreateActivity(scope.ServiceProvider, name);
                var input = scheduled.Data?.Deserialize(activity.InputType, JsonBlobs.Options);
                var result = await activity.RunAsync(input, ct).ConfigureAwait(false);
                outcome = new HistoryEvent { Type = HistoryEventType.TaskCompleted, TaskId = scheduled.TaskId, Name = name, Data = JsonSerializer.SerializeToNode(result, JsonBlobs.Options) };
                break;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                if (retry is null || attempt >= retry.MaxNumberOfAttempts)
                {
                    outcome = new HistoryEvent { Type = HistoryEventType.TaskFailed, TaskId = scheduled.TaskId, Name = name, Failure = WorkflowFailureDetails.From(e) };
                    break;
                }
                _logger.LogWarning("Activity {Activity} #{TaskId} of {InstanceId} failed (attempt {Attempt}); retrying: {Error}", name, scheduled.TaskId, state.InstanceId, attempt, e.Message);
            }
            finally
            {
                _activitySlots.Release();
            }
            await Task.Delay(retry!.DelayBefore(attempt), ct).ConfigureAwait(false);
        }
        await SendAsync(state.InstanceId, outcome with { Timestamp = DateTime.UtcNow, MessageId = $"task-{state.Execution}-{scheduled.TaskId}" }, ct).ConfigureAwait(false);
    }

    private async Task FireTimerAsync(InstanceState state, HistoryEvent scheduled, CancellationToken ct)
    {
        var delay = (scheduled.FireAt ?? DateTime.UtcNow) - DateTime.UtcNow;
        if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        await SendAsync(state.InstanceId, new HistoryEvent
        {
            Type = HistoryEventType.TimerFired, Timestamp = DateTime.UtcNow, TaskId = scheduled.TaskId, MessageId = $"timer-{state.Execution}-{scheduled.TaskId}",
        }, ct).ConfigureAwait(false);
    }

    private Task StartChildAsync(InstanceState state, HistoryEvent scheduled, CancellationToken ct) =>
        StartInstanceAsync(scheduled.Name!, scheduled.Data, scheduled.InstanceId!, state.InstanceId, scheduled.TaskId, ct);

    private async Task NotifyParentAsync(InstanceState child, JsonNode? output, WorkflowFailureDetails? failure, CancellationToken ct)
    {
        if (child.ParentInstanceId is null) return;
        await SendAsync(child.ParentInstanceId, new HistoryEvent
        {
            Type = failure is null ? HistoryEventType.SubOrchestrationCompleted : HistoryEventType.SubOrchestrationFailed,
            Timestamp = DateTime.UtcNow,
            TaskId = child.ParentTaskId,
            Name = child.Name,
            Data = output,
            Failure = failure,
            MessageId = $"child-{child.InstanceId}-{child.Execution}",
        }, ct).ConfigureAwait(false);
    }

    private void Changed(string instanceId)
    {
        if (_changed.TryRemove(instanceId, out var waiter)) waiter.TrySetResult();
    }

    private async Task<bool> TryAcquireLeaseAsync(CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var lease = new TableEntity("hub", "lease") { ["Owner"] = _owner, ["Until"] = (now + _options.LeaseDuration).ToString("o", CultureInfo.InvariantCulture) };
        var existing = await _store.Hub.GetEntityIfExistsAsync<TableEntity>("hub", "lease", cancellationToken: ct).ConfigureAwait(false);
        try
        {
            if (!existing.HasValue)
            {
                await _store.Hub.AddEntityAsync(lease, ct).ConfigureAwait(false);
                return true;
            }
            var current = existing.Value!;
            var until = DateTimeOffset.Parse(current.GetString("Until") ?? "0001-01-01T00:00:00Z", CultureInfo.InvariantCulture);
            if (current.GetString("Owner") != _owner && until > now) return false;
            await _store.Hub.UpdateEntityAsync(lease, current.ETag, TableUpdateMode.Replace, ct).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }

    private async Task RenewLeaseAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(_options.LeaseDuration / 3, ct).ConfigureAwait(false);
            if (!await TryAcquireLeaseAsync(ct).ConfigureAwait(false))
            {
                _logger.LogError("Workflow engine {Owner} lost the task hub lease", _owner);
                return;
            }
        }
    }

    private async Task ReleaseLeaseAsync()
    {
        try
        {
            var existing = await _store.Hub.GetEntityIfExistsAsync<TableEntity>("hub", "lease").ConfigureAwait(false);
            if (existing.HasValue && existing.Value!.GetString("Owner") == _owner)
            {
                await _store.Hub.DeleteEntityAsync("hub", "lease", existing.Value.ETag).ConfigureAwait(false);
            }
        }
        catch (RequestFailedException)
        {
        }
    }
}
