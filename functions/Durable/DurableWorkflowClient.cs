using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Serverless.Core.Workflows;

namespace Serverless.Functions.Durable;

/// <summary>
/// The workflow client over Durable Task's <see cref="DurableTaskClient"/>, so the shared handlers and the drop zone start
/// and query runs on Durable Functions exactly as they do on the local engine. Starting with a caller-chosen instance id
/// is idempotent, also when two callers race; raising an event to, terminating or purging an instance that has ended does
/// nothing, where the Functions host would throw; waiting for an instance that does not exist throws
/// <see cref="KeyNotFoundException"/> instead of polling forever.
/// </summary>
public sealed class DurableWorkflowClient(DurableTaskClient client) : IWorkflowClient
{
    public async Task<string> StartAsync(string orchestratorName, object? input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        if (instanceId is null)
        {
            return await client.ScheduleNewOrchestrationInstanceAsync(orchestratorName, input, cancellationToken);
        }
        if (await IsStartedAsync(instanceId, cancellationToken))
        {
            return instanceId;
        }
        try
        {
            return await client.ScheduleNewOrchestrationInstanceAsync(
                orchestratorName, input, new StartOrchestrationOptions(instanceId), cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (await IsStartedAsync(instanceId, cancellationToken))
            {
                return instanceId;
            }
            throw;
        }
    }

    public async Task<WorkflowInstance?> GetAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var metadata = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken);
        return metadata is null ? null : ToInstance(metadata);
    }

    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventData, CancellationToken cancellationToken = default)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken)
            ?? throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        if (IsFinished(instance.RuntimeStatus))
        {
            return;
        }
        await WhileActiveAsync(instanceId, () => client.RaiseEventAsync(instanceId, eventName, eventData, cancellationToken), cancellationToken);
    }

    public async Task TerminateAsync(string instanceId, string? reason, CancellationToken cancellationToken = default)
    {
        if (!await IsActiveAsync(instanceId, cancellationToken))
        {
            return;
        }
        await WhileActiveAsync(instanceId, () => client.TerminateInstanceAsync(instanceId, (object?)reason, cancellationToken), cancellationToken);
    }

    public async Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        var instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken);
        if (instance is null || !IsFinished(instance.RuntimeStatus))
        {
            return false;
        }
        return (await client.PurgeInstanceAsync(instanceId, cancellationToken)).PurgedInstanceCount > 0;
    }

    public async Task<WorkflowInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        if (await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is null)
        {
            throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        }
        return ToInstance(await client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cancellationToken));
    }

    private async Task<bool> IsStartedAsync(string instanceId, CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is { } instance
        && instance.RuntimeStatus is not (OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated);

    private async Task<bool> IsActiveAsync(string instanceId, CancellationToken cancellationToken) =>
        await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, cancellationToken) is { } instance
        && !IsFinished(instance.RuntimeStatus);

    private async Task WhileActiveAsync(string instanceId, Func<Task> operation, CancellationToken cancellationToken)
    {
        try
        {
            await operation();
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            if (await IsActiveAsync(instanceId, cancellationToken))
            {
                throw;
            }
        }
    }

    private static bool IsFinished(OrchestrationRuntimeStatus status) =>
        status is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed or OrchestrationRuntimeStatus.Terminated;

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

    /// <summary>A payload as JSON; the output of a failed instance is the failure's plain text, kept as a JSON string.</summary>
    private static JsonNode? Parse(string? serialized)
    {
        if (string.IsNullOrEmpty(serialized))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(serialized);
        }
        catch (JsonException)
        {
            return JsonValue.Create(serialized);
        }
    }

    private static WorkflowFailureDetails Details(TaskFailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is null ? null : Details(details.InnerFailure));
}
