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
    private readonly ConcurrentDictionary<string, CachedHistory> _histories = new();
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

    /// <summary>Where the time of a run went (see <see cref="WorkflowTimeline"/>); null for an unknown instance.</summary>
    public async Task<WorkflowTimeline?> GetTimelineAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var state = await _store.GetAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (state is null) return null;
        return WorkflowTimeline.From(state.CreatedTime, await _store.HistoryAsync(state, cancellationToken).ConfigureAwait(false));
    }

    private async Task StartInstanceAsync(string name, JsonNode? input, string instanceId, InstanceState? parent, int parentTaskId, CancellationToken ct)
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
            ParentInstanceId = parent?.InstanceId,
            ParentTaskId = parentTaskId,
            ParentExecution = parent?.Execution ?? 0,
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
        // The instance row is the start: an episode that finds a row without history begins the execution from it. The
        // message only wakes an engine in another process.
        await SendAsync(instanceId, StartEvent(state), ct).ConfigureAwait(false);
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
                _histories.Clear();
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

    /// <summary>
    /// Applies the inbox to one instance: replay, append the new events to the history, update the instance row, dispatch
    /// the work the new events ask for. The history append is the commit point: an episode that finds the end of an
    /// execution in the history but not on the instance row (a host stopped between the two writes) finishes it.
    /// </summary>
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
                Forget(instanceId);
                return;
            }
            IReadOnlyList<HistoryEvent> history = _histories.TryGetValue(instanceId, out var cached) && cached.Execution == state.Execution && cached.RowETag == state.ETag
                ? cached.Events
                : await _store.HistoryAsync(state, ct).ConfigureAwait(false);
            state = state with { NextSequence = history.Count };
            if (history.Count > 0 && HistoryEventType.IsTerminal(history[^1].Type))
            {
                await FinishAsync(state, history[^1], inbox, ct).ConfigureAwait(false);
                return;
            }

            var applied = history.Where(e => e.MessageId is not null).Select(e => e.MessageId!).ToHashSet(StringComparer.Ordinal);
            var fresh = inbox
                .Where(m => m.Message.Type != HistoryEventType.ExecutionStarted && !applied.Contains(m.Message.MessageId!)
                            && (m.Message.Execution is null || m.Message.Execution == state.Execution))
                .OrderBy(m => m.RowKey, StringComparer.Ordinal)
                .DistinctBy(m => m.Message.MessageId, StringComparer.Ordinal)
                .Select(m => m.Message)
                .ToList();
            // Messages applied already, or left over from an earlier execution; those of a later one wait for it.
            var consumed = inbox.Where(m => m.Message.Execution is null || m.Message.Execution <= state.Execution).Select(m => m.RowKey).ToList();
            if (history.Count == 0) fresh.Insert(0, StartEvent(state));
            if (fresh.Count == 0)
            {
                if (consumed.Count > 0) await _store.DeleteInboxAsync(instanceId, consumed, ct).ConfigureAwait(false);
                Dispatch(state, history, ct);
                return;
            }

            var now = DateTime.UtcNow;
            if (fresh.FirstOrDefault(m => m.Type == HistoryEventType.ExecutionTerminated) is { } terminate)
            {
                var end = terminate with { Timestamp = now };
                await _store.AppendHistoryAsync(state, [end], ct).ConfigureAwait(false);
                await FinishAsync(state with { NextSequence = state.NextSequence + 1 }, end, inbox, ct).ConfigureAwait(false);
                return;
            }

            var newEvents = new List<HistoryEvent> { new() { Type = HistoryEventType.OrchestratorStarted, Timestamp = now } };
            newEvents.AddRange(fresh);
            var all = history.Concat(newEvents).ToList();
            var workflow = _catalog.CreateWorkflow(_services, state.Name);
            var context = new ReplayContext(state.Name, instanceId, all, history.Count, _loggers);
            var result = context.Run(workflow);

            var toAppend = newEvents.Concat(result.NewActions).ToList();
            HistoryEvent? ending = null;
            if (result.ContinuedAsNew)
            {
                ending = new HistoryEvent { Type = HistoryEventType.ContinuedAsNew, Timestamp = now, Data = result.ContinueInput, Carried = result.Carried };
            }
            else if (result.Completed)
            {
                ending = result.Failure is null
                    ? new HistoryEvent { Type = HistoryEventType.ExecutionCompleted, Timestamp = now, Data = result.Output }
                    : new HistoryEvent { Type = HistoryEventType.ExecutionFailed, Timestamp = now, Failure = result.Failure };
            }
            if (ending is not null) toAppend.Add(ending);
            await _store.AppendHistoryAsync(state, toAppend, ct).ConfigureAwait(false);

            var next = state with
            {
                Status = WorkflowRuntimeStatus.Running,
                CustomStatus = result.CustomStatusSet ? result.CustomStatus : state.CustomStatus,
                LastUpdatedTime = now,
                NextSequence = state.NextSequence + toAppend.Count,
            };
            if (ending is not null)
            {
                await FinishAsync(next, ending, inbox, ct).ConfigureAwait(false);
                return;
            }
            next = next with { ETag = await _store.PutAsync(next, create: false, ct).ConfigureAwait(false) };
            _histories[instanceId] = new CachedHistory(next.Execution, next.ETag, [.. history, .. toAppend]);
            if (consumed.Count > 0) await _store.DeleteInboxAsync(instanceId, consumed, ct).ConfigureAwait(false);
            Changed(instanceId);
            Dispatch(next, all.Concat(result.NewActions).ToList(), ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private static HistoryEvent StartEvent(InstanceState state) => new()
    {
        Type = HistoryEventType.ExecutionStarted,
        Timestamp = state.CreatedTime,
        Name = state.Name,
        Data = state.Input,
        MessageId = $"start-{state.Execution}",
    };

    /// <summary>Brings the instance row in line with the event that ended its execution, and tells whoever waits.</summary>
    private async Task FinishAsync(InstanceState state, HistoryEvent end, IReadOnlyList<(string RowKey, HistoryEvent Message)> inbox, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var instanceId = state.InstanceId;
        var olderRows = inbox.Where(m => m.Message.Execution is null || m.Message.Execution <= state.Execution).Select(m => m.RowKey).ToList();
        if (end.Type == HistoryEventType.ContinuedAsNew)
        {
            var execution = state.Execution + 1;
            var carried = end.Carried ?? [];
            for (var i = 0; i < carried.Count; i++)
            {
                await _store.SendAsync(instanceId, carried[i] with { MessageId = $"carried-{execution}-{i}", Execution = execution }, ct).ConfigureAwait(false);
            }
            var restarted = state with
            {
                Status = WorkflowRuntimeStatus.Pending, Execution = execution, NextSequence = 0, Input = end.Data, Output = null, Failure = null,
                CreatedTime = now, LastUpdatedTime = now,
            };
            await _store.PutAsync(restarted, create: false, ct).ConfigureAwait(false);
            if (olderRows.Count > 0) await _store.DeleteInboxAsync(instanceId, olderRows, ct).ConfigureAwait(false);
            await _store.DeleteHistoryAsync(instanceId, state.Execution, ct).ConfigureAwait(false);
            Forget(instanceId);
            _ready.Writer.TryWrite(instanceId);
            return;
        }

        var (status, output, failure) = end.Type switch
        {
            HistoryEventType.ExecutionCompleted => (WorkflowRuntimeStatus.Completed, end.Data, (WorkflowFailureDetails?)null),
            HistoryEventType.ExecutionFailed => (WorkflowRuntimeStatus.Failed, null, end.Failure),
            _ => (WorkflowRuntimeStatus.Terminated, end.Data, null),
        };
        var ended = state with { Status = status, Output = output, Failure = failure, LastUpdatedTime = now };
        await _store.PutAsync(ended, create: false, ct).ConfigureAwait(false);
        if (inbox.Count > 0) await _store.DeleteInboxAsync(instanceId, inbox.Select(m => m.RowKey), ct).ConfigureAwait(false);
        Forget(instanceId);
        Changed(instanceId);
        if (failure is not null) _logger.LogWarning("Orchestration {InstanceId} ({Orchestrator}) failed: {Error}", instanceId, state.Name, failure.ErrorMessage);
        var parentFailure = status == WorkflowRuntimeStatus.Terminated
            ? new WorkflowFailureDetails("Terminated", $"Sub-orchestration {instanceId} was terminated: {end.Data}")
            : failure;
        await NotifyParentAsync(ended, output, parentFailure, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts the work the history asks for and nobody in this process is doing: activities without a result, timers not
    /// fired, children not started. A piece of work stays marked in flight until its result is in the history, so an
    /// episode that read the inbox before the result arrived does not start it twice.
    /// </summary>
    private void Dispatch(InstanceState state, IReadOnlyList<HistoryEvent> events, CancellationToken ct)
    {
        var finished = events.Where(e => HistoryEventType.IsResult(e.Type)).Select(e => e.TaskId).ToHashSet();
        foreach (var taskId in finished) _inFlight.TryRemove(InFlightKey(state, taskId), out _);
        foreach (var scheduled in events.Where(e => HistoryEventType.IsScheduling(e.Type) && !finished.Contains(e.TaskId)))
        {
            var key = InFlightKey(state, scheduled.TaskId);
            if (!_inFlight.TryAdd(key, 0)) continue;
            var work = scheduled.Type switch
            {
                HistoryEventType.TaskScheduled => RunActivityAsync(state, scheduled, ct),
                HistoryEventType.TimerCreated => FireTimerAsync(state, scheduled, ct),
                _ => StartChildAsync(state, scheduled, ct),
            };
            _ = work.ContinueWith(t =>
            {
                if (t.IsCompletedSuccessfully) return;
                _inFlight.TryRemove(key, out _);
                if (!t.IsFaulted) return;
                _logger.LogError(t.Exception, "Dispatching {TaskType} #{TaskId} of {InstanceId} failed; retrying", scheduled.Type, scheduled.TaskId, state.InstanceId);
                _ = Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => _ready.Writer.TryWrite(state.InstanceId), TaskScheduler.Default);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The history this engine wrote last for an instance, valid while the instance row still has the ETag of that write:
    /// only the lease holder writes, so a matching ETag means nobody appended since, and the table need not be read.
    /// </summary>
    private sealed record CachedHistory(int Execution, ETag RowETag, IReadOnlyList<HistoryEvent> Events);

    private static string InFlightKey(InstanceState state, int taskId) => $"{state.InstanceId}|{state.Execution}|{taskId}";

    private void Forget(string instanceId)
    {
        _histories.TryRemove(instanceId, out _);
        var prefix = instanceId + "|";
        foreach (var key in _inFlight.Keys)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal)) _inFlight.TryRemove(key, out _);
        }
    }

    private async Task RunActivityAsync(InstanceState state, HistoryEvent scheduled, CancellationToken ct)
    {
        var name = scheduled.Name!;
        var retry = scheduled.Retry;
        HistoryEvent outcome;
        DateTime? started = null;
        for (var attempt = 1; ; attempt++)
        {
            await _activitySlots.WaitAsync(ct).ConfigureAwait(false);
            started ??= DateTime.UtcNow;
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
        await SendAsync(state.InstanceId, outcome with
        {
            Timestamp = DateTime.UtcNow, StartedAt = started, MessageId = $"task-{state.Execution}-{scheduled.TaskId}", Execution = state.Execution,
        }, ct).ConfigureAwait(false);
    }

    private async Task FireTimerAsync(InstanceState state, HistoryEvent scheduled, CancellationToken ct)
    {
        var delay = (scheduled.FireAt ?? DateTime.UtcNow) - DateTime.UtcNow;
        if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
        await SendAsync(state.InstanceId, new HistoryEvent
        {
            Type = HistoryEventType.TimerFired, Timestamp = DateTime.UtcNow, TaskId = scheduled.TaskId,
            MessageId = $"timer-{state.Execution}-{scheduled.TaskId}", Execution = state.Execution,
        }, ct).ConfigureAwait(false);
    }

    private Task StartChildAsync(InstanceState state, HistoryEvent scheduled, CancellationToken ct) =>
        StartInstanceAsync(scheduled.Name!, scheduled.Data, scheduled.InstanceId!, state, scheduled.TaskId, ct);

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
            Execution = child.ParentExecution,
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
