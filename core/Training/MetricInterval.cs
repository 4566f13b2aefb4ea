namespace Serverless.Core.Training;

/// <summary>
/// How far a metric measured on some rows could move on other rows drawn alike: the central <see cref="Level"/> share of
/// its values over <see cref="Resamples"/> bootstrap resamples of the <see cref="Rows"/> (the percentile interval).
/// </summary>
public sealed record MetricInterval(string Metric, double Low, double High, long Rows, int Resamples)
{
    public const double Level = 0.95;

    /// <summary>The interval as the card and the CLI write it after the metric's value: <c>[0.9048, 1]</c>.</summary>
    public string Bracketed() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[{Low:G4}, {High:G4}]");
}

/// <summary>
/// Bootstrap intervals of the metrics <see cref="ChanceTest"/> tests, from each row's label and answer: AUC (binary),
/// macro accuracy (multiclass, resampled within each class), rmse (regression). A resample draws as many rows as there are, with replacement, and is
/// kept as a count per row, so each metric is one weighted pass over rows read once (the scores sorted once for AUC).
/// Written here because ML.NET's evaluators take no row weights and have no bootstrap.
/// </summary>
public static class BootstrapInterval
{
    /// <summary>Resamples per interval: enough for the 2.5% and 97.5% points to move by well under the interval's width.</summary>
    public const int Resamples = 1000;

    /// <summary>The interval of the AUC of <paramref name="scores"/> against <paramref name="labels"/> (true: positive), or null without both classes.</summary>
    public static MetricInterval? Binary(bool[] labels, float[] scores, int seed)
    {
        if (!labels.Contains(true) || !labels.Contains(false)) return null;
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        return Interval(ChanceTest.MetricOf(Specs.TaskKind.Binary), labels.Length, seed, weights => WeightedAuc(labels, scores, order, weights));
    }

    /// <summary>
    /// The interval of the macro accuracy (mean recall over the classes) of <paramref name="predicted"/>. Resampled within
    /// each class (a stratified bootstrap): every resample holds each class as often as the test rows do, so the mean is
    /// over the same classes each time. A plain resample loses a rare class now and then, and its mean over the classes
    /// left jumps, mostly upwards: an interval sitting above the estimate.
    /// </summary>
    public static MetricInterval? Multiclass(uint[] labels, uint[] predicted, int seed)
    {
        if (labels.Distinct().Count() < 2) return null;
        var (counts, hits) = ChanceTest.ClassCounters(labels, predicted);
        var strata = Enumerable.Range(0, labels.Length).GroupBy(i => labels[i]).Select(g => g.ToArray()).ToArray();
        return Interval(ChanceTest.MetricOf(Specs.TaskKind.Multiclass), labels.Length, seed,
            weights => ChanceTest.MacroAccuracy(labels, predicted, weights, counts, hits), strata);
    }

    /// <summary>
    /// Whether the bootstrap has an interval of <paramref name="metric"/> for the task: the tested metric (auc, macro
    /// accuracy, rmse), and besides it accuracy (binary), micro accuracy (multiclass), mae and r² (regression). Others
    /// (log-loss, f1) get the tested metric's interval, named as such.
    /// </summary>
    public static bool Supports(Specs.TaskKind task, string metric) => metric == ChanceTest.MetricOf(task) || task switch
    {
        Specs.TaskKind.Binary => metric == Metrics.Accuracy,
        Specs.TaskKind.Multiclass => metric == Metrics.MicroAccuracy,
        _ => metric is Metrics.Mae or Metrics.R2,
    };

    /// <summary>The interval of the share of rows whose answer is their label (binary accuracy, at the model's own threshold).</summary>
    public static MetricInterval? Accuracy(bool[] labels, bool[] predicted, int seed) =>
        labels.Length < 2 ? null : Share(Metrics.Accuracy, [.. labels.Select((l, i) => l == predicted[i])], seed);

    /// <summary>The interval of micro accuracy (the share of rows whose predicted class is their class).</summary>
    public static MetricInterval? MicroAccuracy(uint[] labels, uint[] predicted, int seed) =>
        labels.Length < 2 ? null : Share(Metrics.MicroAccuracy, [.. labels.Select((l, i) => l == predicted[i])], seed);

    /// <summary>The interval of the share of rows answered right, each row's rightness found once, not once a resample.</summary>
    private static MetricInterval? Share(string metric, bool[] right, int seed) => Interval(metric, right.Length, seed, weights =>
    {
        long hits = 0, all = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            all += weights[i];
            if (right[i]) hits += weights[i];
        }
        return hits / (double)all;
    });

    /// <summary>
    /// The interval of <paramref name="metric"/> (rmse, mae or r²) of <paramref name="predictions"/>; only rows with a
    /// number on both sides count.
    /// </summary>
    public static MetricInterval? Regression(float[] labels, float[] predictions, int seed, string? metric = null)
    {
        var rows = Enumerable.Range(0, labels.Length).Where(i => float.IsFinite(labels[i]) && float.IsFinite(predictions[i])).ToArray();
        double[] y = [.. rows.Select(i => (double)labels[i])], errors = [.. rows.Select(i => (double)labels[i] - predictions[i])];
        if (errors.Length < 2) return null;
        metric ??= ChanceTest.MetricOf(Specs.TaskKind.Regression);
        return Interval(metric, errors.Length, seed, metric switch
        {
            Metrics.Mae => weights =>
            {
                double sum = 0;
                for (var i = 0; i < errors.Length; i++) sum += weights[i] * Math.Abs(errors[i]);
                return sum / errors.Length;
            },
            Metrics.R2 => weights =>
            {
                // 1 - SSE / SST, both over the resample (its own mean of the labels), as ML.NET's r² over the rows.
                double n = 0, mean = 0;
                for (var i = 0; i < y.Length; i++) { n += weights[i]; mean += weights[i] * y[i]; }
                mean /= n;
                double sse = 0, sst = 0;
                for (var i = 0; i < y.Length; i++) { sse += weights[i] * errors[i] * errors[i]; sst += weights[i] * (y[i] - mean) * (y[i] - mean); }
                return sst == 0 ? double.NaN : 1 - sse / sst;
            },
            _ => weights =>
            {
                double squares = 0;
                for (var i = 0; i < errors.Length; i++) squares += weights[i] * errors[i] * errors[i];
                return Math.Sqrt(squares / errors.Length);
            },
        });
    }

    /// <summary>
    /// The AUC with each row counted <paramref name="weights"/> times: over the rows in score order, each positive is
    /// credited with the weight of the negatives below it, and half the weight of those it ties with. NaN without both classes.
    /// </summary>
    internal static double WeightedAuc(bool[] labels, float[] scores, int[] order, int[] weights)
    {
        double below = 0, credit = 0, positives = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && scores[order[end + 1]].Equals(scores[order[start]])) end++;
            double tiedPositives = 0, tiedNegatives = 0;
            for (var k = start; k <= end; k++)
            {
                if (labels[order[k]]) tiedPositives += weights[order[k]];
                else tiedNegatives += weights[order[k]];
            }
            credit += tiedPositives * (below + 0.5 * tiedNegatives);
            below += tiedNegatives;
            positives += tiedPositives;
            start = end + 1;
        }
        return positives == 0 || below == 0 ? double.NaN : credit / (positives * below);
    }

    /// <summary>
    /// The percentile interval of <paramref name="metric"/> over resamples of <paramref name="rows"/> rows (within each of
    /// <paramref name="strata"/>, when given: row indices that partition the rows); resamples where it is undefined are left out.
    /// </summary>
    private static MetricInterval? Interval(string name, int rows, int seed, Func<int[], double> metric, int[][]? strata = null)
    {
        var random = new Random(seed);
        var weights = new int[rows];
        var values = new List<double>(Resamples);
        for (var b = 0; b < Resamples; b++)
        {
            Array.Clear(weights);
            if (strata is null) for (var i = 0; i < rows; i++) weights[random.Next(rows)]++;
            else
            {
                foreach (var stratum in strata)
                {
                    for (var i = 0; i < stratum.Length; i++) weights[stratum[random.Next(stratum.Length)]]++;
                }
            }
            var value = metric(weights);
            if (double.IsFinite(value)) values.Add(value);
        }
        if (values.Count < Resamples / 2) return null;
        values.Sort();
        var tail = (1 - MetricInterval.Level) / 2;
        return new MetricInterval(name, Percentile(values, tail), Percentile(values, 1 - tail), rows, values.Count);
    }

    /// <summary>The <paramref name="q"/> quantile of sorted values, interpolated between neighbours.</summary>
    private static double Percentile(List<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
