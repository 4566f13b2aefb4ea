using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>
/// The bootstrap interval of a test metric: the weighted AUC against counting every pair, and each task's interval
/// against the width the metric's textbook standard error gives on data drawn so that it is known.
/// </summary>
public sealed class BootstrapIntervalTests
{
    private const double Z = 1.959964;

    [Fact]
    public void WeightedAuc_EqualsTheShareOfPositiveNegativePairsRankedRight_EachRowCountedItsWeight()
    {
        var random = new Random(3);
        var labels = Enumerable.Range(0, 60).Select(_ => random.Next(3) == 0).ToArray();
        // Scores on a coarse grid, so many rows tie.
        var scores = labels.Select(l => (float)Math.Round(random.NextDouble() * 5 + (l ? 1.5 : 0))).ToArray();
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        foreach (var weights in new[] { Enumerable.Repeat(1, 60).ToArray(), labels.Select(_ => random.Next(4)).ToArray() })
        {
            double right = 0, pairs = 0;
            for (var i = 0; i < labels.Length; i++)
            {
                for (var j = 0; j < labels.Length; j++)
                {
                    if (!labels[i] || labels[j]) continue;
                    var w = weights[i] * weights[j];
                    pairs += w;
                    right += w * (scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0);
                }
            }

            Assert.Equal(right / pairs, BootstrapInterval.WeightedAuc(labels, scores, order, weights), 12);
        }
    }

    [Fact]
    public void Regression_NormalErrors_IntervalIsAsWideAsTheStandardErrorOfTheRmseSays()
    {
        // Errors of sd 2 around the label: rmse ≈ 2, with a standard error of about sd/√(2n).
        const int rows = 2000;
        var (labels, predictions) = LabelsWithNormalErrors(rows, range: 100, seed: 5);
        var rmse = Math.Sqrt(labels.Zip(predictions, (y, p) => (double)(y - p) * (y - p)).Average());

        var interval = BootstrapInterval.Regression(labels, predictions, seed: 42)!;

        Assert.Equal("rmse", interval.Metric);
        Assert.Equal(rows, interval.Rows);
        Assert.Equal(BootstrapInterval.Resamples, interval.Resamples);
        Assert.InRange(rmse, interval.Low, interval.High);
        Assert.InRange((interval.High - interval.Low) / (2 * Z * 2 / Math.Sqrt(2 * rows)), 0.8, 1.2);
        Assert.Equal(interval, BootstrapInterval.Regression(labels, predictions, seed: 42));
    }

    [Fact]
    public void Regression_MaeAndR2_IntervalsAsTheirStandardErrorsSay()
    {
        // Errors of sd 2: mae ≈ 2·√(2/π), its standard error sd(|e|)/√n with sd(|e|) = 2·√(1 - 2/π); r² = 1 - 4/var(y).
        const int rows = 2000;
        var (labels, predictions) = LabelsWithNormalErrors(rows, range: 20, seed: 6);
        var errors = labels.Zip(predictions, (y, p) => (double)y - p).ToArray();
        var mae = errors.Average(Math.Abs);
        var mean = labels.Average(y => (double)y);
        var r2 = 1 - errors.Sum(e => e * e) / labels.Sum(y => (y - mean) * (y - mean));

        var maeInterval = BootstrapInterval.Regression(labels, predictions, 42, Metrics.Mae)!;
        var r2Interval = BootstrapInterval.Regression(labels, predictions, 42, Metrics.R2)!;

        Assert.Equal((Metrics.Mae, Metrics.R2), (maeInterval.Metric, r2Interval.Metric));
        Assert.InRange(mae, maeInterval.Low, maeInterval.High);
        Assert.InRange((maeInterval.High - maeInterval.Low) / (2 * Z * 2 * Math.Sqrt(1 - 2 / Math.PI) / Math.Sqrt(rows)), 0.8, 1.2);
        Assert.InRange(r2, r2Interval.Low, r2Interval.High);
        Assert.True(r2Interval.High < 1 && r2Interval.Low > 0.8, $"{r2Interval} around {r2}");
    }

    [Fact]
    public void Accuracy_BinaryAndMicro_IntervalIsAsWideAsTheBinomialStandardErrorSays()
    {
        // 1,600 rows answered right with probability 0.8: standard error √(0.8·0.2/n) = 0.01.
        const int rows = 1600;
        var random = new Random(7);
        var labels = Enumerable.Range(0, rows).Select(_ => random.Next(2) == 0).ToArray();
        var right = Enumerable.Range(0, rows).Select(_ => random.NextDouble() < 0.8).ToArray();
        var predicted = labels.Select((l, i) => right[i] ? l : !l).ToArray();
        var classes = labels.Select((l, i) => (uint)(l ? 1 : 2)).ToArray();
        var answers = predicted.Select(p => (uint)(p ? 1 : 2)).ToArray();
        var share = right.Count(r => r) / (double)rows;

        var binary = BootstrapInterval.Accuracy(labels, predicted, 42)!;
        var micro = BootstrapInterval.MicroAccuracy(classes, answers, 42)!;

        Assert.Equal((Metrics.Accuracy, Metrics.MicroAccuracy), (binary.Metric, micro.Metric));
        foreach (var interval in new[] { binary, micro })
        {
            Assert.InRange(share, interval.Low, interval.High);
            Assert.InRange((interval.High - interval.Low) / (2 * Z * Math.Sqrt(0.8 * 0.2 / rows)), 0.8, 1.2);
        }
        Assert.True(BootstrapInterval.Supports(Serverless.Core.Specs.TaskKind.Binary, Metrics.Accuracy));
        Assert.False(BootstrapInterval.Supports(Serverless.Core.Specs.TaskKind.Binary, "logLoss"));
    }

    [Fact]
    public void Binary_IntervalIsAsWideAsHanleyAndMcNeilsStandardErrorSays_AndHalvesWithFourTimesTheRows()
    {
        double Width(int rows, out double auc)
        {
            var random = new Random(rows);
            var labels = Enumerable.Range(0, rows).Select(i => i % 2 == 0).ToArray();
            var scores = labels.Select(l => (float)(Normal(random) + (l ? 1.2 : 0))).ToArray();
            var order = Enumerable.Range(0, rows).OrderBy(i => scores[i]).ToArray();
            auc = BootstrapInterval.WeightedAuc(labels, scores, order, Enumerable.Repeat(1, rows).ToArray());
            var interval = BootstrapInterval.Binary(labels, scores, seed: 42)!;
            Assert.Equal("auc", interval.Metric);
            Assert.InRange(auc, interval.Low, interval.High);
            return interval.High - interval.Low;
        }

        var small = Width(400, out var a);
        var large = Width(1600, out _);

        // Hanley & McNeil (1982): the standard error of an AUC from its value and the count of each class.
        double q1 = a / (2 - a), q2 = 2 * a * a / (1 + a), n = 200;
        var standardError = Math.Sqrt((a * (1 - a) + (n - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (n * n));
        Assert.InRange(small / (2 * Z * standardError), 0.75, 1.25);
        Assert.InRange(large / small, 0.4, 0.6);
    }

    [Fact]
    public void Multiclass_IntervalIsAsWideAsTheMeanOfTheClassesRecallsSays()
    {
        // Three classes of 300 rows, each predicted right 80% of the time.
        var random = new Random(9);
        var labels = Enumerable.Range(0, 900).Select(i => (uint)(i % 3 + 1)).ToArray();
        var predicted = labels.Select(l => random.NextDouble() < 0.8 ? l : l % 3 + 1).ToArray();

        var interval = BootstrapInterval.Multiclass(labels, predicted, seed: 42)!;

        Assert.Equal("macroAccuracy", interval.Metric);
        var standardError = Math.Sqrt(3 * 0.8 * 0.2 / 300) / 3;
        Assert.InRange((interval.High - interval.Low) / (2 * Z * standardError), 0.8, 1.2);
        Assert.InRange(0.8, interval.Low, interval.High);
    }

    [Fact]
    public void Multiclass_ARareClass_IsInEveryResample_SoTheIntervalDoesNotJumpAboveTheEstimate()
    {
        // 300 rows of class 1 (90% right), 200 of class 2 (80% right), 3 of class 3 (never right): macro accuracy 0.5667.
        // A plain resample misses class 3 about one time in twenty, and its mean over two classes is about 0.85.
        var random = new Random(5);
        uint[] labels = [.. Enumerable.Repeat(1u, 300), .. Enumerable.Repeat(2u, 200), 3, 3, 3];
        var predicted = labels.Select(l => l == 3 ? 1u : random.NextDouble() < (l == 1 ? 0.9 : 0.8) ? l : 3 - l).ToArray();
        var estimate = (labels.Where((l, i) => l == 1 && predicted[i] == 1).Count() / 300.0 + labels.Where((l, i) => l == 2 && predicted[i] == 2).Count() / 200.0) / 3;

        var interval = BootstrapInterval.Multiclass(labels, predicted, seed: 42)!;

        Assert.InRange(estimate, interval.Low, interval.High);
        Assert.True(interval.High < 0.62, $"[{interval.Low}, {interval.High}] around {estimate}");
        Assert.InRange((interval.High - estimate) / (estimate - interval.Low), 0.6, 1.6);
    }

    [Fact]
    public void OneLabelValue_HasNoInterval()
    {
        Assert.Null(BootstrapInterval.Binary([true, true, true], [0.1f, 0.2f, 0.3f], seed: 42));
        Assert.Null(BootstrapInterval.Multiclass([2, 2, 2], [1, 2, 2], seed: 42));
        Assert.Null(BootstrapInterval.Regression([1f], [1.5f], seed: 42));
    }

    /// <summary>Labels uniform on [0, <paramref name="range"/>) and predictions off them by normal errors of sd 2.</summary>
    private static (float[] Labels, float[] Predictions) LabelsWithNormalErrors(int rows, double range, int seed)
    {
        var random = new Random(seed);
        var labels = Enumerable.Range(0, rows).Select(_ => (float)(random.NextDouble() * range)).ToArray();
        return (labels, labels.Select(y => y + 2 * (float)Normal(random)).ToArray());
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
