using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Core.Monitoring;

/// <summary>Live metrics of a model over the lookback window: per version that answered, and per shadow pairing.</summary>
public sealed record LiveMetricsReport(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<LiveVersionMetrics> Versions, IReadOnlyList<ShadowComparison> Shadow);

/// <summary>
/// One version's logged predictions in the window, how many got feedback, and its metrics on those (named as training
/// names them: rmse, mae, r2; auc, accuracy, f1, logLoss; microAccuracy, macroAccuracy; a metric the rows cannot give,
/// such as AUC over one class, is left out).
/// </summary>
public sealed record LiveVersionMetrics(string Version, long Predictions, long Labelled, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Production and its shadow (staging) on the same logged requests: how many rows both scored, how often they agree
/// (classifiers: the share of rows with the same label; regression: the mean and largest absolute difference of the
/// scores), and, on the rows with feedback, each one's metrics and the shadow's minus production's.
/// </summary>
public sealed record ShadowComparison(
    string Version,
    string ShadowVersion,
    long Rows,
    long Scored,
    double? Agreement,
    double? MeanAbsoluteDifference,
    double? MaxAbsoluteDifference,
    long Labelled,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, double> ShadowMetrics,
    IReadOnlyDictionary<string, double> Delta);

/// <summary>Joins a model's prediction log with its feedback into <see cref="LiveMetricsReport"/>, over <see cref="PredictionLogOptions.Lookback"/>.</summary>
public sealed class LiveMetrics(LabelledRowsReader rows, PredictionLogReader log, ModelRegistry registry, IOptions<PredictionLogOptions> options)
{
    public async Task<LiveMetricsReport> ComputeAsync(string model, CancellationToken ct)
    {
        var to = DateTimeOffset.UtcNow;
        var from = to - options.Value.Lookback;
        var labels = await rows.LabelsAsync(model, from, ct).ConfigureAwait(false);
        // Every logged row is counted by its version; only rows with feedback or a shadow answer are read whole.
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var labelled = new Dictionary<string, List<(RowPrediction Output, JsonElement Label)>>(StringComparer.Ordinal);
        var shadows = new Dictionary<(string Version, string Shadow), ShadowTally>();
        // The read reaches a minute past now, so that rows another host stamped by a clock a little ahead are counted too.
        await foreach (var entry in log.ReadCountedAsync(model, from, to.AddMinutes(1), (id, row) => labels.ContainsKey((id, row)), counts, ct).ConfigureAwait(false))
        {
            var feedback = labels.GetValueOrDefault((entry.RequestId, entry.Row)) is { } label && label.Labels(entry) ? label : null;
            if (feedback is not null)
            {
                if (!labelled.TryGetValue(entry.ModelVersion, out var list)) labelled[entry.ModelVersion] = list = [];
                list.Add((entry.Output, feedback.Label));
            }
            if (entry.ShadowVersion is { } shadowVersion)
            {
                var key = (entry.ModelVersion, shadowVersion);
                if (!shadows.TryGetValue(key, out var shadow)) shadows[key] = shadow = new ShadowTally();
                shadow.Add(entry, feedback);
            }
        }
        var manifests = new Dictionary<string, ModelManifest?>(StringComparer.Ordinal);
        async Task<ModelManifest?> Manifest(string version)
        {
            if (!manifests.TryGetValue(version, out var manifest)) manifests[version] = manifest = await registry.GetManifestAsync(model, version, ct).ConfigureAwait(false);
            return manifest;
        }
        var perVersion = new List<LiveVersionMetrics>();
        foreach (var (version, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var manifest = await Manifest(version).ConfigureAwait(false);
            var rowsWithLabels = labelled.GetValueOrDefault(version) ?? [];
            perVersion.Add(new LiveVersionMetrics(version, count, rowsWithLabels.Count, manifest is null ? Empty : Compute(manifest.Schema, rowsWithLabels)));
        }
        var comparisons = new List<ShadowComparison>();
        foreach (var ((version, shadowVersion), tally) in shadows.OrderBy(s => s.Key.Version, StringComparer.Ordinal))
        {
            var manifest = await Manifest(version).ConfigureAwait(false);
            var metrics = manifest is null ? Empty : Compute(manifest.Schema, tally.Labelled);
            var shadowMetrics = manifest is null ? Empty : Compute(manifest.Schema, tally.ShadowLabelled);
            var delta = metrics.Keys.Where(shadowMetrics.ContainsKey).ToDictionary(k => k, k => shadowMetrics[k] - metrics[k], StringComparer.Ordinal);
            comparisons.Add(new ShadowComparison(version, shadowVersion, tally.Rows, tally.Scored, tally.Agreement, tally.MeanAbsoluteDifference, tally.MaxAbsoluteDifference,
                tally.Labelled.Count, metrics, shadowMetrics, delta));
        }
        return new LiveMetricsReport(from, to, perVersion, comparisons);
    }

    private static readonly IReadOnlyDictionary<string, double> Empty = new Dictionary<string, double>();

    /// <summary>
    /// Metrics of answers against labels. Regression and binary go through ML.NET's evaluators (as training's test
    /// metrics do, <see cref="ModelEvaluation"/>); multiclass accuracies are counted here, since ML.NET's evaluator wants
    /// key-typed labels and score vectors the log does not hold.
    /// </summary>
    internal static IReadOnlyDictionary<string, double> Compute(DatasetSchema schema, IReadOnlyList<(RowPrediction Output, JsonElement Label)> rows)
    {
        if (rows.Count == 0) return Empty;
        var ml = FeaturePipeline.Context(0);
        switch (schema.Task)
        {
            case TaskKind.Regression:
            {
                var data = rows.Where(r => r.Output.Score is not null && r.Label.ValueKind == JsonValueKind.Number)
                    .Select(r => new RegressionRow { Label = (float)r.Label.GetDouble(), Score = r.Output.Score!.Value }).ToList();
                if (data.Count == 0) return Empty;
                return ModelEvaluation.Evaluate(ml, schema, ml.Data.LoadFromEnumerable(data));
            }
            case TaskKind.Binary:
            {
                var positive = schema.PositiveClass;
                var data = rows.Where(r => r.Output.Score is not null && r.Output.Label is not null && r.Label.ValueKind == JsonValueKind.String)
                    .Select(r => (Label: r.Label.GetString() == positive, Predicted: r.Output.Label == positive, Score: r.Output.Score!.Value, r.Output.Probability)).ToList();
                if (data.Count == 0) return Empty;
                var accuracy = data.Count(d => d.Label == d.Predicted) / (double)data.Count;
                // AUC and the other binary metrics need labels of both classes (ML.NET's evaluator refuses one); until the
                // feedback holds both, as after the first label, accuracy is what the rows give.
                if (data.TrueForAll(d => d.Label) || data.TrueForAll(d => !d.Label)) return new Dictionary<string, double> { [Training.Metrics.Accuracy] = accuracy };
                var view = data.TrueForAll(d => d.Probability is not null)
                    ? ml.Data.LoadFromEnumerable(data.Select(d => new CalibratedRow { Label = d.Label, PredictedLabel = d.Predicted, Score = d.Score, Probability = d.Probability!.Value }))
                    : ml.Data.LoadFromEnumerable(data.Select(d => new BinaryRow { Label = d.Label, PredictedLabel = d.Predicted, Score = d.Score }));
                var metrics = ModelEvaluation.Evaluate(ml, schema, view);
                metrics[Training.Metrics.Accuracy] = accuracy;
                return metrics;
            }
            default:
            {
                var data = rows.Where(r => r.Output.Label is not null && r.Label.ValueKind == JsonValueKind.String)
                    .Select(r => (Label: r.Label.GetString()!, Predicted: r.Output.Label!)).ToList();
                if (data.Count == 0) return Empty;
                var micro = data.Count(d => d.Label == d.Predicted) / (double)data.Count;
                var macro = data.GroupBy(d => d.Label).Average(g => g.Count(d => d.Predicted == d.Label) / (double)g.Count());
                return new Dictionary<string, double> { [Training.Metrics.MicroAccuracy] = micro, [Training.Metrics.MacroAccuracy] = macro };
            }
        }
    }

    private sealed class ShadowTally
    {
        public long Rows;
        public long Scored;
        private long _agreed;
        private long _classified;
        private long _scoredPairs;
        private double _absoluteDifference;
        private double _maxAbsoluteDifference;
        public readonly List<(RowPrediction Output, JsonElement Label)> Labelled = [];
        public readonly List<(RowPrediction Output, JsonElement Label)> ShadowLabelled = [];

        public void Add(PredictionLogEntry entry, FeedbackEntry? feedback)
        {
            Rows++;
            if (entry.ShadowOutput is not { } shadow) return;
            Scored++;
            if (entry.Output.Label is not null)
            {
                _classified++;
                if (entry.Output.Label == shadow.Label) _agreed++;
            }
            else if (entry.Output.Score is { } score && shadow.Score is { } shadowScore)
            {
                var difference = Math.Abs((double)score - shadowScore);
                _scoredPairs++;
                _absoluteDifference += difference;
                _maxAbsoluteDifference = Math.Max(_maxAbsoluteDifference, difference);
            }
            if (feedback is null) return;
            Labelled.Add((entry.Output, feedback.Label));
            ShadowLabelled.Add((shadow, feedback.Label));
        }

        public double? Agreement => _classified > 0 ? _agreed / (double)_classified : null;
        public double? MeanAbsoluteDifference => _scoredPairs > 0 ? _absoluteDifference / _scoredPairs : null;
        public double? MaxAbsoluteDifference => _scoredPairs > 0 ? _maxAbsoluteDifference : null;
    }

    private sealed class RegressionRow
    {
        public float Label { get; set; }
        public float Score { get; set; }
    }

    private sealed class BinaryRow
    {
        public bool Label { get; set; }
        public bool PredictedLabel { get; set; }
        public float Score { get; set; }
    }

    private sealed class CalibratedRow
    {
        public bool Label { get; set; }
        public bool PredictedLabel { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
    }
}
