namespace Serverless.Core.Workflows;

/// <summary>An orchestrator: deterministic code that schedules activities through the context.</summary>
public interface IWorkflow
{
    Type InputType { get; }
    Task<object?> RunAsync(IWorkflowContext context, object? input);
}

/// <summary>A typed orchestrator; registered by its class name.</summary>
public abstract class Workflow<TInput, TOutput> : IWorkflow
{
    public Type InputType => typeof(TInput);

    public abstract Task<TOutput> RunAsync(IWorkflowContext context, TInput input);

    // No ConfigureAwait(false): orchestrator continuations must stay on the engine's replay scheduler.
    async Task<object?> IWorkflow.RunAsync(IWorkflowContext context, object? input) => await RunAsync(context, (TInput)input!);
}

/// <summary>An activity: where all I/O happens. Activities throw on failure; the orchestrator decides about retries.</summary>
public interface IWorkflowActivity
{
    Type InputType { get; }
    Task<object?> RunAsync(object? input, CancellationToken cancellationToken);
}

/// <summary>A typed activity; registered by its class name.</summary>
public abstract class WorkflowActivity<TInput, TOutput> : IWorkflowActivity
{
    public Type InputType => typeof(TInput);

    public abstract Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken);

    async Task<object?> IWorkflowActivity.RunAsync(object? input, CancellationToken cancellationToken) =>
        await RunAsync((TInput)input!, cancellationToken).ConfigureAwait(false);
}

/// <summary>Runtime status of an orchestration instance, named as in Durable Functions.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<WorkflowRuntimeStatus>))]
public enum WorkflowRuntimeStatus { Pending, Running, Completed, ContinuedAsNew, Failed, Terminated, Suspended }

/// <summary>The status of an orchestration instance as Durable Functions reports it over HTTP.</summary>
public sealed record WorkflowInstance
{
    public required string Name { get; init; }
    public required string InstanceId { get; init; }
    /// <summary>Pascal-cased as Durable Functions writes it ("Running", "Completed"), whatever the serializer's enum policy.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<WorkflowRuntimeStatus>))]
    public required WorkflowRuntimeStatus RuntimeStatus { get; init; }
    public System.Text.Json.Nodes.JsonNode? Input { get; init; }
    public System.Text.Json.Nodes.JsonNode? Output { get; init; }
    public System.Text.Json.Nodes.JsonNode? CustomStatus { get; init; }
    public required DateTime CreatedTime { get; init; }
    public required DateTime LastUpdatedTime { get; init; }
    public WorkflowFailureDetails? FailureDetails { get; init; }
}

/// <summary>
/// Starts and manages orchestration instances; mirrors Durable Task's <c>DurableTaskClient</c>. Both the local engine and
/// the Functions adapter implement it, so the shared HTTP handlers and triggers work on either host.
/// </summary>
public interface IWorkflowClient
{
    /// <summary>
    /// Starts an orchestration. With a caller-chosen <paramref name="instanceId"/> the start is idempotent: an instance
    /// that already exists and has not failed or been terminated is left alone and its id returned.
    /// </summary>
    Task<string> StartAsync(string orchestratorName, object? input, string? instanceId = null, CancellationToken cancellationToken = default);

    Task<WorkflowInstance?> GetAsync(string instanceId, CancellationToken cancellationToken = default);

    Task RaiseEventAsync(string instanceId, string eventName, object? eventData, CancellationToken cancellationToken = default);

    Task TerminateAsync(string instanceId, string? reason, CancellationToken cancellationToken = default);

    Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Waits until the instance completes, fails or is terminated.</summary>
    Task<WorkflowInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default);
}
