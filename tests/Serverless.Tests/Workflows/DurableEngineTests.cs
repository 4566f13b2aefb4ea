using System.Diagnostics;
using Serverless.Core.Workflows;
using Serverless.Core.Workflows.Durable;
using Serverless.Tests.Infrastructure;
using Serverless.Testing;

namespace Serverless.Tests.Workflows;

/// <summary>The durable local engine: replay, non-determinism, retries, timers, events, sub-orchestrations, crash-resume.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DurableEngineTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task FanOut_HundredNoopActivities_AllCompleteAndSum()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);

        var done = await engine.RunAsync(nameof(NoopFanOutWorkflow), 100);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(100, done.Output!.GetValue<int>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task FanOut_MoreActivitiesThanSlots_NeverRunsMoreThanTheLimitAtOnce(int limit)
    {
        await using var engine = await EngineHarness.StartAsync(azurite, maxConcurrentActivities: limit);

        var done = await engine.RunAsync(nameof(ConcurrencyWorkflow), new ProbeInput(Guid.NewGuid().ToString("N"), 12, 150));

        Assert.Equal(limit, done.Output!.GetValue<int>());
    }

    [Fact]
    public async Task Replay_CompletedActivitiesAreNotRunAgain_AndHistoryIsRecorded()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);

        var done = await engine.RunAsync(nameof(FanOutWorkflow), new FanOutInput(5, 0), "replay-" + Guid.NewGuid().ToString("N"));

        Assert.Equal(5, done.Output!.GetValue<int>());
        Assert.All(await engine.ExecutionsAsync(done.InstanceId), e => Assert.Equal(1, e.Value));
        var history = await engine.HistoryAsync(done.InstanceId);
        Assert.Equal(5, history.Count(e => e.Type == HistoryEventType.TaskScheduled));
        Assert.Equal(5, history.Count(e => e.Type == HistoryEventType.TaskCompleted));
        Assert.Equal(HistoryEventType.ExecutionCompleted, history[^1].Type);
        Assert.Equal(5, done.CustomStatus!["done"]!.GetValue<int>());
    }

    [Fact]
    public async Task Replay_CodeSchedulesSomethingElse_FailsWithNonDeterminismNamingBoth()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);
        var key = Guid.NewGuid().ToString("N");
        var id = await engine.Engine.StartAsync(nameof(ChangingWorkflow), key);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await engine.HistoryAsync(id)).Any(e => e.Type == HistoryEventType.TimerCreated) && DateTime.UtcNow < deadline) await Task.Delay(20);

        ChangingWorkflow.Changed[key] = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var done = await engine.Engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal(WorkflowRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Equal(typeof(NonDeterministicWorkflowException).FullName, done.FailureDetails!.ErrorType);
        Assert.Contains("TaskScheduled 'Noop' #0", done.FailureDetails.ErrorMessage);
        Assert.Contains("'NoopRenamed' #0", done.FailureDetails.ErrorMessage);
    }

    [Theory]
    [InlineData(2, 3, "succeeded after 3 calls")]
    [InlineData(2, 2, "failed: System.InvalidOperationException: flaky failure 2")]
    [InlineData(0, 1, "succeeded after 1 calls")]
    public async Task Retry_FailingActivity_IsRetriedUpToTheAttemptsThenFailsWithDetails(int failures, int attempts, string expected)
    {
        await using var engine = await EngineHarness.StartAsync(azurite);

        var done = await engine.RunAsync(nameof(RetryWorkflow), new FlakyInput(Guid.NewGuid().ToString("N"), failures, attempts));

        Assert.Equal(expected, done.Output!.GetValue<string>());
    }

    [Fact]
    public async Task TimerThenEventTimeout_WaitsTheTimerAndTimesOut()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);
        var clock = Stopwatch.StartNew();

        var done = await engine.RunAsync(nameof(TimerAndEventWorkflow), new WaitInput(600, 400));

        Assert.StartsWith("timeout after", done.Output!.GetValue<string>());
        Assert.True(int.Parse(done.Output.GetValue<string>().Split(' ')[2]) >= 600, done.Output.ToJsonString());
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(1000), $"finished after {clock.Elapsed}");
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeTheTimeout_IsDelivered()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);
        var id = await engine.Engine.StartAsync(nameof(TimerAndEventWorkflow), new WaitInput(100, 30_000));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await engine.Engine.GetAsync(id))?.CustomStatus?.GetValue<string>() != "waiting" && DateTime.UtcNow < deadline) await Task.Delay(50);

        await engine.Engine.RaiseEventAsync(id, "go", "now");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var done = await engine.Engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.StartsWith("event now after", done.Output!.GetValue<string>());
        await Assert.ThrowsAsync<KeyNotFoundException>(() => engine.Engine.RaiseEventAsync("no-such-instance", "go", null));
    }

    [Fact]
    public async Task SubOrchestrationsAndContinueAsNew_ComposeToTheExpectedResult()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);

        var done = await engine.RunAsync(nameof(CountdownWorkflow), 5);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(9, done.Output!.GetValue<int>());
    }

    [Fact]
    public async Task ContinueAsNew_EventRaisedBeforeAnyWaiter_IsCarriedToTheNextExecution()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);
        var id = await engine.Engine.StartAsync(nameof(CarryEventWorkflow), 0);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(await engine.HistoryAsync(id)).Any(e => e.Type == HistoryEventType.TimerCreated) && DateTime.UtcNow < deadline) await Task.Delay(20);

        await engine.Engine.RaiseEventAsync(id, "carry", "it");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var done = await engine.Engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal("carried it", done.Output!.GetValue<string>());
    }

    [Fact]
    public async Task Restart_EndInHistoryButNotOnTheInstanceRow_FinishesTheInstance()
    {
        await using var engine = await EngineHarness.StartAsync(azurite, start: false);
        var id = "torn-" + Guid.NewGuid().ToString("N");
        await engine.RecordTornCompletionAsync(id, nameof(NoopSequenceWorkflow), input: 2, output: 7);

        await engine.Engine.StartAsync(CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var done = await engine.Engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(7, done.Output!.GetValue<int>()); // what the history recorded; running the input again would give 2
        Assert.DoesNotContain(await engine.HistoryAsync(id), e => e.Type == HistoryEventType.TaskScheduled);
    }

    [Fact]
    public async Task TerminateThenPurge_EndsAndRemovesTheInstance()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);
        var id = await engine.Engine.StartAsync(nameof(WaitForeverWorkflow), "x");
        await Task.Delay(300);
        Assert.False(await engine.Engine.PurgeAsync(id));

        await engine.Engine.TerminateAsync(id, "test over");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var done = await engine.Engine.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal(WorkflowRuntimeStatus.Terminated, done.RuntimeStatus);
        Assert.Equal("test over", done.Output!.GetValue<string>());
        Assert.True(await engine.Engine.PurgeAsync(id));
        Assert.Null(await engine.Engine.GetAsync(id));
    }

    [Fact]
    public async Task Start_SameInstanceIdTwice_RunsOnce()
    {
        await using var engine = await EngineHarness.StartAsync(azurite);
        var id = "once-" + Guid.NewGuid().ToString("N");

        await engine.Engine.StartAsync(nameof(FanOutWorkflow), new FanOutInput(3, 0), id);
        await engine.Engine.StartAsync(nameof(FanOutWorkflow), new FanOutInput(3, 0), id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await engine.Engine.WaitForCompletionAsync(id, timeout.Token);
        await engine.Engine.StartAsync(nameof(FanOutWorkflow), new FanOutInput(3, 0), id);
        await Task.Delay(500);

        Assert.Equal(3, (await engine.ExecutionsAsync(id)).Values.Sum());
    }

    [Fact]
    public async Task CrashMidFanOut_AnotherHostResumes_CompletedActivitiesRanOnce()
    {
        await using var client = await EngineHarness.StartAsync(azurite, start: false);
        var id = "crash-" + Guid.NewGuid().ToString("N");
        using var first = StartHostProcess(client);
        await client.Engine.StartAsync(nameof(FanOutWorkflow), new FanOutInput(12, 400), id);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.HistoryAsync(id)).Count(e => e.Type == HistoryEventType.TaskCompleted) < 3 && DateTime.UtcNow < deadline) await Task.Delay(50);

        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        var completedBeforeCrash = (await client.HistoryAsync(id)).Where(e => e.Type == HistoryEventType.TaskCompleted).Select(e => e.TaskId).ToHashSet();
        using var second = StartHostProcess(client);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var done = await client.Engine.WaitForCompletionAsync(id, timeout.Token);
        second.Kill(entireProcessTree: true);

        Assert.Equal(WorkflowRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(12, done.Output!.GetValue<int>());
        Assert.InRange(completedBeforeCrash.Count, 3, 11);
        var executions = await client.ExecutionsAsync(id);
        Assert.Equal(12, executions.Count);
        Assert.All(completedBeforeCrash, index => Assert.Equal(1, executions[index]));
    }

    private Process StartHostProcess(EngineHarness harness)
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dll = Path.Combine(RepositoryPaths.Root, "tests", "Serverless.WorkflowTestHost", "bin", configuration, "net10.0", "Serverless.WorkflowTestHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                dll,
                $"--Pipeline:Storage:ConnectionString={azurite.ConnectionString}",
                $"--Pipeline:Storage:TablePrefix={harness.Prefix}",
                $"--Pipeline:Storage:WorkflowsContainer={harness.StorageOptions.WorkflowsContainer}",
                "--Pipeline:Workflows:LeaseDuration=00:00:03",
                "--Pipeline:Workflows:PollInterval=00:00:00.100",
                "--Pipeline:Workflows:MaxConcurrentActivities=2",
                "--Logging:LogLevel:Default=Warning",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
