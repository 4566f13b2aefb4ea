using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Serverless.Core.Workflows;

namespace Serverless.Functions.Durable;

/// <summary>
/// The workflow client over Durable Task's <see cref="DurableTaskClient"/>, so the shared handlers and the drop zone start
/// and query runs on Durable Functions exactly as they do on the local engine. Starting with a caller-chosen instance id
/// is idempotent, as on the local engine.
/// </summary>
public sealed class DurableWorkflowClient(DurableTaskClient client) : IWorkflowClient
{
    public async Task<string> StartAsync(string orchestratorName, object? input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        if (instanceId is not null)
        {
            var existing = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
            if (existing is not null && existing.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated))
            {
                return instanceId;
            }
        }
        return await client.ScheduleNewOrchestrationInstanceAsync(
            orchestratorName, input, instanceId is null ? null : new StartOrchestrationOptions(instanceId), cancellationToken);
    }

    public async Task<WorkflowInstance?> GetAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var metadata = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
        return metadata is null ? null : ToInstance(metadata);
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventData, CancellationToken cancellationToken = default)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is null)
        {
            throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        }
        await client.RaiseEventAsync(instanceId, eventName, eventData, cancellationToken);
    }

    public Task TerminateAsync(string instanceId, string? reason, CancellationToken cancellationToken = default) =>
        client.TerminateInstanceAsync(instanceId, (object?)reason, cancellationToken);

    public async Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default) =>
        (await client.PurgeInstanceAsync(instanceId, cancellationToken)).PurgedInstanceCount > 0;

    public async Task<WorkflowInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default) =>
        ToInstance(await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cancellationToken));

    private static WorkflowInstance ToInstance(OrchestrationMetadata m) => new()
    {
        Name = m.Name,
        InstanceId = m.InstanceId,
        RuntimeStatus = m.RuntimeStatus switch
        {
            OrchestrationRuntimeStatus.Pending => WorkflowRuntimeStatus.Pending,
            OrchestrationRuntimeStatus.Running => WorkflowRuntimeStatus.Running,
            OrchestrationRuntimeStatus.Completed => WorkflowRuntimeStatus.Completed,
            OrchestrationRuntimeStatus.Failed => WorkflowRuntimeStatus.Failed,
            OrchestrationRuntimeStatus.Terminated => WorkflowRuntimeStatus.Terminated,
            OrchestrationRuntimeStatus.Suspended => WorkflowRuntimeStatus.Suspended,
            _ => WorkflowRuntimeStatus.Running,
        },
        Input = Parse(m.SerializedInput),
        Output = Parse(m.SerializedOutput),
        CustomStatus = Parse(m.SerializedCustomStatus),
        CreatedTime = m.CreatedAt.UtcDateTime,
        LastUpdatedTime = m.LastUpdatedAt.UtcDateTime,
        FailureDetails = m.FailureDetails is null ? null : Details(m.FailureDetails),
    };

    private static JsonNode? Parse(string? json) => string.IsNullOrEmpty(json) ? null : JsonNode.Parse(json);

    private static WorkflowFailureDetails Details(TaskFailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is null ? null : Details(details.InnerFailure));
}
