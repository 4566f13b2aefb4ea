using Microsoft.DurableTask.Client;
using Serverless.Core.Monitoring;
using Serverless.Orchestrations;

namespace Serverless.Tests.Monitoring;

/// <summary>
/// What confirmed drift decides, given the last drift-triggered run as the engine reports it: the cooldown holds after a
/// run that trained (or one the engine no longer knows), not after one that failed or was terminated; a run under way
/// holds every next one back.
/// </summary>
public sealed class DriftDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly DriftSettings Settings = new() { Consecutive = 2, Cooldown = TimeSpan.FromHours(1) };
    private static readonly DriftState Recent = new() { LastRetrainAt = Now.AddMinutes(-10), LastRetrainInstanceId = "train-m-drift-1", Consecutive = 1 };

    private static readonly DriftReport Drifted = new()
    {
        Model = "m",
        CheckId = "2",
        CheckedAt = Now,
        Trigger = "test",
        Status = DriftStatus.Drift,
        Message = "Drift.",
        WindowStart = Now.AddDays(-1),
        WindowEnd = Now,
    };

    private static OrchestrationMetadata Run(OrchestrationRuntimeStatus status) => new(nameof(TrainingOrchestrator), "train-m-drift-1") { RuntimeStatus = status };

    [Theory]
    [InlineData(OrchestrationRuntimeStatus.Completed, false, "cooldown")]
    [InlineData(OrchestrationRuntimeStatus.Terminated, true, "retraining")]
    [InlineData(OrchestrationRuntimeStatus.Failed, true, "retraining")]
    [InlineData(OrchestrationRuntimeStatus.Running, false, "(train-m-drift-1) is still running")]
    [InlineData(OrchestrationRuntimeStatus.Pending, false, "(train-m-drift-1) is still pending")]
    [InlineData(OrchestrationRuntimeStatus.Suspended, false, "(train-m-drift-1) is still suspended")]
    public void ConfirmedDrift_AfterARecentRun_DependsOnHowThatRunEnded(OrchestrationRuntimeStatus status, bool started, string reason)
    {
        var decision = DriftMonitor.Decide(Drifted, Settings, Recent, consecutive: 2, counted: true, Run(status), Now)!;

        Assert.Equal(started, decision.Started);
        Assert.Contains(reason, decision.Reason);
    }

    [Fact]
    public void ConfirmedDrift_AfterARunTheEngineNoLongerKnows_KeepsTheCooldown()
    {
        var decision = DriftMonitor.Decide(Drifted, Settings, Recent, consecutive: 2, counted: true, lastRun: null, Now)!;

        Assert.False(decision.Started);
        Assert.Contains("cooldown", decision.Reason);
        Assert.True(DriftMonitor.Decide(Drifted, Settings, Recent, 2, true, null, Now.AddHours(1))!.Started);
    }

    [Fact]
    public void DriftSeenAgainWithinTheInterval_SaysItCountedOnce()
    {
        var decision = DriftMonitor.Decide(Drifted, Settings, Recent with { LastCountedAt = Now.AddMinutes(-1) }, consecutive: 1, counted: false, lastRun: null, Now)!;

        Assert.False(decision.Started);
        Assert.StartsWith("Drift seen again before the check schedule came due", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("1 of the 2", decision.Reason);
    }
}
