using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>The permutation test of a classifier's answers against the labels of its test rows.</summary>
public sealed class ChanceTestTests
{
    private sealed class ScoredRow
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        public bool PredictedLabel { get; set; }
    }

    [Fact]
    public void OnRows_BinaryWhosePrimaryMetricIsAccuracy_TestsAucAndGivesTheIntervalOfAccuracy()
    {
        // 200 rows, 150 answered with their label: accuracy 0.75; the scores rank each row by its answer.
        var rows = Enumerable.Range(0, 200).Select(i => new ScoredRow { Label = i % 2 == 0, PredictedLabel = i % 4 == 3 ? i % 2 != 0 : i % 2 == 0 })
            .Select(r => { r.Score = r.PredictedLabel ? 1 : -1; return r; }).ToList();
        var scored = new Microsoft.ML.MLContext(1).Data.LoadFromEnumerable(rows);

        var (p, interval) = ChanceTest.OnRows(Serverless.Core.Specs.TaskKind.Binary, scored, 42, Metrics.Accuracy);
        var (_, auc) = ChanceTest.OnRows(Serverless.Core.Specs.TaskKind.Binary, scored, 42);

        Assert.NotNull(p);
        Assert.Equal(Metrics.Accuracy, interval!.Metric);
        Assert.InRange(0.75, interval.Low, interval.High);
        Assert.Equal("auc", auc!.Metric);
    }

    [Fact]
    public void Binary_ScoresThatRankEveryPositiveFirst_AreNotChance()
    {
        var labels = Enumerable.Range(0, 30).Select(i => i % 3 == 0).ToArray();
        var scores = labels.Select((l, i) => l ? 1f + i : -1f - i).ToArray();

        var p = ChanceTest.Binary(labels, scores, seed: 42);

        // No shuffle of 30 labels (10 positive) ranks the positives as well: only the rows as they are do.
        Assert.Equal(1.0 / (ChanceTest.Permutations + 1), p);
    }

    [Fact]
    public void Binary_OneScoreForEveryRow_IsMatchedByEveryShuffle()
    {
        var labels = Enumerable.Range(0, 40).Select(i => i % 2 == 0).ToArray();

        Assert.Equal(1.0, ChanceTest.Binary(labels, new float[40], seed: 42));
    }

    [Fact]
    public void Binary_ScoresDrawnApartFromTheLabels_AreChance()
    {
        var random = new Random(7);
        var labels = Enumerable.Range(0, 200).Select(_ => random.Next(2) == 1).ToArray();
        var scores = labels.Select(_ => (float)random.NextDouble()).ToArray();

        var p = ChanceTest.Binary(labels, scores, seed: 42);

        Assert.True(p > 0.05, $"p = {p}");
        // The same rows and seed give the same p-value.
        Assert.Equal(p, ChanceTest.Binary(labels, scores, seed: 42));
    }

    [Fact]
    public void Binary_WeakButRealSignalOnManyRows_IsNotChance()
    {
        // AUC about 0.6 on 2,000 rows: small, but no shuffle comes near it.
        var random = new Random(5);
        var labels = Enumerable.Range(0, 2000).Select(_ => random.Next(2) == 1).ToArray();
        var scores = labels.Select(l => (float)(random.NextDouble() + (l ? 0.15 : 0))).ToArray();

        Assert.True(ChanceTest.Binary(labels, scores, seed: 42) <= 0.002);
    }

    [Fact]
    public void Binary_RowsOfOneClass_HaveNoTest()
    {
        Assert.Null(ChanceTest.Binary([true, true, true], [0.1f, 0.2f, 0.3f], seed: 42));
    }

    [Fact]
    public void Multiclass_RightAnswers_AreNotChance_AndTheMajorityForEveryRowIs()
    {
        var labels = Enumerable.Range(0, 45).Select(i => (uint)(i % 3 + 1)).ToArray();

        Assert.True(ChanceTest.Multiclass(labels, labels, seed: 42) <= 0.002);
        Assert.Equal(1.0, ChanceTest.Multiclass(labels, [.. labels.Select(_ => 1u)], seed: 42));
    }

    [Fact]
    public void Regression_PredictionsThatFollowTheLabel_AreNotChance_AndNoiseIs()
    {
        var random = new Random(9);
        var labels = Enumerable.Range(0, 80).Select(_ => (float)(random.NextDouble() * 10)).ToArray();
        var close = labels.Select(y => y + (float)(random.NextDouble() - 0.5) * 4).ToArray();
        var noise = labels.Select(_ => (float)(random.NextDouble() * 10)).ToArray();

        Assert.True(ChanceTest.Regression(labels, close, seed: 42) <= 0.002);
        var p = ChanceTest.Regression(labels, noise, seed: 42);
        Assert.True(p > 0.05, $"p = {p}");
        // A constant prediction fits every shuffle equally well.
        Assert.Equal(1.0, ChanceTest.Regression(labels, [.. labels.Select(_ => 5f)], seed: 42));
    }
}
