using System.Collections.Concurrent;
using Azure.Data.Tables;
using Serverless.Core.Storage;
using Serverless.Core.Workflows;

namespace Serverless.Testing;

public sealed record FanOutInput(int Count, int DelayMs);

/// <summary>Fans out <see cref="FanOutInput.Count"/> steps at once and sums their results.</summary>
public sealed class FanOutWorkflow : Workflow<FanOutInput, int>
{
    public override async Task<int> RunAsync(IWorkflowContext context, FanOutInput input)
    {
        var steps = Enumerable.Range(0, input.Count).Select(i => context.CallActivityAsync<int>(nameof(RecordedStep), new StepInput(context.InstanceId, i, input.DelayMs)));
        var results = await Task.WhenAll(steps);
        context.SetCustomStatus(new { done = results.Length });
        return results.Sum();
    }
}

public sealed record StepInput(string InstanceId, int Index, int DelayMs);

/// <summary>Records each execution in a table (so a test can count how often each step ran), waits, returns 1.</summary>
public sealed class RecordedStep(PipelineStorage storage) : WorkflowActivity<StepInput, int>
{
    public override async Task<int> RunAsync(StepInput input, CancellationToken cancellationToken)
    {
        var table = storage.Table("executions");
        await table.CreateIfNotExistsAsync(cancellationToken);
        await table.AddEntityAsync(new TableEntity(input.InstanceId, $"{input.Index:D4}-{Guid.NewGuid():N}") { ["Index"] = input.Index }, cancellationToken);
        if (input.DelayMs > 0) await Task.Delay(input.DelayMs, cancellationToken);
        return 1;
    }
}

/// <summary>Fans out a number of no-op activities: the engine's own cost, nothing else.</summary>
public sealed class NoopFanOutWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(IWorkflowContext context, int input) =>
        (await Task.WhenAll(Enumerable.Range(0, input).Select(i => context.CallActivityAsync<int>(nameof(Noop), 1)))).Sum();
}

/// <summary>Calls no-op activities one after the other: the engine's cost per activity on the critical path.</summary>
public sealed class NoopSequenceWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(IWorkflowContext context, int input)
    {
        var sum = 0;
        for (var i = 0; i < input; i++) sum += await context.CallActivityAsync<int>(nameof(Noop), 1);
        return sum;
    }
}

/// <summary>Does nothing: measures the engine's own cost per activity.</summary>
public sealed class Noop : WorkflowActivity<int, int>
{
    public override Task<int> RunAsync(int input, CancellationToken cancellationToken) => Task.FromResult(input);
}

public sealed record FlakyInput(string Key, int FailuresBeforeSuccess, int Attempts);

/// <summary>Calls an activity that fails a set number of times, with a retry policy; reports the outcome.</summary>
public sealed class RetryWorkflow : Workflow<FlakyInput, string>
{
    public override async Task<string> RunAsync(IWorkflowContext context, FlakyInput input)
    {
        try
        {
            var calls = await context.CallActivityAsync<int>(nameof(Flaky), input,
                WorkflowTaskOptions.WithRetry(new WorkflowRetryPolicy(input.Attempts, TimeSpan.FromMilliseconds(50), 2.0, TimeSpan.FromSeconds(1))));
            return $"succeeded after {calls} calls";
        }
        catch (WorkflowTaskFailedException e)
        {
            return $"failed: {e.FailureDetails.ErrorType}: {e.FailureDetails.ErrorMessage}";
        }
    }
}

/// <summary>Fails until it has been called <see cref="FlakyInput.FailuresBeforeSuccess"/> times.</summary>
public sealed class Flaky : WorkflowActivity<FlakyInput, int>
{
    public static readonly ConcurrentDictionary<string, int> Calls = new();

    public override Task<int> RunAsync(FlakyInput input, CancellationToken cancellationToken)
    {
        var calls = Calls.AddOrUpdate(input.Key, 1, (_, n) => n + 1);
        if (calls <= input.FailuresBeforeSuccess) throw new InvalidOperationException($"flaky failure {calls}");
        return Task.FromResult(calls);
    }
}

public sealed record WaitInput(int TimerMs, int EventTimeoutMs);

/// <summary>Waits on a durable timer, then for an external event with a timeout.</summary>
public sealed class TimerAndEventWorkflow : Workflow<WaitInput, string>
{
    public override async Task<string> RunAsync(IWorkflowContext context, WaitInput input)
    {
        var started = context.CurrentUtcDateTime;
        await context.CreateTimer(started.AddMilliseconds(input.TimerMs), CancellationToken.None);
        var afterTimer = context.CurrentUtcDateTime;
        context.SetCustomStatus("waiting");
        try
        {
            var value = await context.WaitForExternalEvent<string>("go", TimeSpan.FromMilliseconds(input.EventTimeoutMs));
            return $"event {value} after {(afterTimer - started).TotalMilliseconds:F0} ms";
        }
        catch (TaskCanceledException)
        {
            return $"timeout after {(afterTimer - started).TotalMilliseconds:F0} ms";
        }
    }
}

/// <summary>Calls itself as a sub-orchestration, and restarts with ContinueAsNew, to exercise both.</summary>
public sealed class CountdownWorkflow : Workflow<int, int>
{
    public override async Task<int> RunAsync(IWorkflowContext context, int input)
    {
        if (input <= 0) return 0;
        if (input % 2 == 0)
        {
            context.ContinueAsNew(input - 1);
            return -1;
        }
        var child = await context.CallSubOrchestratorAsync<int>(nameof(CountdownWorkflow), input - 1);
        return child + input;
    }
}

/// <summary>Schedules a different activity depending on a switch the test flips between episodes.</summary>
public sealed class ChangingWorkflow : Workflow<string, string>
{
    public static readonly ConcurrentDictionary<string, bool> Changed = new();

    public override async Task<string> RunAsync(IWorkflowContext context, string input)
    {
        var first = Changed.GetValueOrDefault(input) ? nameof(Noop) + "Renamed" : nameof(Noop);
        await context.CallActivityAsync<int>(first, 1);
        await context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(300), CancellationToken.None);
        return "done";
    }
}

/// <summary>Waits forever for an event; the test terminates it.</summary>
public sealed class WaitForeverWorkflow : Workflow<string, string>
{
    public override async Task<string> RunAsync(IWorkflowContext context, string input) =>
        await context.WaitForExternalEvent<string>("never", TimeSpan.FromDays(30));
}

/// <summary>
/// Execution 0 waits on a short timer (an event raised meanwhile finds no waiter) and continues as new; execution 1
/// waits for that event: it arrives only if ContinueAsNew carried it over.
/// </summary>
public sealed class CarryEventWorkflow : Workflow<int, string>
{
    public override async Task<string> RunAsync(IWorkflowContext context, int input)
    {
        if (input == 0)
        {
            await context.CreateTimer(context.CurrentUtcDateTime.AddMilliseconds(800), CancellationToken.None);
            context.ContinueAsNew(1);
            return "continued";
        }
        try
        {
            return "carried " + await context.WaitForExternalEvent<string>("carry", TimeSpan.FromSeconds(2));
        }
        catch (TaskCanceledException)
        {
            return "lost";
        }
    }
}

public sealed record ProbeInput(string Key, int Count, int DelayMs);

/// <summary>Fans out <see cref="ProbeInput.Count"/> probes; returns the most that ran at once.</summary>
public sealed class ConcurrencyWorkflow : Workflow<ProbeInput, int>
{
    public override async Task<int> RunAsync(IWorkflowContext context, ProbeInput input)
    {
        await Task.WhenAll(Enumerable.Range(0, input.Count).Select(_ => context.CallActivityAsync<int>(nameof(ConcurrencyProbe), input)));
        return await context.CallActivityAsync<int>(nameof(ReadConcurrency), input.Key);
    }
}

/// <summary>Counts how many probes of the same key run at once, and keeps the highest count seen.</summary>
public sealed class ConcurrencyProbe : WorkflowActivity<ProbeInput, int>
{
    private static readonly ConcurrentDictionary<string, int> Running = new();
    internal static readonly ConcurrentDictionary<string, int> Highest = new();

    public override async Task<int> RunAsync(ProbeInput input, CancellationToken cancellationToken)
    {
        var now = Running.AddOrUpdate(input.Key, 1, (_, n) => n + 1);
        Highest.AddOrUpdate(input.Key, now, (_, n) => Math.Max(n, now));
        try
        {
            await Task.Delay(input.DelayMs, cancellationToken);
            return now;
        }
        finally
        {
            Running.AddOrUpdate(input.Key, 0, (_, n) => n - 1);
        }
    }
}

/// <summary>The highest concurrency the probes of a key saw.</summary>
public sealed class ReadConcurrency : WorkflowActivity<string, int>
{
    public override Task<int> RunAsync(string input, CancellationToken cancellationToken) =>
        Task.FromResult(ConcurrencyProbe.Highest.GetValueOrDefault(input));
}
