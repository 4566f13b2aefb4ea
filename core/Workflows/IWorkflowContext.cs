using Microsoft.Extensions.Logging;

namespace Serverless.Core.Workflows;

/// <summary>
/// The orchestration context workflows are written against. It mirrors Durable Task's <c>TaskOrchestrationContext</c>
/// member for member, so the same workflow runs on the local engine and, through a thin adapter, on Durable Functions.
/// Workflow code must be deterministic: time from <see cref="CurrentUtcDateTime"/>, ids from <see cref="NewGuid"/>,
/// all I/O in activities.
/// </summary>
public interface IWorkflowContext
{
    string Name { get; }
    string InstanceId { get; }

    /// <summary>The orchestration's clock: the time of the current history event, the same on every replay.</summary>
    DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code re-executes steps the history already holds.</summary>
    bool IsReplaying { get; }

    T? GetInput<T>();

    /// <summary>Schedules an activity; a failure surfaces as <see cref="WorkflowTaskFailedException"/>.</summary>
    Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null);

    Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null);

    Task<TResult> CallSubOrchestratorAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null);

    /// <summary>A durable timer that fires at <paramref name="fireAt"/> (UTC).</summary>
    Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>Waits for an external event; throws <see cref="TaskCanceledException"/> when <paramref name="timeout"/> passes first.</summary>
    Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout);

    void SetCustomStatus(object? customStatus);

    /// <summary>Restarts the orchestration with new input and a fresh history.</summary>
    void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A deterministic GUID, the same on every replay.</summary>
    Guid NewGuid();

    /// <summary>A logger that writes only when not replaying.</summary>
    ILogger CreateReplaySafeLogger(string categoryName);
}

/// <summary>Options of a scheduled activity or sub-orchestration: a retry policy, and an instance id for a sub-orchestration.</summary>
public sealed record WorkflowTaskOptions(WorkflowRetryPolicy? Retry = null, string? InstanceId = null)
{
    public static WorkflowTaskOptions WithRetry(WorkflowRetryPolicy retry) => new(retry);
}

/// <summary>
/// Retries of a failed activity: as Durable Task's <c>RetryPolicy</c> (attempts include the first), and checked as it
/// checks them, so a policy the local engine accepts is one Durable Functions accepts too.
/// </summary>
public sealed record WorkflowRetryPolicy
{
    public WorkflowRetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxNumberOfAttempts, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        if (maxRetryInterval is { } max) ArgumentOutOfRangeException.ThrowIfLessThan(max, firstRetryInterval, nameof(maxRetryInterval));
        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval;
    }

    public int MaxNumberOfAttempts { get; }
    public TimeSpan FirstRetryInterval { get; }
    public double BackoffCoefficient { get; }
    public TimeSpan? MaxRetryInterval { get; }

    /// <summary>The delay before retry number <paramref name="retry"/> (1-based).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        var delay = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, retry - 1);
        var max = (MaxRetryInterval ?? TimeSpan.FromHours(1)).TotalMilliseconds;
        return TimeSpan.FromMilliseconds(Math.Min(delay, max));
    }
}

/// <summary>Details of a failed task, as Durable Task's <c>TaskFailureDetails</c>.</summary>
public sealed record WorkflowFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace = null, WorkflowFailureDetails? InnerFailure = null)
{
    public static WorkflowFailureDetails From(Exception e) =>
        new(e.GetType().FullName ?? e.GetType().Name, e.Message, e.StackTrace, e.InnerException is null ? null : From(e.InnerException));
}

/// <summary>An activity or sub-orchestration failed (after its retries); as Durable Task's <c>TaskFailedException</c>.</summary>
public sealed class WorkflowTaskFailedException(string taskName, int taskId, WorkflowFailureDetails failure)
    : Exception($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failure.ErrorMessage}")
{
    public string TaskName { get; } = taskName;
    public int TaskId { get; } = taskId;
    public WorkflowFailureDetails FailureDetails { get; } = failure;
}
