using Microsoft.ML;
using Microsoft.ML.Data;
using System.Collections.Concurrent;
using System.Globalization;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

public sealed class TrainerCatalogTests
{
    private static ModelSpec Spec(string trainersJson) =>
        System.Text.Json.JsonSerializer.Deserialize<ModelSpec>($$"""{"trainers":{{trainersJson}}}""", Serverless.Core.Storage.JsonBlobs.Options)!;

    [Fact]
    public void Candidates_NoTrainersInSpec_AreTheDefaultsOnePerTrainer()
    {
        var candidates = TrainerCatalog.Candidates(new ModelSpec());

        Assert.Equal(["LightGbm", "FastTree", "FastForest", "Sdca"], candidates.Select(c => c.Trainer));
        Assert.All(candidates, c => Assert.Empty(c.Parameters));
    }

    [Fact]
    public void Candidates_Grid_IsTheCartesianProductPerTrainer()
    {
        var candidates = TrainerCatalog.Candidates(Spec(
            """[{"name":"LightGbm","grid":{"numberOfLeaves":[16,31],"learningRate":[0.1,0.05]}},{"name":"Sdca","grid":{"l2Regularization":[0.1,1,10]}}]"""));

        Assert.Equal(7, candidates.Count);
        var lightGbm = candidates.Where(c => c.Trainer == "LightGbm").Select(c => (c.Parameters["numberOfLeaves"], c.Parameters["learningRate"])).ToHashSet();
        Assert.Equal([(16.0, 0.05), (16.0, 0.1), (31.0, 0.05), (31.0, 0.1)], lightGbm.Order());
        Assert.Equal([0.1, 1, 10], candidates.Where(c => c.Trainer == "Sdca").Select(c => c.Parameters["l2Regularization"]));
    }

    [Fact]
    public void Candidates_UnknownTrainerOrParameter_Is400NamingEach()
    {
        var error = Assert.Throws<BadRequestException>(() => TrainerCatalog.Candidates(Spec(
            """[{"name":"Xgboost"},{"name":"FastForest","grid":{"learningRate":[0.1]}}]""")));

        Assert.Contains("Xgboost", error.Errors["trainers[0].name"][0]);
        Assert.Contains("learningRate", error.Errors["trainers[1].grid"][0]);
    }

    [Fact]
    public void Candidates_GridOverTheLimit_Is400()
    {
        var values = string.Join(",", Enumerable.Range(2, 9));
        var grid = "[{\"name\":\"FastTree\",\"grid\":{\"numberOfLeaves\":[" + values + "],\"numberOfIterations\":[" + values + "]}}]";
        var error = Assert.Throws<BadRequestException>(() => TrainerCatalog.Candidates(Spec(grid)));

        Assert.Contains("81 candidates", error.Message);
    }

    [Fact]
    public void SdcaRegression_OnAPlainLinearLabel_FitsIt_RatherThanDiverging()
    {
        // y = 2a + sin(3a) + noise on 400 rows: ML.NET's default unregularized bias step drove the weights to 5e8 or
        // to non-finite values on such rows; the linear fit's rmse is about that of what a line cannot follow (0.8).
        var random = new Random(5);
        var rows = new string[400];
        var labels = new double[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            double a = random.NextDouble() * 10, b = random.NextDouble();
            labels[i] = 2 * a + Math.Sin(3 * a) + random.NextDouble();
            rows[i] = string.Create(CultureInfo.InvariantCulture, $"{a:F3},{b:F3},{labels[i]:F3}");
        }

        AutoTuned(Schema("y", TaskKind.Regression), rows, out var scores);

        var rmse = Math.Sqrt(scores.Select((s, i) => (s - labels[i]) * (s - labels[i])).Average());
        Assert.InRange(rmse, 0.6, 1.0);
    }

    [Fact]
    public void Sdca_OnAFewRows_IsCappedAtMaxSdcaPasses_AndOnMoreRowsKeepsMLNetsOwnDefault()
    {
        // ML.NET's default would make 187,500 passes over 8 rows, a fixed cost each: minutes a fit where these rows do not converge.
        Assert.Equal(TrainerCatalog.MaxSdcaPasses, TrainerCatalog.SdcaPasses(8));
        Assert.Equal(TrainerCatalog.MaxSdcaPasses, TrainerCatalog.SdcaPasses(149));
        Assert.Null(TrainerCatalog.SdcaPasses(150));

        // What ML.NET does with it: it tunes the number of passes itself only when none is given, and says so in its log.
        var regression = Schema("y", TaskKind.Regression);
        Assert.DoesNotContain(AutoTuned(regression, Counts(8), out _), m => m.Contains("maxIterations", StringComparison.Ordinal));
        Assert.Contains(AutoTuned(regression, Counts(400), out _), m => m.Contains("maxIterations", StringComparison.Ordinal));
    }

    [Fact]
    public void Sdca_CappedClassifier_KeepsTheL2MLNetTunes_SoItAnswersAsMLNetsDefaultDoes()
    {
        // 100 iris rows: ML.NET's default is 15,000 passes and an L2 tuned from them; its best pass comes well before the cap.
        var rows = File.ReadLines(RepositoryPaths.Dataset("iris", "iris.data")).Where(l => l.Length > 0).Where((_, i) => i % 3 != 2).ToArray();
        Assert.Equal(100, rows.Length);
        Assert.Equal(TrainerCatalog.MaxSdcaPasses, TrainerCatalog.SdcaPasses(rows.Length));
        var iris = new DatasetSchema
        {
            Columns = [new("a", ColumnKind.Numeric), new("b", ColumnKind.Numeric), new("c", ColumnKind.Numeric), new("d", ColumnKind.Numeric), new("y", ColumnKind.Categorical)],
            Label = "y",
            Task = TaskKind.Multiclass,
            Classes = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"],
            Features = ["a", "b", "c", "d"],
        };

        // Given ML.NET's default number of passes, ML.NET tunes L2 itself: that is its default, passes and L2 alike.
        var messages = AutoTuned(iris, rows, out var mlNets, new Dictionary<string, double> { ["maximumNumberOfIterations"] = 15_000 });
        AutoTuned(iris, rows, out var capped);

        Assert.Contains(messages, m => m.Contains(string.Create(CultureInfo.InvariantCulture, $"L2 = {TrainerCatalog.SdcaClassifierL2(rows.Length)}."), StringComparison.Ordinal));
        Assert.Equal(mlNets, capped);
    }

    [Fact]
    public void SdcaRegression_FitOnFewerRowsThanItsRun_IsRegularizedAsTheRunsRefit()
    {
        // A fold of 5-fold cross-validation on 205 rows of train and validation holds 164: ML.NET alone regularizes it at
        // 0.01 (under 200 rows) and the refit on 205 at 0.001, so the folds would score another model than the one served.
        var schema = Schema("y", TaskKind.Regression);
        var fold = Counts(164);

        AutoTuned(schema, fold, out var asRun, runRows: 205);
        AutoTuned(schema, fold, out var atRefitL2, new Dictionary<string, double> { ["l2Regularization"] = 0.001 });
        AutoTuned(schema, fold, out var onItsOwnRows);

        Assert.Equal(atRefitL2, asRun);
        Assert.NotEqual(onItsOwnRows, asRun);
    }

    [Theory]
    [InlineData(150)]
    [InlineData(199)]
    [InlineData(200)]
    [InlineData(10_000)]
    [InlineData(10_001)]
    public void SdcaRegressionL2_IsTheL2MLNetTunesForTheRows(int rows)
    {
        var ml = new MLContext(1);
        var messages = new ConcurrentQueue<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("Auto-tuning parameters: L2", StringComparison.Ordinal)) messages.Enqueue(e.Message); };
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new VectorRow { Features = [i % 7, i % 3], Label = i % 5 }));

        ml.Regression.Trainers.Sdca(new Microsoft.ML.Trainers.SdcaRegressionTrainer.Options { MaximumNumberOfIterations = 1, NumberOfThreads = 1 }).Fit(data);

        Assert.EndsWith(string.Create(CultureInfo.InvariantCulture, $"Auto-tuning parameters: L2 = {TrainerCatalog.SdcaRegressionL2(rows)}."), Assert.Single(messages));
    }

    private sealed class VectorRow
    {
        [VectorType(2)]
        public float[] Features { get; set; } = [];
        public float Label { get; set; }
    }

    private static DatasetSchema Schema(string label, TaskKind task) => new()
    {
        Columns = [new("a", ColumnKind.Numeric), new("b", ColumnKind.Numeric), new(label, ColumnKind.Numeric)],
        Label = label,
        Task = task,
        Features = ["a", "b"],
    };

    /// <summary>Rows of counts in the hundreds with a label growing with them, as a small table of counts has.</summary>
    private static string[] Counts(int count) =>
        [.. Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{100 + 37 * i % 500},{i % 3},{300 * i + 100}"))];

    /// <summary>
    /// Fits an Sdca candidate on the rows (a headerless CSV in the schema's column order) as a run does; returns ML.NET's
    /// "Auto-tuning" log lines, and the model's scores of the same rows.
    /// </summary>
    private static List<string> AutoTuned(DatasetSchema schema, string[] rows, out float[] scores, Dictionary<string, double>? parameters = null, long? runRows = null)
    {
        var file = Path.Combine(Path.GetTempPath(), $"sdca-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(file, [string.Join(",", schema.Columns.Select(c => c.Name)), .. rows]);
        try
        {
            var ml = FeaturePipeline.Context(42);
            var messages = new ConcurrentQueue<string>();
            ml.Log += (_, e) => { if (e.Message.Contains("Auto-tuning", StringComparison.Ordinal)) messages.Enqueue(e.Message); };
            var data = FeaturePipeline.Loader(ml, schema).Load(file);
            var label = FeaturePipeline.FitLabel(ml, schema, data);
            var prepared = label.Transform(data);
            var model = TrainerCatalog.Estimator(ml, schema, null, new CandidateSpec("Sdca", parameters ?? []), 42, rows.Length, runRows).Fit(prepared);
            var scored = model.Transform(prepared);
            scores = schema.Task == TaskKind.Regression
                ? [.. scored.GetColumn<float>(Serverless.Core.Serving.ModelOutputs.ScoreColumn)]
                : [.. scored.GetColumn<float[]>(Serverless.Core.Serving.ModelOutputs.ScoreColumn).SelectMany(s => s)];
            return [.. messages];
        }
        finally
        {
            File.Delete(file);
        }
    }
}
