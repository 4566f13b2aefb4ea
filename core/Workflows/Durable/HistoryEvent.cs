using System.Text.Json.Nodes;

namespace Serverless.Core.Workflows.Durable;

/// <summary>
/// One event of an orchestration's history, as Durable Task records them: the orchestrator is rebuilt by replaying
/// these in order. Messages waiting in an instance's inbox have the same shape and become history when processed.
/// </summary>
public sealed record HistoryEvent
{
    public required string Type { get; init; }
    public DateTime Timestamp { get; init; }

    /// <summary>The sequence number of the task, timer or sub-orchestration the event is about.</summary>
    public int TaskId { get; init; } = -1;

    /// <summary>Activity, orchestrator or event name.</summary>
    public string? Name { get; init; }

    /// <summary>Input, result or event payload.</summary>
    public JsonNode? Data { get; init; }

    public WorkflowFailureDetails? Failure { get; init; }
    public DateTime? FireAt { get; init; }

    /// <summary>On a task result: when the activity began to run (its first attempt, once it had a slot); the result's timestamp is when it ended.</summary>
    public DateTime? StartedAt { get; init; }

    /// <summary>The retry policy of a scheduled activity.</summary>
    public WorkflowRetryPolicy? Retry { get; init; }

    /// <summary>The sub-orchestration's instance id, on its creation event.</summary>
    public string? InstanceId { get; init; }

    /// <summary>The id of the inbox message the event came from; makes applying a message idempotent.</summary>
    public string? MessageId { get; init; }

    /// <summary>
    /// On a task, timer or sub-orchestration result: the execution it belongs to, so that a result arriving after
    /// ContinueAsNew is not applied to the new execution. Null on messages for whichever execution is current.
    /// </summary>
    public int? Execution { get; init; }

    /// <summary>On <see cref="HistoryEventType.ContinuedAsNew"/>: the raised events no code consumed, carried to the next execution.</summary>
    public IReadOnlyList<HistoryEvent>? Carried { get; init; }
}

/// <summary>Names of the history event types.</summary>
public static class HistoryEventType
{
    public const string ExecutionStarted = nameof(ExecutionStarted);
    public const string OrchestratorStarted = nameof(OrchestratorStarted);
    public const string TaskScheduled = nameof(TaskScheduled);
    public const string TaskCompleted = nameof(TaskCompleted);
    public const string TaskFailed = nameof(TaskFailed);
    public const string TimerCreated = nameof(TimerCreated);
    public const string TimerFired = nameof(TimerFired);
    public const string EventRaised = nameof(EventRaised);
    public const string SubOrchestrationCreated = nameof(SubOrchestrationCreated);
    public const string SubOrchestrationCompleted = nameof(SubOrchestrationCompleted);
    public const string SubOrchestrationFailed = nameof(SubOrchestrationFailed);
    public const string ExecutionCompleted = nameof(ExecutionCompleted);
    public const string ExecutionFailed = nameof(ExecutionFailed);
    public const string ExecutionTerminated = nameof(ExecutionTerminated);
    public const string ContinuedAsNew = nameof(ContinuedAsNew);

    public static bool IsScheduling(string type) => type is TaskScheduled or TimerCreated or SubOrchestrationCreated;

    public static bool IsResult(string type) =>
        type is TaskCompleted or TaskFailed or TimerFired or SubOrchestrationCompleted or SubOrchestrationFailed;

    /// <summary>Events that end an execution: once one is in the history, the execution is over whatever the instance row says.</summary>
    public static bool IsTerminal(string type) => type is ExecutionCompleted or ExecutionFailed or ExecutionTerminated or ContinuedAsNew;
}

/// <summary>Settings of the durable local engine, bound from <c>Pipeline:Workflows</c>.</summary>
public sealed class DurableWorkflowOptions
{
    public const string Section = "Pipeline:Workflows";

    /// <summary>Activities running at once (default: processor count).</summary>
    public int MaxConcurrentActivities { get; set; } = Environment.ProcessorCount;

    /// <summary>Orchestration episodes replayed at once.</summary>
    public int MaxConcurrentOrchestrations { get; set; } = 4;

    /// <summary>How long the engine's hold on the task hub lasts without renewal; a host killed mid-run is replaced after it.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the engine looks for messages other processes left in the inbox.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
