using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Serving;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// Whether a model's answers on some rows say anything about their labels: a permutation test. The labels are
/// shuffled against the answers <see cref="Permutations"/> times, and the p-value is the share of shuffles (counting
/// the rows as they are) whose metric is at least as good as the model's: AUC for a binary task (from the ranks of the
/// scores, as the Mann-Whitney statistic), macro accuracy for a multiclass one, rmse for a regression. A model that
/// learned nothing beats the constant baseline about half the time by chance; a small p-value says it did not get there by chance.
/// Written here because ML.NET has no permutation test of a model (its PFI permutes features, not labels).
/// </summary>
public static class ChanceTest
{
    /// <summary>Shuffles of the labels; with the rows as they are, p-values are multiples of 1/1,000.</summary>
    public const int Permutations = 999;

    /// <summary>The metric a task's test is on: the task's default primary metric.</summary>
    public static string MetricOf(TaskKind task) => Metrics.DefaultPrimary(task);

    /// <summary>
    /// The p-value of a scored view of labelled rows (null for rows of one label value only), and the bootstrap interval
    /// (<see cref="BootstrapInterval"/>) of <paramref name="metric"/> (the run's primary metric) where it is one the
    /// bootstrap has (<see cref="BootstrapInterval.Supports"/>), else of the tested metric; from one read of the rows.
    /// <paramref name="label"/>: the prepared label's column (<see cref="FeaturePipeline.PreparedLabel"/>).
    /// </summary>
    public static (double? PValue, MetricInterval? Interval) OnRows(TaskKind task, IDataView scored, int seed, string? metric = null,
        string label = FeaturePipeline.LabelColumn)
    {
        var wanted = metric is not null && BootstrapInterval.Supports(task, metric) ? metric : MetricOf(task);
        switch (task)
        {
            case TaskKind.Binary:
                var accuracy = wanted != MetricOf(task);
                var (labels, scores, predicted) = Read<bool, float, bool>(scored, label, ModelOutputs.ScoreColumn, accuracy ? ModelOutputs.PredictedLabelColumn : null);
                var interval = accuracy ? BootstrapInterval.Accuracy(labels, predicted, seed) : BootstrapInterval.Binary(labels, scores, seed);
                return (Binary(labels, scores, seed), interval);
            case TaskKind.Multiclass:
                var (classes, predictedClasses, _) = Read<uint, uint, uint>(scored, label, ModelOutputs.PredictedLabelColumn);
                return (Multiclass(classes, predictedClasses, seed),
                    wanted == MetricOf(task) ? BootstrapInterval.Multiclass(classes, predictedClasses, seed) : BootstrapInterval.MicroAccuracy(classes, predictedClasses, seed));
            default:
                // Only rows with a number on both sides count (a NaN would make every comparison false).
                var (values, predictions, _) = Read<float, float, float>(scored, label, ModelOutputs.ScoreColumn);
                var finite = Enumerable.Range(0, values.Length).Where(i => float.IsFinite(values[i]) && float.IsFinite(predictions[i])).ToList();
                float[] y = [.. finite.Select(i => values[i])], answers = [.. finite.Select(i => predictions[i])];
                return (Regression(y, answers, seed), BootstrapInterval.Regression(y, answers, seed, wanted));
        }
    }

    /// <summary>
    /// The label, one answer column and optionally a second (<paramref name="otherColumn"/>; empty when null) of every row,
    /// in one pass over the scored view (each pass scores the rows again).
    /// </summary>
    private static (TLabel[] Labels, TAnswer[] Answers, TOther[] Others) Read<TLabel, TAnswer, TOther>(IDataView scored, string labelColumn, string answerColumn, string? otherColumn = null)
    {
        var label = scored.Schema[labelColumn];
        var answer = scored.Schema[answerColumn];
        var other = otherColumn is null ? (DataViewSchema.Column?)null : scored.Schema[otherColumn];
        var labels = new List<TLabel>();
        var answers = new List<TAnswer>();
        var others = new List<TOther>();
        using var cursor = scored.GetRowCursor(other is { } o ? [label, answer, o] : [label, answer]);
        var getLabel = cursor.GetGetter<TLabel>(label);
        var getAnswer = cursor.GetGetter<TAnswer>(answer);
        var getOther = other is { } column ? cursor.GetGetter<TOther>(column) : null;
        TLabel l = default!;
        TAnswer a = default!;
        TOther x = default!;
        while (cursor.MoveNext())
        {
            getLabel(ref l);
            getAnswer(ref a);
            labels.Add(l);
            answers.Add(a);
            if (getOther is null) continue;
            getOther(ref x);
            others.Add(x);
        }
        return ([.. labels], [.. answers], [.. others]);
    }

    /// <summary>
    /// The permutation p-value of the rmse of <paramref name="predictions"/> against <paramref name="labels"/>. A shuffle
    /// keeps the sums of the squares of both, so its squared error is as small as the model's when its sum of the
    /// products of label and prediction is as large.
    /// </summary>
    public static double? Regression(float[] labels, float[] predictions, int seed)
    {
        if (labels.Distinct().Count() < 2) return null;
        double Products(float[] y)
        {
            var sum = 0.0;
            for (var i = 0; i < y.Length; i++) sum += (double)y[i] * predictions[i];
            return sum;
        }
        var observed = Products(labels);
        var tolerance = 1e-9 * Math.Max(1, Math.Abs(observed));
        return Count(labels, seed, shuffled => Products(shuffled) >= observed - tolerance);
    }

    /// <summary>The permutation p-value of the AUC of <paramref name="scores"/> against <paramref name="labels"/> (true: positive).</summary>
    public static double? Binary(bool[] labels, float[] scores, int seed)
    {
        var positives = labels.Count(l => l);
        if (positives == 0 || positives == labels.Length) return null;
        var ranks = Ranks(scores);
        double RankSum(bool[] y)
        {
            var sum = 0.0;
            for (var i = 0; i < y.Length; i++) if (y[i]) sum += ranks[i];
            return sum;
        }
        // The AUC grows with the positives' rank sum: a shuffle is as good when its rank sum is at least the model's.
        var observed = RankSum(labels);
        return Count(labels, seed, shuffled => RankSum(shuffled) >= observed - 1e-9);
    }

    /// <summary>The permutation p-value of the macro accuracy (mean recall over the classes present) of <paramref name="predicted"/>.</summary>
    public static double? Multiclass(uint[] labels, uint[] predicted, int seed)
    {
        if (labels.Distinct().Count() < 2) return null;
        var (counts, hits) = ClassCounters(labels, predicted);
        var observed = MacroAccuracy(labels, predicted, null, counts, hits);
        return Count(labels, seed, shuffled => MacroAccuracy(shuffled, predicted, null, counts, hits) >= observed - 1e-12);
    }

    /// <summary>Scratch counters for <see cref="MacroAccuracy"/>, one slot per class key the labels and answers hold.</summary>
    internal static (long[] Counts, long[] Hits) ClassCounters(uint[] labels, uint[] predicted)
    {
        var size = (int)Math.Max(labels.Max(), predicted.DefaultIfEmpty(0u).Max()) + 1;
        return (new long[size], new long[size]);
    }

    /// <summary>
    /// Macro accuracy, the mean recall over the classes present, each row counted <paramref name="weights"/> times (null:
    /// once), in the scratch <paramref name="counts"/> and <paramref name="hits"/> of <see cref="ClassCounters"/>.
    /// </summary>
    internal static double MacroAccuracy(uint[] labels, uint[] predicted, int[]? weights, long[] counts, long[] hits)
    {
        Array.Clear(counts);
        Array.Clear(hits);
        for (var i = 0; i < labels.Length; i++)
        {
            var weight = weights is null ? 1 : weights[i];
            counts[labels[i]] += weight;
            if (labels[i] == predicted[i]) hits[labels[i]] += weight;
        }
        double sum = 0;
        var present = 0;
        for (var c = 0; c < counts.Length; c++)
        {
            if (counts[c] == 0) continue;
            sum += hits[c] / (double)counts[c];
            present++;
        }
        return sum / present;
    }

    private static double Count<T>(T[] labels, int seed, Func<T[], bool> asGood)
    {
        var random = new Random(seed);
        var shuffled = (T[])labels.Clone();
        var count = 1; // the rows as they are
        for (var p = 0; p < Permutations; p++)
        {
            random.Shuffle(shuffled);
            if (asGood(shuffled)) count++;
        }
        return count / (double)(Permutations + 1);
    }

    /// <summary>Ranks from 1, ties sharing their mean rank.</summary>
    private static double[] Ranks(float[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]].Equals(scores[order[start]])) end++;
            var mean = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++) ranks[order[k]] = mean;
            start = end + 1;
        }
        return ranks;
    }
}
