using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Serverless.Core.Workflows;

namespace Serverless.Functions.Durable;

/// <summary>
/// The workflow context over Durable Task's <see cref="TaskOrchestrationContext"/>, member for member, so the workflows
/// of <c>orchestrations/</c> run on Durable Functions unchanged. Task failures arrive as the one exception type the
/// workflows catch, <see cref="WorkflowTaskFailedException"/>; an external event that does not arrive in time ends the
/// wait with <see cref="TaskCanceledException"/>, as <see cref="IWorkflowContext"/> promises; a timer time of unspecified
/// <see cref="DateTimeKind"/> is taken as UTC, as the interface says, where Durable Task would read it as local time.
/// </summary>
public sealed class DurableWorkflowContext(TaskOrchestrationContext context) : IWorkflowContext
{
    public string Name => context.Name.Name;
    public string InstanceId => context.InstanceId;
    public DateTime CurrentUtcDateTime => context.CurrentUtcDateTime;
    public bool IsReplaying => context.IsReplaying;

    public T? GetInput<T>() => context.GetInput<T>();

    public async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        try
        {
            return await context.CallActivityAsync<TResult>(name, input, ToTaskOptions(options));
        }
        catch (TaskFailedException e)
        {
            throw Translate(e);
        }
    }

    public async Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        try
        {
            await context.CallActivityAsync(name, input, ToTaskOptions(options));
        }
        catch (TaskFailedException e)
        {
            throw Translate(e);
        }
    }

    public async Task<TResult> CallSubOrchestratorAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
    {
        TaskOptions? taskOptions = ToTaskOptions(options);
        if (options?.InstanceId is { } instanceId)
        {
            taskOptions = new SubOrchestrationOptions(taskOptions ?? new TaskOptions(), instanceId);
        }
        try
        {
            return await context.CallSubOrchestratorAsync<TResult>(name, input: input, options: taskOptions);
        }
        catch (TaskFailedException e)
        {
            throw Translate(e);
        }
    }

    public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken) =>
        context.CreateTimer(fireAt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(fireAt, DateTimeKind.Utc) : fireAt, cancellationToken);

    public async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        try
        {
            return await context.WaitForExternalEvent<T>(eventName, timeout);
        }
        catch (OperationCanceledException e)
        {
            throw new TaskCanceledException($"External event '{eventName}' did not arrive within {timeout}.", e);
        }
    }

    public void SetCustomStatus(object? customStatus) => context.SetCustomStatus(customStatus);

    public void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
        context.ContinueAsNew(newInput, preserveUnprocessedEvents);

    public Guid NewGuid() => context.NewGuid();

    public ILogger CreateReplaySafeLogger(string categoryName) => context.CreateReplaySafeLogger(categoryName);

    private static TaskOptions? ToTaskOptions(WorkflowTaskOptions? options) =>
        options?.Retry is { } retry
            ? TaskOptions.FromRetryPolicy(new RetryPolicy(retry.MaxNumberOfAttempts, retry.FirstRetryInterval, retry.BackoffCoefficient, retry.MaxRetryInterval))
            : null;

    private static WorkflowTaskFailedException Translate(TaskFailedException e) =>
        new(e.TaskName, e.TaskId, Details(e.FailureDetails));

    private static WorkflowFailureDetails Details(TaskFailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is null ? null : Details(details.InnerFailure));
}
