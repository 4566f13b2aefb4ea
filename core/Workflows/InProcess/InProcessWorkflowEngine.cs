using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serverless.Core.Storage;

namespace Serverless.Core.Workflows.InProcess;

/// <summary>
/// Runs workflows in this process without persistence: each orchestrator executes once, straight through, and its
/// activities run as scheduled. State lives in memory. It serves tests and hosts that do not need crash recovery.
/// </summary>
public sealed class InProcessWorkflowEngine(IServiceProvider services, WorkflowCatalog catalog, ILoggerFactory loggers) : IWorkflowClient
{
    private readonly ConcurrentDictionary<string, Instance> _instances = new();
    private readonly ILogger _logger = loggers.CreateLogger<InProcessWorkflowEngine>();

    public Task<string> StartAsync(string orchestratorName, object? input, string? instanceId = null, CancellationToken cancellationToken = default)
    {
        instanceId ??= Guid.NewGuid().ToString("N");
        var workflow = catalog.CreateWorkflow(services, orchestratorName);
        var inputJson = JsonSerializer.SerializeToNode(input, JsonBlobs.Options);
        var created = new Instance(orchestratorName, instanceId, inputJson);
        var instance = _instances.AddOrUpdate(instanceId, created, (_, existing) =>
            existing.Status is WorkflowRuntimeStatus.Failed or WorkflowRuntimeStatus.Terminated ? created : existing);
        if (ReferenceEquals(instance, created))
        {
            _ = Task.Run(() => RunAsync(workflow, instance), CancellationToken.None);
        }
        return Task.FromResult(instanceId);
    }

    public Task<WorkflowInstance?> GetAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_instances.TryGetValue(instanceId, out var i) ? i.Snapshot() : null);

    public Task RaiseEventAsync(string instanceId, string eventName, object? eventData, CancellationToken cancellationToken = default)
    {
        if (!_instances.TryGetValue(instanceId, out var instance)) throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        instance.Events.GetOrAdd(eventName, _ => new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously))
            .TrySetResult(JsonSerializer.SerializeToNode(eventData, JsonBlobs.Options));
        return Task.CompletedTask;
    }

    public Task TerminateAsync(string instanceId, string? reason, CancellationToken cancellationToken = default)
    {
        if (_instances.TryGetValue(instanceId, out var instance))
        {
            instance.Complete(WorkflowRuntimeStatus.Terminated, JsonValue.Create(reason), null);
            instance.Cancellation.Cancel();
        }
        return Task.CompletedTask;
    }

    public Task<bool> PurgeAsync(string instanceId, CancellationToken cancellationToken = default) =>
        Task.FromResult(_instances.TryRemove(instanceId, out _));

    public async Task<WorkflowInstance> WaitForCompletionAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        if (!_instances.TryGetValue(instanceId, out var instance)) throw new KeyNotFoundException($"No orchestration instance '{instanceId}'.");
        await instance.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return instance.Snapshot();
    }

    private async Task RunAsync(IWorkflow workflow, Instance instance)
    {
        var context = new Context(this, instance, loggers);
        instance.Status = WorkflowRuntimeStatus.Running;
        instance.Touch();
        try
        {
            object? input = instance.Input?.Deserialize(workflow.InputType, JsonBlobs.Options);
            var output = await workflow.RunAsync(context, input).ConfigureAwait(false);
            instance.Complete(WorkflowRuntimeStatus.Completed, JsonSerializer.SerializeToNode(output, JsonBlobs.Options), null);
        }
        catch (Exception e) when (instance.Cancellation.IsCancellationRequested)
        {
            _logger.LogInformation("Orchestration {InstanceId} stopped after termination: {Error}", instance.Id, e.Message);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Orchestration {InstanceId} ({Orchestrator}) failed", instance.Id, instance.Name);
            instance.Complete(WorkflowRuntimeStatus.Failed, null, WorkflowFailureDetails.From(e));
        }
    }

    private async Task<JsonNode?> RunActivityAsync(Instance instance, string name, object? input, WorkflowTaskOptions? options, int taskId)
    {
        var retry = options?.Retry;
        for (var attempt = 1; ; attempt++)
        {
            instance.Cancellation.Token.ThrowIfCancellationRequested();
            try
            {
                await using var scope = services.CreateAsyncScope();
                var activity = catalog.CreateActivity(scope.ServiceProvider, name);
                var typedInput = JsonSerializer.SerializeToNode(input, JsonBlobs.Options)?.Deserialize(activity.InputType, JsonBlobs.Options);
                var result = await activity.RunAsync(typedInput, instance.Cancellation.Token).ConfigureAwait(false);
                return JsonSerializer.SerializeToNode(result, JsonBlobs.Options);
            }
            catch (Exception e) when (e is not OperationCanceledException || !instance.Cancellation.IsCancellationRequested)
            {
                if (retry is null || attempt >= retry.MaxNumberOfAttempts)
                {
                    throw new WorkflowTaskFailedException(name, taskId, WorkflowFailureDetails.From(e));
                }
                _logger.LogWarning("Activity {Activity} of {InstanceId} failed (attempt {Attempt}); retrying: {Error}", name, instance.Id, attempt, e.Message);
                await Task.Delay(retry.DelayBefore(attempt), instance.Cancellation.Token).ConfigureAwait(false);
            }
        }
    }

    private sealed class Instance(string name, string id, JsonNode? input)
    {
        public string Name { get; } = name;
        public string Id { get; } = id;
        public JsonNode? Input { get; } = input;
        public volatile WorkflowRuntimeStatus Status = WorkflowRuntimeStatus.Pending;
        public JsonNode? Output;
        public JsonNode? CustomStatus;
        public WorkflowFailureDetails? Failure;
        public DateTime Created { get; } = DateTime.UtcNow;
        public DateTime Updated = DateTime.UtcNow;
        public ConcurrentDictionary<string, TaskCompletionSource<JsonNode?>> Events { get; } = new(StringComparer.OrdinalIgnoreCase);
        public CancellationTokenSource Cancellation { get; } = new();
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _nextTaskId;

        public int NextTaskId() => Interlocked.Increment(ref _nextTaskId);

        public void Touch() => Updated = DateTime.UtcNow;

        public void Complete(WorkflowRuntimeStatus status, JsonNode? output, WorkflowFailureDetails? failure)
        {
            lock (this)
            {
                if (Done.Task.IsCompleted) return;
                Output = output;
                Failure = failure;
                Status = status;
                Touch();
                Done.TrySetResult();
            }
        }

        public WorkflowInstance Snapshot() => new()
        {
            Name = Name,
            InstanceId = Id,
            RuntimeStatus = Status,
            Input = Input?.DeepClone(),
            Output = Output?.DeepClone(),
            CustomStatus = CustomStatus?.DeepClone(),
            CreatedTime = Created,
            LastUpdatedTime = Updated,
            FailureDetails = Failure,
        };
    }

    private sealed class Context(InProcessWorkflowEngine engine, Instance instance, ILoggerFactory loggers) : IWorkflowContext
    {
        public string Name => instance.Name;
        public string InstanceId => instance.Id;
        public DateTime CurrentUtcDateTime => DateTime.UtcNow;
        public bool IsReplaying => false;

        public T? GetInput<T>() => instance.Input is null ? default : instance.Input.Deserialize<T>(JsonBlobs.Options);

        public async Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
        {
            var result = await engine.RunActivityAsync(instance, name, input, options, instance.NextTaskId()).ConfigureAwait(false);
            return result is null ? default! : result.Deserialize<TResult>(JsonBlobs.Options)!;
        }

        public Task CallActivityAsync(string name, object? input = null, WorkflowTaskOptions? options = null) =>
            CallActivityAsync<JsonNode?>(name, input, options);

        public async Task<TResult> CallSubOrchestratorAsync<TResult>(string name, object? input = null, WorkflowTaskOptions? options = null)
        {
            var id = await engine.StartAsync(name, input, options?.InstanceId ?? $"{instance.Id}:{instance.NextTaskId()}").ConfigureAwait(false);
            var done = await engine.WaitForCompletionAsync(id, instance.Cancellation.Token).ConfigureAwait(false);
            if (done.RuntimeStatus != WorkflowRuntimeStatus.Completed)
            {
                throw new WorkflowTaskFailedException(name, 0, done.FailureDetails ?? new WorkflowFailureDetails("Terminated", $"Sub-orchestration {id} ended {done.RuntimeStatus}."));
            }
            return done.Output is null ? default! : done.Output.Deserialize<TResult>(JsonBlobs.Options)!;
        }

        public Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
        {
            var delay = fireAt - DateTime.UtcNow;
            return delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, cancellationToken);
        }

        public async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
        {
            var source = instance.Events.GetOrAdd(eventName, _ => new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously));
            try
            {
                var value = await source.Task.WaitAsync(timeout, instance.Cancellation.Token).ConfigureAwait(false);
                return value is null ? default! : value.Deserialize<T>(JsonBlobs.Options)!;
            }
            catch (TimeoutException)
            {
                throw new TaskCanceledException($"External event '{eventName}' did not arrive within {timeout}.");
            }
        }

        public void SetCustomStatus(object? customStatus)
        {
            instance.CustomStatus = JsonSerializer.SerializeToNode(customStatus, JsonBlobs.Options);
            instance.Touch();
        }

        public void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true) =>
            throw new NotSupportedException("The in-process runner does not support ContinueAsNew; use the durable local engine.");

        public Guid NewGuid() => Guid.NewGuid();

        public ILogger CreateReplaySafeLogger(string categoryName) => loggers.CreateLogger(categoryName);
    }
}
