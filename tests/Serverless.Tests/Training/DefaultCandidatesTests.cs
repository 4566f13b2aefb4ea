using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

public sealed class DefaultCandidatesTests
{
    private static IReadOnlyList<CandidateSpec> Defaults(long rows, bool text = false) =>
        TrainerCatalog.Candidates(new ModelSpec(), DefaultCandidates.For(TaskKind.Regression, rows, text));

    [Fact]
    public void For_SmallData_TriesBoostedTreesWithMoreLeavesAndRounds_AForestAndALinearModel()
    {
        var candidates = Defaults(5_000);

        Assert.Equal(["LightGbm", "LightGbm", "LightGbm", "FastTree", "FastForest", "Sdca"], candidates.Select(c => c.Trainer));
        Assert.Equal([31.0, 31.0, 63.0], candidates.Where(c => c.Trainer == "LightGbm").Select(c => c.Parameters["numberOfLeaves"]));
        Assert.All(candidates.Where(c => c.Trainer is "FastTree" or "FastForest"), c => Assert.True(c.Parameters["numberOfIterations"] > 100));
        Assert.Contains(candidates, c => c.Trainer == "LightGbm" && c.Parameters["numberOfIterations"] == 400);
    }

    [Fact]
    public void For_LargeData_LeavesOutTheLinearModel_UnlessThereIsText()
    {
        Assert.DoesNotContain(Defaults(100_000), c => c.Trainer == "Sdca");
        Assert.Contains(Defaults(100_000, text: true), c => c.Trainer == "Sdca");
    }

    [Fact]
    public void Candidates_SpecNamesTrainers_IgnoresTheDefaults()
    {
        var spec = new ModelSpec { Trainers = [new TrainerGrid { Name = "FastTree" }] };

        var candidates = TrainerCatalog.Candidates(spec, DefaultCandidates.For(TaskKind.Regression, 5_000, false));

        Assert.Equal("FastTree", Assert.Single(candidates).Trainer);
    }

    [Fact]
    public void Capture_MultiThreadedTrainer_IsRecordedAsNotDeterministic()
    {
        var single = ReproducibilityInfo.Capture(42, new CandidateSpec("LightGbm", new Dictionary<string, double>()));
        var threaded = ReproducibilityInfo.Capture(42, new CandidateSpec("LightGbm", new Dictionary<string, double> { [TrainerCatalog.Threads] = 2 }));

        Assert.True(single.Deterministic);
        Assert.False(threaded.Deterministic);
        Assert.Contains("2 threads", threaded.DeterminismNote, StringComparison.Ordinal);
    }
}
