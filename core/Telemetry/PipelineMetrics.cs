using System.Diagnostics;
using System.Diagnostics.Metrics;
using Tags = Serverless.Core.Telemetry.PipelineTelemetry.Tags;

namespace Serverless.Core.Telemetry;

/// <summary>
/// The pipeline's metrics, on the <see cref="PipelineTelemetry.Meter"/>. Each instrument has one public method that
/// records it, so every caller tags it the same way; other code (the drift check, for one) calls these.
/// </summary>
public static class PipelineMetrics
{
    /// <summary>Instrument names.</summary>
    public static class Names
    {
        public const string Predictions = "mlops.predictions";
        public const string PredictionDuration = "mlops.prediction.duration";
        public const string DriftChecks = "mlops.drift.checks";
        public const string QuarantinedFiles = "mlops.ingestion.quarantined";
        public const string TrainingDuration = "mlops.training.duration";
    }

    // Seconds: from a pooled single-row score (well under a millisecond) to a large batch.
    private static readonly IReadOnlyList<double> PredictionBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    // Seconds: from a linear trainer on a small slice to an hour-long run.
    private static readonly IReadOnlyList<double> TrainingBuckets = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private static readonly Counter<long> Predictions = PipelineTelemetry.Meter.CreateCounter<long>(
        Names.Predictions, "{row}", "Rows predicted, per model and version.");

    private static readonly Histogram<double> PredictionDuration = PipelineTelemetry.Meter.CreateHistogram(
        Names.PredictionDuration, "s", "Time to score one predict request (all its rows), per model and version.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = PredictionBuckets });

    private static readonly Counter<long> DriftChecks = PipelineTelemetry.Meter.CreateCounter<long>(
        Names.DriftChecks, "{check}", "Drift checks run, per model, version and whether drift was found.");

    private static readonly Counter<long> QuarantinedFiles = PipelineTelemetry.Meter.CreateCounter<long>(
        Names.QuarantinedFiles, "{file}", "Uploaded files quarantined, per model and reason code.");

    private static readonly Histogram<double> TrainingDuration = PipelineTelemetry.Meter.CreateHistogram(
        Names.TrainingDuration, "s", "Time to train one candidate, per model, trainer and outcome.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = TrainingBuckets });

    /// <summary>One predict request answered by <paramref name="modelVersion"/>: its rows and how long scoring took.</summary>
    public static void RecordPrediction(string model, string modelVersion, int rows, TimeSpan duration)
    {
        var tags = new TagList { { Tags.Model, model }, { Tags.ModelVersion, modelVersion } };
        Predictions.Add(rows, tags);
        PredictionDuration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>
    /// One drift check of <paramref name="model"/> (compared against the training data of <paramref name="modelVersion"/>,
    /// when known): call once per check, whether it found drift or not.
    /// </summary>
    public static void RecordDriftCheck(string model, string? modelVersion, bool drifted)
    {
        var tags = new TagList { { Tags.Model, model }, { Tags.Drifted, drifted } };
        if (modelVersion is not null) tags.Add(Tags.ModelVersion, modelVersion);
        DriftChecks.Add(1, tags);
    }

    /// <summary>One uploaded file kept in quarantine, with the reason code of its report.</summary>
    public static void RecordQuarantined(string model, string reason) =>
        QuarantinedFiles.Add(1, new TagList { { Tags.Model, model }, { Tags.Reason, reason } });

    /// <summary>One candidate trained (or failed) in <paramref name="duration"/>.</summary>
    public static void RecordTraining(string model, string trainer, bool succeeded, TimeSpan duration) =>
        TrainingDuration.Record(duration.TotalSeconds, new TagList
        {
            { Tags.Model, model }, { Tags.Trainer, trainer }, { Tags.Outcome, succeeded ? "succeeded" : "failed" },
        });
}
