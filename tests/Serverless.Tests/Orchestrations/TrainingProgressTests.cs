using Serverless.Orchestrations;

namespace Serverless.Tests.Orchestrations;

/// <summary>The share of the whole a going run reports with its stage: what the dashboard's bar and the command line show.</summary>
public sealed class TrainingProgressTests
{
    private static readonly string[] InOrder =
    [
        TrainingStages.Planning, TrainingStages.Validating, TrainingStages.Splitting, TrainingStages.Training, TrainingStages.Refitting,
        TrainingStages.Evaluating, TrainingStages.Registering, TrainingStages.AwaitingApproval, TrainingStages.Promoting,
    ];

    [Fact]
    public void Share_GrowsStageByStage_AndWithEachCandidateTrained()
    {
        var shares = InOrder.Select(s => new TrainingProgress(s).Share!.Value).ToList();
        var training = Enumerable.Range(0, 5).Select(done => new TrainingProgress(TrainingStages.Training, done, 4).Share!.Value).ToList();

        Assert.Equal(shares.Order(), shares);
        Assert.Equal(shares.Count, shares.Distinct().Count());
        Assert.All(shares, s => Assert.InRange(s, 0.0, 1.0));
        Assert.Equal(training.Order(), training);
        Assert.Equal(shares[InOrder.IndexOf(TrainingStages.Training)], training[0]);
        Assert.Equal(shares[InOrder.IndexOf(TrainingStages.Refitting)], training[4], 6);
        Assert.True(new TrainingProgress(TrainingStages.AwaitingApproval).Share > 0.9);
    }

    [Theory]
    [InlineData(TrainingStages.Failed)]
    [InlineData(TrainingStatus.Promoted)]
    [InlineData(TrainingStatus.GateFailed)]
    public void Share_OfARunThatEnded_IsNone(string stage)
    {
        Assert.Null(new TrainingProgress(stage).Share);
        Assert.Null(new TrainingProgress(TrainingStages.Terminated, StoppedDuring: TrainingStages.Training).Share);
    }
}
