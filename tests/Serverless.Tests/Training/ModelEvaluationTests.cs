using System.Text.Json;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;

namespace Serverless.Tests.Training;

/// <summary>Log-loss has one unit, nats, whichever task and path (training's test metrics, live metrics) computes it.</summary>
public sealed class ModelEvaluationTests
{
    private static readonly DatasetSchema Binary = new()
    {
        Columns = [new ColumnSchema("x", ColumnKind.Numeric), new ColumnSchema("y", ColumnKind.Categorical)],
        Label = "y", Task = TaskKind.Binary, Features = ["x"], Classes = ["no", "yes"],
    };

    [Fact]
    public void BinaryLogLoss_IsInNats_AsScikitLearnReportsIt()
    {
        // (label, probability of "yes"): the log-loss is the mean of -ln(the probability given to the true class).
        (string Label, float Probability)[] rows = [("yes", 0.9f), ("no", 0.2f), ("no", 0.7f), ("yes", 0.4f), ("yes", 0.6f)];
        var expected = -rows.Average(r => Math.Log(r.Label == "yes" ? r.Probability : 1 - r.Probability));

        var answers = rows.Select(r => (
            new RowPrediction { Label = r.Probability > 0.5f ? "yes" : "no", Probability = r.Probability, Score = (float)Math.Log(r.Probability / (1 - r.Probability)) },
            JsonSerializer.SerializeToElement(r.Label))).ToList();
        var metrics = LiveMetrics.Compute(Binary, answers);

        Assert.Equal(expected, metrics["logLoss"], 5);
        Assert.Equal(0.6, metrics["accuracy"], 5);
    }

    [Fact]
    public void MulticlassLogLoss_IsInNats_TheSameUnitAsBinary()
    {
        var schema = Binary with { Task = TaskKind.Multiclass, Classes = ["a", "b", "c"] };
        ScoredClass[] rows =
        [
            new() { Label = 0, PredictedLabel = 0, Score = [0.7f, 0.2f, 0.1f] },
            new() { Label = 1, PredictedLabel = 1, Score = [0.1f, 0.6f, 0.3f] },
            new() { Label = 2, PredictedLabel = 1, Score = [0.2f, 0.5f, 0.3f] },
        ];
        var expected = -rows.Average(r => Math.Log(r.Score[r.Label]));

        var ml = FeaturePipeline.Context(0);
        var metrics = ModelEvaluation.Evaluate(ml, schema, ml.Data.LoadFromEnumerable(rows));

        Assert.Equal(expected, metrics["logLoss"], 5);
        Assert.Equal(2.0 / 3, metrics["microAccuracy"], 5);
    }

    [Theory]
    [InlineData(false, "yes")]
    [InlineData(true, "no")]
    public void Binary_RowsOfOneClassOnly_AreRefusedNamingTheClassTheyLack(bool label, string missing)
    {
        var rows = Enumerable.Range(0, 6).Select(i => new ScoredBinary { Label = label, Score = i - 3f, Probability = (i + 1) / 8f, PredictedLabel = i > 3 }).ToArray();
        var ml = FeaturePipeline.Context(0);

        var error = Assert.Throws<InvalidOperationException>(() => ModelEvaluation.Evaluate(ml, Binary, ml.Data.LoadFromEnumerable(rows)));

        Assert.StartsWith($"6 rows scored together hold no row of class '{missing}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"upload more rows of it", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A scored row as ML.NET's binary evaluator reads it.</summary>
    private sealed class ScoredBinary
    {
        public bool Label { get; set; }

        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }

    /// <summary>A scored row as ML.NET's multiclass evaluator reads it; a key field of a loaded class holds the class's index from 0.</summary>
    private sealed class ScoredClass
    {
        [KeyType(3)]
        public uint Label { get; set; }

        [KeyType(3)]
        public uint PredictedLabel { get; set; }

        [VectorType(3)]
        public float[] Score { get; set; } = [];
    }
}
