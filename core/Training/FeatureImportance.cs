using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Storage;

namespace Serverless.Core.Training;

/// <summary>How much the primary metric changes when one feature's values are shuffled (its permutation importance).</summary>
/// <param name="Change">Mean change of the metric (permuted minus original): a loss of quality is a drop for accuracy-like metrics, a rise for errors.</param>
/// <param name="StandardError">Standard error of the change over the permutations.</param>
public sealed record FeatureEffect(string Feature, double Change, double StandardError);

/// <summary>Permutation feature importance of a model version on its test split, most important feature first.</summary>
/// <param name="NotComputed">Why there is none (ML.NET could not take the model apart), else null.</param>
/// <param name="ColumnsShuffled">
/// Whether each feature column was shuffled in the test rows and the whole model scored (<see cref="ModelExplainer.ExplainColumnsAsync"/>:
/// a blend, a model with a column that became several inputs, or one with more than <see cref="ModelExplainer.MaxSlots"/>
/// inputs), rather than the predictor's inputs one by one by ML.NET's PFI.
/// </param>
public sealed record FeatureImportanceReport(string Metric, long Rows, int Permutations, IReadOnlyList<FeatureEffect> Features, string? NotComputed = null, bool ColumnsShuffled = false);

/// <summary>
/// Permutation feature importance with ML.NET's PFI (<see cref="PermutationFeatureImportanceExtensions"/>): the model's
/// predictor is scored on the test split with each of its input slots shuffled in turn, where each input is one of the
/// data's columns (numbers, flags). Where a column became several inputs (a category's one-hot values, a text's n-grams),
/// where no one predictor's inputs stand for the model (a blend), or where they are too many to shuffle one by one, the
/// data's columns are shuffled instead (<see cref="ExplainColumnsAsync"/>): shuffling a one-hot column's inputs one by
/// one makes rows with no category or two, and the sum of their changes is not what shuffling the column does (it can
/// even have the other sign).
/// </summary>
public sealed class ModelExplainer(PipelineStorage storage, ILogger<ModelExplainer> logger)
{
    /// <summary>Rows of the test split used; PFI scores them once per slot and permutation.</summary>
    public const int MaxRows = 2000;

    /// <summary>Above this many slots (large text vocabularies) PFI is not run, as it would cost a scoring pass per slot: the columns are shuffled instead.</summary>
    public const int MaxSlots = 400;

    public const int Permutations = 3;

    public async Task<FeatureImportanceReport> ExplainAsync(string modelBlob, string testBlob, DatasetSchema schema, string metric, int seed, CancellationToken ct)
    {
        var folder = Path.Combine(Path.GetTempPath(), "mlops-pfi-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var zip = Path.Combine(folder, "model.zip");
            var test = Path.Combine(folder, "test.csv");
            await storage.Models.GetBlobClient(modelBlob).DownloadToAsync(zip, ct).ConfigureAwait(false);
            await storage.Datasets.GetBlobClient(testBlob).DownloadToAsync(test, ct).ConfigureAwait(false);
            var ml = FeaturePipeline.Context(seed);
            ITransformer model;
            await using (var stream = File.OpenRead(zip)) model = ml.Model.Load(stream, out _);
            FeatureImportanceReport report;
            try
            {
                report = await ExplainModelAsync(ml, model, test, folder, schema, metric, seed, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException)
            {
                // The card's importance section explains the model; a model ML.NET's PFI cannot take apart is still
                // registered, and its card says why the section is empty.
                logger.LogWarning(e, "No feature importance for {ModelBlob}", modelBlob);
                return new FeatureImportanceReport(metric, 0, 0, [], $"ML.NET's PFI could not be run on this model: {e.Message}");
            }
            logger.LogInformation("Feature importance of {ModelBlob} on {Rows} rows: {TopFeature}", modelBlob, report.Rows, report.Features.FirstOrDefault()?.Feature ?? report.NotComputed);
            return report;
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The importance of a loaded model's feature columns on the test rows in <paramref name="testCsv"/> (canonical CSV):
    /// ML.NET's PFI of its predictor's inputs, or the columns shuffled in the data for a blend and for a model with more
    /// than <see cref="MaxSlots"/> inputs. <paramref name="folder"/> takes the shuffled copies.
    /// </summary>
    public static async Task<FeatureImportanceReport> ExplainModelAsync(MLContext ml, ITransformer model, string testCsv, string folder,
        DatasetSchema schema, string metric, int seed, CancellationToken ct)
    {
        if (!ModelChain.IsBlend(model))
        {
            var loaded = FeaturePipeline.Loader(ml, schema).Load(testCsv);
            if (ExplainInputs(ml, model, FeaturePipeline.FitLabel(ml, schema, loaded).Transform(loaded), schema, metric) is { } report) return report;
        }
        return await ExplainColumnsAsync(ml, model, testCsv, folder, schema, metric, seed, ct).ConfigureAwait(false);
    }

    /// <summary>PFI of a loaded model on labelled data, grouped by the schema's feature columns; null above <see cref="MaxSlots"/> inputs.</summary>
    private static FeatureImportanceReport? ExplainInputs(MLContext ml, ITransformer model, IDataView data, DatasetSchema schema, string metric)
    {
        // Binary PFI reports no log-loss (the statistics are those of the uncalibrated score): AUC stands in.
        if (schema.Task == TaskKind.Binary && metric == Metrics.LogLoss) metric = Metrics.Auc;
        var (predictor, prefix, _) = ModelChain.Split(model) ?? throw new InvalidOperationException("The model has no predictor whose feature importance can be measured.");
        // The rows PFI scores, featurized once and kept in memory: PFI passes over them once per slot and permutation.
        var prepared = ml.Data.Cache(ml.Data.TakeRows(prefix.Transform(data), MaxRows));
        var features = prepared.Schema[FeaturePipeline.FeaturesColumn];
        var slots = features.Type is VectorDataViewType vector ? vector.Size : 1;
        if (slots > MaxSlots) return null;
        var names = SlotNames(features, slots);
        // PFI shuffles each input on its own. A column that became several inputs (a category's one-hot values, a text's
        // n-grams) shuffled so would make rows no data has (no category, or two at once), and the sum of its inputs'
        // changes is not what shuffling the column does: such a model's columns are shuffled in the data instead.
        var columns = names.Select(n => ColumnOf(n, schema.Features) ?? n).ToArray();
        if (columns.Distinct(StringComparer.Ordinal).Count() < columns.Length) return null;
        var rows = Math.Min(MaxRows, CountRows(prepared, MaxRows));
        var changes = schema.Task switch
        {
            TaskKind.Regression => ml.Regression.PermutationFeatureImportance(predictor, prepared, numberOfExamplesToUse: MaxRows, permutationCount: Permutations)
                .Select(s => Pick(metric, s)).ToList(),
            TaskKind.Binary => ml.BinaryClassification.PermutationFeatureImportance(predictor, prepared, numberOfExamplesToUse: MaxRows, permutationCount: Permutations)
                .Select(s => Pick(metric, s)).ToList(),
            _ => ml.MulticlassClassification.PermutationFeatureImportance(predictor, prepared, numberOfExamplesToUse: MaxRows, permutationCount: Permutations)
                .Select(s => Pick(metric, s)).ToList(),
        };
        var sign = Metrics.HigherIsBetter(metric) ? -1 : 1;
        var effects = changes
            .Select((c, i) => new FeatureEffect(columns[i], c.Mean, c.StandardError))
            .OrderByDescending(e => sign * e.Change).ThenBy(e => e.Feature, StringComparer.Ordinal)
            .ToList();
        return new FeatureImportanceReport(metric, rows, Permutations, effects);
    }

    /// <summary>
    /// Permutation importance by data column, for a model whose predictor inputs cannot stand for its columns: a
    /// <see cref="Blend"/>, whose members each featurize the data their own way, a model with a column that became several
    /// inputs, or one with more inputs than <see cref="MaxSlots"/> (ML.NET's PFI permutes a predictor's inputs one by one).
    /// Each feature column of the test rows
    /// (at most <see cref="MaxRows"/>) is shuffled in turn, <see cref="Permutations"/> times with a generator seeded by the
    /// run's seed, and the whole model scored on the rows so changed, with the metrics the run is judged by.
    /// </summary>
    public static async Task<FeatureImportanceReport> ExplainColumnsAsync(MLContext ml, ITransformer model, string testCsv, string folder,
        DatasetSchema schema, string metric, int seed, CancellationToken ct)
    {
        var rows = new List<string?[]>();
        string[] header = [];
        await foreach (var (names, fields) in CanonicalCsv.ReadRecordsAsync(testCsv, ct).ConfigureAwait(false))
        {
            header = names;
            rows.Add(fields);
            if (rows.Count == MaxRows) break;
        }
        var loader = FeaturePipeline.Loader(ml, schema);
        var file = Path.Combine(folder, "permuted.csv");
        double Score()
        {
            CanonicalCsv.WriteFile(file, header, rows);
            var loaded = loader.Load(file);
            var scored = model.Transform(FeaturePipeline.FitLabel(ml, schema, loaded).Transform(loaded));
            return ModelEvaluation.Evaluate(ml, schema, scored).GetValueOrDefault(metric, double.NaN);
        }
        var original = Score();
        var random = new Random(seed);
        var effects = new List<FeatureEffect>();
        foreach (var feature in schema.Features)
        {
            ct.ThrowIfCancellationRequested();
            var column = Array.IndexOf(header, feature);
            if (column < 0) continue;
            var values = rows.Select(r => r[column]).ToArray();
            var changes = new double[Permutations];
            for (var p = 0; p < Permutations; p++)
            {
                var shuffled = (string?[])values.Clone();
                random.Shuffle(shuffled);
                for (var i = 0; i < rows.Count; i++) rows[i][column] = shuffled[i];
                changes[p] = Score() - original;
            }
            for (var i = 0; i < rows.Count; i++) rows[i][column] = values[i];
            var mean = changes.Average();
            var error = Math.Sqrt(changes.Sum(c => (c - mean) * (c - mean)) / Math.Max(1, Permutations - 1) / Permutations);
            effects.Add(new FeatureEffect(feature, mean, error));
        }
        var sign = Metrics.HigherIsBetter(metric) ? -1 : 1;
        return new FeatureImportanceReport(metric, rows.Count, Permutations,
            [.. effects.OrderByDescending(e => sign * e.Change).ThenBy(e => e.Feature, StringComparer.Ordinal)], ColumnsShuffled: true);
    }

    private static string[] SlotNames(DataViewSchema.Column features, int slots)
    {
        var names = new VBuffer<ReadOnlyMemory<char>>();
        if (features.HasSlotNames()) features.GetSlotNames(ref names);
        var dense = names.DenseValues().Select(n => n.ToString()).ToArray();
        return [.. Enumerable.Range(0, slots).Select(i => i < dense.Length && dense[i].Length > 0 ? dense[i] : $"input {i}")];
    }

    /// <summary>The feature column a slot came from: its name is <c>f_{column}</c> or <c>f_{column}.{value}</c> (see <see cref="FeaturePipeline.Featurize"/>).</summary>
    private static string? ColumnOf(string slot, IReadOnlyList<string> columns) =>
        columns.Where(c => slot == FeaturePipeline.FeatureColumn(c) || slot.StartsWith(FeaturePipeline.FeatureColumn(c) + ".", StringComparison.Ordinal))
            .OrderByDescending(c => c.Length).FirstOrDefault();

    private static long CountRows(IDataView data, int max)
    {
        long count = 0;
        using var cursor = data.GetRowCursor([]);
        while (count < max && cursor.MoveNext()) count++;
        return count;
    }

    private static MetricStatistics Pick(string metric, RegressionMetricsStatistics s) => metric switch
    {
        Metrics.Mae => s.MeanAbsoluteError,
        Metrics.R2 => s.RSquared,
        _ => s.RootMeanSquaredError,
    };

    private static MetricStatistics Pick(string metric, BinaryClassificationMetricsStatistics s) => metric switch
    {
        Metrics.Accuracy => s.Accuracy,
        Metrics.F1 => s.F1Score,
        _ => s.AreaUnderRocCurve,
    };

    private static MetricStatistics Pick(string metric, MulticlassClassificationMetricsStatistics s) => metric switch
    {
        Metrics.MicroAccuracy => s.MicroAccuracy,
        Metrics.LogLoss => s.LogLoss,
        _ => s.MacroAccuracy,
    };

    /// <summary>A change formatted for the card: signed, four significant digits.</summary>
    public static string Format(double value) => value.ToString("+0.####;-0.####;0", CultureInfo.InvariantCulture);
}
