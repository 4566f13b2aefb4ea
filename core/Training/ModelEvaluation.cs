using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Serving;
using Serverless.Core.Specs;

namespace Serverless.Core.Training;

/// <summary>
/// Metrics of scored data, named as <see cref="Metrics.For"/> lists them; a metric the model cannot give is left out.
/// Log-loss is in nats (natural logarithm) for every task, as scikit-learn and most tools report it: ML.NET's binary
/// evaluator reports it in bits (base-2 logarithm) and its multiclass evaluator in nats, so the binary one is converted.
/// </summary>
public static class ModelEvaluation
{
    /// <summary>Nats per bit: a log-loss in bits times this is the same log-loss in nats.</summary>
    private static readonly double NatsPerBit = Math.Log(2);

    public static Dictionary<string, double> Evaluate(MLContext ml, DatasetSchema schema, IDataView scored)
    {
        var label = FeaturePipeline.PreparedLabel(schema);
        var metrics = new Dictionary<string, double>();
        switch (schema.Task)
        {
            case TaskKind.Regression:
                var r = ml.Regression.Evaluate(scored, label);
                metrics[Metrics.Rmse] = r.RootMeanSquaredError;
                metrics[Metrics.Mae] = r.MeanAbsoluteError;
                metrics[Metrics.R2] = r.RSquared;
                break;
            case TaskKind.Binary:
                if (scored.Schema.GetColumnOrNull(ModelOutputs.ProbabilityColumn) is not null)
                {
                    var b = BothClasses(schema, scored, () => ml.BinaryClassification.Evaluate(scored, label));
                    Add(metrics, Metrics.Auc, () => b.AreaUnderRocCurve);
                    metrics[Metrics.Accuracy] = b.Accuracy;
                    metrics[Metrics.F1] = b.F1Score;
                    metrics[Metrics.LogLoss] = b.LogLoss * NatsPerBit;
                }
                else
                {
                    var b = BothClasses(schema, scored, () => ml.BinaryClassification.EvaluateNonCalibrated(scored, label));
                    Add(metrics, Metrics.Auc, () => b.AreaUnderRocCurve);
                    metrics[Metrics.Accuracy] = b.Accuracy;
                    metrics[Metrics.F1] = b.F1Score;
                }
                break;
            case TaskKind.Multiclass:
                var m = ml.MulticlassClassification.Evaluate(scored, label);
                metrics[Metrics.MacroAccuracy] = m.MacroAccuracy;
                metrics[Metrics.MicroAccuracy] = m.MicroAccuracy;
                metrics[Metrics.LogLoss] = m.LogLoss;
                break;
        }
        foreach (var key in metrics.Where(kv => double.IsNaN(kv.Value) || double.IsInfinity(kv.Value)).Select(kv => kv.Key).ToList())
        {
            metrics.Remove(key);
        }
        return metrics;
    }

    /// <summary>
    /// ML.NET's binary evaluation, which refuses rows of one class only ("AUC is not defined when there is no positive
    /// class"): that refusal is turned into one that names the class the rows lack, how many rows there were, and what to do.
    /// </summary>
    private static T BothClasses<T>(DatasetSchema schema, IDataView scored, Func<T> evaluate)
    {
        try
        {
            return evaluate();
        }
        catch (ArgumentOutOfRangeException)
        {
            var labels = scored.GetColumn<bool>(FeaturePipeline.PreparedLabel(schema)).ToList();
            var positives = labels.Count(l => l);
            if (positives > 0 && positives < labels.Count) throw;
            // The positive class is the schema's second; the other is its first.
            var missing = schema.ClassAsWritten((positives == 0 ? schema.PositiveClass : schema.Classes?[0]) ?? "");
            throw new InvalidOperationException(
                $"{labels.Count} rows scored together hold no row of class '{missing}', so AUC and the other binary metrics are not defined on them. " +
                $"The rows of '{missing}' are too few to hold out some for every measure (each cross-validation fold, the validation and the test split): upload more rows of it.");
        }
    }

    private static void Add(Dictionary<string, double> metrics, string name, Func<double> value)
    {
        try
        {
            metrics[name] = value();
        }
        catch (ArgumentOutOfRangeException)
        {
            // AUC is undefined when the split holds one class only.
        }
    }
}

/// <summary>
/// The deterministic baseline every model must beat: the mean of the train labels for regression, the majority class
/// (with the train class frequencies as probabilities) for classification.
/// </summary>
public static class Baseline
{
    public static Dictionary<string, double> Score(DatasetSchema schema, IReadOnlyList<string?> train, IReadOnlyList<string?> test)
    {
        return schema.Task == TaskKind.Regression ? Regression(train, test) : Classification(schema, train, test);
    }

    private static Dictionary<string, double> Regression(IReadOnlyList<string?> train, IReadOnlyList<string?> test)
    {
        static IEnumerable<double> Numbers(IEnumerable<string?> values) =>
            values.Select(v => double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d : double.NaN)
                  .Where(d => !double.IsNaN(d));
        var mean = Numbers(train).DefaultIfEmpty(0).Average();
        var y = Numbers(test).ToArray();
        if (y.Length == 0) return [];
        var testMean = y.Average();
        var ssRes = y.Sum(v => (v - mean) * (v - mean));
        var ssTot = y.Sum(v => (v - testMean) * (v - testMean));
        return new Dictionary<string, double>
        {
            [Metrics.Rmse] = Math.Sqrt(ssRes / y.Length),
            [Metrics.Mae] = y.Average(v => Math.Abs(v - mean)),
            [Metrics.R2] = ssTot == 0 ? 0 : 1 - ssRes / ssTot,
        };
    }

    private static Dictionary<string, double> Classification(DatasetSchema schema, IReadOnlyList<string?> train, IReadOnlyList<string?> test)
    {
        var classes = schema.Classes ?? [];
        var counts = classes.ToDictionary(c => c, c => 0.0);
        foreach (var v in train) if (v is not null && counts.ContainsKey(v)) counts[v]++;
        var total = Math.Max(1, counts.Values.Sum());
        // Ties go to the first class in sorted order, so the baseline is deterministic.
        var majority = classes.OrderByDescending(c => counts[c]).ThenBy(c => c, StringComparer.Ordinal).First();
        var prior = classes.ToDictionary(c => c, c => Math.Max(counts[c] / total, 1e-15));
        var y = test.Where(v => v is not null && counts.ContainsKey(v)).Select(v => v!).ToList();
        if (y.Count == 0) return [];

        var accuracy = y.Count(v => v == majority) / (double)y.Count;
        var logLoss = -y.Average(v => Math.Log(prior[v]));
        if (schema.Task == TaskKind.Binary)
        {
            var positive = schema.PositiveClass!;
            var truePositives = y.Count(v => v == positive && majority == positive);
            var predictedPositive = majority == positive ? y.Count : 0;
            var actualPositive = y.Count(v => v == positive);
            var precision = predictedPositive == 0 ? 0 : truePositives / (double)predictedPositive;
            var recall = actualPositive == 0 ? 0 : truePositives / (double)actualPositive;
            return new Dictionary<string, double>
            {
                [Metrics.Auc] = 0.5,
                [Metrics.Accuracy] = accuracy,
                [Metrics.F1] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall),
                [Metrics.LogLoss] = logLoss,
            };
        }
        var present = y.Distinct().ToList();
        return new Dictionary<string, double>
        {
            [Metrics.MacroAccuracy] = present.Average(c => c == majority ? 1.0 : 0.0),
            [Metrics.MicroAccuracy] = accuracy,
            [Metrics.LogLoss] = logLoss,
        };
    }
}
