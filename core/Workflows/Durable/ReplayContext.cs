using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Serverless.Core.Storage;

namespace Serverless.Core.Workflows.Durable;

/// <summary>The orchestrator code scheduled something other than what its history holds at the same position.</summary>
public sealed class NonDeterministicWorkflowException(string message) : Exception(message);

/// <summary>What one episode of an orchestration decided: the new scheduling events, and how it ended if it did.</summary>
internal sealed record EpisodeResult(
    IReadOnlyList<HistoryEvent> NewActions,
    bool Completed,
    JsonNode? Output,
    WorkflowFailureDetails? Failure,
    bool ContinuedAsNew,
    JsonNode? ContinueInput,
    IReadOnlyList<HistoryEvent> Carried,
    bool CustomStatusSet,
    JsonNode? CustomStatus);

/// <summary>
/// Runs orchestrator code against its history, as Durable Task does: the code runs from the start on a single-threaded
/// scheduler; each recorded completion is applied in history order and the code's continuations run before the next, so
/// the code takes the same path on every replay. Scheduling calls are matched with the recorded scheduling events by
/// sequence number; a mismatch fails the instance with a non-determinism error. Calls beyond the history are the
/// episode's new actions.
/// </summary>
internal sealed class ReplayContext : IWorkflowContext
{
    private readonly IReadOnlyList<HistoryEvent> _events;
    private readonly int _recorded;
    private readonly Dictionary<int, HistoryEvent> _scheduled = [];
    private readonly Dictionary<int, TaskCompletionSource<JsonNode?>> _open = [];
    private readonly Dictionary<int, string> _openNames = [];
    private readonly Dictionary<string, Queue<JsonNode?>> _bufferedEvents = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<JsonNode?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<HistoryEvent> _newActions = [];
    private readonly SingleThreadScheduler _scheduler = new();
    private readonly ILoggerFactory _loggers;
    private JsonNode? _input;
    private int _nextTaskId;
    private int _guidCounter;
    private string? _nonDeterminism;
    private bool _customStatusSet;
    private JsonNode? _customStatus;
    private bool _continueAsNew;
    private bool _preserveEvents;
    private JsonNode? _continueInput;

    public ReplayContext(string name, string instanceId, IReadOnlyList<HistoryEvent> events, int recorded, ILoggerFactory loggers)
    {
        Name = name;
        InstanceId = instanceId;
        _events = events;
        _recorded = recorded;
        _loggers = loggers;
        foreach (var e in events.Where(e => HistoryEventType.IsScheduling(e.Type))) _scheduled[e.TaskId] = e;
    }

    public string Name { get; }
    public string InstanceId { get; }
    public DateTime CurrentUtcDateTime { get; private set; }
    public bool IsReplaying { get; private set; }

    /// <summary>Replays the events and runs the code as far as it can go.</summary>
    public EpisodeResult Run(IWorkflow workflow)
    {
        Task<object?>? orchestration = null;
        for (var i = 0; i < _events.Count; i++)
        {
            var e = _events[i];
            IsReplaying = i < _recorded;
            switch (e.Type)
            {
                case HistoryEventType.OrchestratorStarted:
                    CurrentUtcDateTime = e.Timestamp;
                    break;
                case HistoryEventType.ExecutionStarted:
                    _input = e.Data;
                    var input = e.Data?.Deserialize(workflow.InputType, JsonBlobs.Options);
                    orchestration = Task.Factory.StartNew(() => workflow.RunAsync(this, input), CancellationToken.None, TaskCreationOptions.None, _scheduler).Unwrap();
                    break;
                case HistoryEventType.TaskCompleted or HistoryEventType.TimerFired or HistoryEventType.SubOrchestrationCompleted:
                    if (_open.Remove(e.TaskId, out var done)) done.TrySetResult(e.Data);
                    break;
                case HistoryEventType.TaskFailed or HistoryEventType.SubOrchestrationFailed:
                    if (_open.Remove(e.TaskId, out var failed))
                    {
                        failed.TrySetException(new WorkflowTaskFailedException(_openNames.GetValueOrDefault(e.TaskId, e.Name ?? ""), e.TaskId,
                            e.Failure ?? new WorkflowFailureDetails("Unknown", "The task failed.")));
                    }
                    break;
                case HistoryEventType.EventRaised:
                    Deliver(e.Name ?? "", e.Data);
                    break;
            }
            _scheduler.Drain();
            if (_nonDeterminism is not null) break;
        }
        IsReplaying = false;

        if (_nonDeterminism is not null)
        {
            return new EpisodeResult([], true, null, new WorkflowFailureDetails(typeof(NonDeterministicWorkflowException).FullName!, _nonDeterminism), false, null, [], _customStatusSet, _customStatus);
        }
        if (orchestration is null) throw new InvalidOperationException($"Orchestration {InstanceId} has no ExecutionStarted event.");
        if (_continueAsNew && orchestration.IsCompleted)
        {
            return new EpisodeResult([], false, null, null, true, _continueInput, _preserveEvents ? Unconsumed() : [], _customStatusSet, _customStatus);
        }
        if (orchestration.IsCompletedSuccessfully)
        {
            return new EpisodeResult(_newActions, true, JsonSerializer.SerializeToNode(orchestration.Result, JsonBlobs.Options), null, false, null, [], _customStatusSet, _customStatus);
        }
        if (orchestration.IsFaulted || orchestration.IsCanceled)
        {
            var error = orchestration.Exception?.InnerException ?? new TaskCanceledException("The orchestration was cancelled.");
            return new EpisodeResult(_newActions, true, null, WorkflowFailureDetails.From(error), false, null, [], _customStatusSet, _customStatus);
        }
        return new EpisodeResult(_newActions, false, null, null, false, null, [], _customStatusSet, _customStatus);
    }

    /// <summary>Raised events that arrived and that no code waited for, in arrival order per name.</summary>
    private List<HistoryEvent> Unconsumed() =>
    [
        .. _bufferedEvents.SelectMany(pair => pair.Value.Select(data => new HistoryEvent
        {
            Type = HistoryEventType.EventRaised, Timestamp = CurrentUtcDateTime, Name = pair.Key, Data = data?.DeepClone(),
        })),
    ];

    public T? GetInput<T>() => _input is null ? default : _input.Deserialize<T>(JsonBlobs.Options);

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        var node = await Schedule(HistoryEventType.TaskScheduled, name, input, options, null, null);
        return node is null ? default! : node.Deserialize<TResult>(JsonBlobs.Options)!;
    }

    public Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null) =>
        CallActivityAsync<JsonNode?>(name, input, options);

    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        var childId = options?.InstanceId ?? $"{InstanceId}:{_nextTaskId}";
        var node = await Schedule(HistoryEventType.SubOrchestrationCreated, name, input, options, null, childId);
        return node is null ? default! : node.Deserialize<TResult>(JsonBlobs.Options)!;
    }

    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var timer = Schedule(HistoryEventType.TimerCreated, null, null, null, fireAt, null);
        if (!cancellationToken.CanBeCanceled) return timer;
        var cancelled = new TaskCompletionSource(TaskCreationOptions.None);
        cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken));
        return Task.WhenAny(timer, cancelled.Task).Unwrap();
    }

    public async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        using var timerCancellation = new CancellationTokenSource();
        var timer = CreateTimer(CurrentUtcDateTime + timeout, timerCancellation.Token);
        var waiter = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.None);
        if (_bufferedEvents.TryGetValue(eventName, out var buffered) && buffered.Count > 0) waiter.TrySetResult(buffered.Dequeue());
        else
        {
            if (!_eventWaiters.TryGetValue(eventName, out var waiters)) _eventWaiters[eventName] = waiters = new();
            waiters.AddLast(waiter);
        }
        var winner = await Task.WhenAny(timer, waiter.Task);
        if (winner == waiter.Task)
        {
            timerCancellation.Cancel();
            var node = await waiter.Task;
            return node is null ? default! : node.Deserialize<T>(JsonBlobs.Options)!;
        }
        _eventWaiters.GetValueOrDefault(eventName)?.Remove(waiter);
        throw new TaskCanceledException($"External event '{eventName}' did not arrive within {timeout}.");
    }

    public void SetCustomStatus(object? customStatus)
    {
        _customStatusSet = true;
        _customStatus = JsonSerializer.SerializeToNode(customStatus, JsonBlobs.Options);
    }

    public void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true)
    {
        _continueAsNew = true;
        _preserveEvents = preserveUnprocessedEvents;
        _continueInput = JsonSerializer.SerializeToNode(newInput, JsonBlobs.Options);
    }

    /// <summary>A name-based GUID from the instance id, the episode time and a counter: the same on every replay.</summary>
    public Guid NewGuid()
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{InstanceId}|{CurrentUtcDateTime:o}|{_guidCounter++}"));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16));
    }

    public ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(this, _loggers.CreateLogger(categoryName));

    private Task<JsonNode?> Schedule(string type, string? name, object? input, WorkflowTaskOptions? options, DateTime? fireAt, string? childId)
    {
        var id = _nextTaskId++;
        var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.None);
        _open[id] = tcs;
        _openNames[id] = name ?? "timer";
        if (_scheduled.TryGetValue(id, out var recorded))
        {
            if (recorded.Type != type || !string.Equals(recorded.Name, name, StringComparison.Ordinal))
            {
                _nonDeterminism = $"Non-deterministic orchestration {InstanceId}: history has {recorded.Type} '{recorded.Name ?? "timer"}' #{id}, " +
                                  $"but the code scheduled {type} '{name ?? "timer"}' #{id}. Orchestrator code must make the same calls in the same order on every replay.";
                throw new NonDeterministicWorkflowException(_nonDeterminism);
            }
            return tcs.Task;
        }
        _newActions.Add(new HistoryEvent
        {
            Type = type,
            Timestamp = CurrentUtcDateTime,
            TaskId = id,
            Name = name,
            Data = JsonSerializer.SerializeToNode(input, JsonBlobs.Options),
            FireAt = fireAt,
            InstanceId = childId,
            Retry = options?.Retry,
        });
        return tcs.Task;
    }

    private void Deliver(string name, JsonNode? data)
    {
        if (_eventWaiters.TryGetValue(name, out var waiters) && waiters.First is { } first)
        {
            waiters.RemoveFirst();
            first.Value.TrySetResult(data);
            return;
        }
        if (!_bufferedEvents.TryGetValue(name, out var queue)) _bufferedEvents[name] = queue = new();
        queue.Enqueue(data);
    }

    /// <summary>Runs queued continuations on the calling thread, one at a time, in order.</summary>
    private sealed class SingleThreadScheduler : TaskScheduler
    {
        private readonly Queue<Task> _queue = new();

        public void Drain()
        {
            while (_queue.TryDequeue(out var task)) TryExecuteTask(task);
        }

        protected override void QueueTask(Task task) => _queue.Enqueue(task);

        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

        protected override IEnumerable<Task> GetScheduledTasks() => [.. _queue];
    }

    private sealed class ReplaySafeLogger(ReplayContext context, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !context.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!context.IsReplaying) inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
