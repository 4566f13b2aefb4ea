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

        Assert.Equal(["LightGbm", "LightGbm", "LightGbm", "FastTree", "FastForest", "Sdca", "Sdca", Blend.Name], candidates.Select(c => c.Trainer));
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
    public void For_Blend_OnlyOnSmallDataWithoutText_ForRegressionAndBinary_OfTheSmallDataSingles()
    {
        static bool Blends(TaskKind task, long rows, bool text) => DefaultCandidates.For(task, rows, text).Any(g => g.Name == Blend.Name);

        Assert.True(Blends(TaskKind.Regression, 5_000, false));
        Assert.True(Blends(TaskKind.Binary, DefaultCandidates.BlendRows, false));
        Assert.False(Blends(TaskKind.Multiclass, 5_000, false));
        Assert.False(Blends(TaskKind.Binary, 5_000, true));
        Assert.False(Blends(TaskKind.Regression, DefaultCandidates.BlendRows + 1, false));
        Assert.DoesNotContain(Defaults(20_000), c => c.Trainer == Blend.Name);
        Assert.Equal(Defaults(5_000).Where(c => c.Trainer != Blend.Name && !c.Parameters.ContainsKey(TrainerCatalog.L2Regularization)), Blend.Members(), CandidateComparer.Instance);
    }

    [Fact]
    public void For_Regression_TriesASecondLinearModelAtTheWeakL2_WhereMLNetsDefaultIsStronger()
    {
        static double[] LinearL2s(TaskKind task, long rows) => TrainerCatalog.Candidates(new ModelSpec(), DefaultCandidates.For(task, rows, false))
            .Where(c => TrainerCatalog.IsLinear(c.Trainer))
            .Select(c => c.Parameters.TryGetValue(TrainerCatalog.L2Regularization, out var l2) ? l2 : double.NaN)
            .ToArray();

        // ML.NET's own default (NaN: not set) and the weak L2, while the default for the rows is stronger than it.
        Assert.Equal([double.NaN, DefaultCandidates.WeakL2], LinearL2s(TaskKind.Regression, 150));
        Assert.Equal([double.NaN, DefaultCandidates.WeakL2], LinearL2s(TaskKind.Regression, 10_000));
        Assert.True(TrainerCatalog.SdcaRegressionL2(150) > DefaultCandidates.WeakL2 && TrainerCatalog.SdcaRegressionL2(10_000) > DefaultCandidates.WeakL2);
        // Above 10,000 rows ML.NET's default is the weak L2 already; classifiers tune their own.
        Assert.Equal([double.NaN], LinearL2s(TaskKind.Regression, 10_001));
        Assert.Equal([double.NaN], LinearL2s(TaskKind.Binary, 150));
        Assert.Equal([double.NaN], LinearL2s(TaskKind.Multiclass, 150));
        Assert.Empty(LinearL2s(TaskKind.Regression, 100_000));
    }

    private sealed class CandidateComparer : IEqualityComparer<CandidateSpec>
    {
        public static readonly CandidateComparer Instance = new();
        public bool Equals(CandidateSpec? a, CandidateSpec? b) => a?.ToString() == b?.ToString();
        public int GetHashCode(CandidateSpec c) => c.ToString().GetHashCode(StringComparison.Ordinal);
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
