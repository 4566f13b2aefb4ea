using Microsoft.ML;
using System.Collections.Concurrent;
using System.Globalization;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;

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
    public void Sdca_OnAFewRows_IsCappedAtMaxSdcaPasses_AndOnMoreRowsKeepsMLNetsOwnDefault()
    {
        // ML.NET's default would make 187,500 passes over 8 rows, a fixed cost each: minutes a fit where these rows do not converge.
        Assert.Equal(TrainerCatalog.MaxSdcaPasses, TrainerCatalog.SdcaPasses(8));
        Assert.Null(TrainerCatalog.SdcaPasses(2_000));

        // What ML.NET does with it: it tunes the number of passes itself only when none is given, and says so in its log.
        Assert.DoesNotContain(AutoTuned(Rows(8)), m => m.Contains("maxIterations", StringComparison.Ordinal));
        Assert.Contains(AutoTuned(Rows(2_000)), m => m.Contains("maxIterations", StringComparison.Ordinal));
    }

    /// <summary>Rows of counts in the hundreds with a label growing with them, as a small table of counts has.</summary>
    private static string[] Rows(int count) =>
        [.. Enumerable.Range(0, count).Select(i => string.Create(CultureInfo.InvariantCulture, $"{100 + 37 * i % 500},{i % 3},{300 * i + 100}"))];

    /// <summary>Fits the default Sdca candidate on the rows as a run does, and returns ML.NET's "Auto-tuning" log lines.</summary>
    private static List<string> AutoTuned(string[] rows)
    {
        var file = Path.Combine(Path.GetTempPath(), $"sdca-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(file, ["a,b,y", .. rows]);
        try
        {
            var schema = new DatasetSchema
            {
                Columns = [new("a", ColumnKind.Numeric), new("b", ColumnKind.Numeric), new("y", ColumnKind.Numeric)],
                Label = "y",
                Task = TaskKind.Regression,
                Features = ["a", "b"],
            };
            var ml = FeaturePipeline.Context(42);
            var messages = new ConcurrentQueue<string>();
            ml.Log += (_, e) => { if (e.Message.Contains("Auto-tuning", StringComparison.Ordinal)) messages.Enqueue(e.Message); };
            var data = FeaturePipeline.Loader(ml, schema).Load(file);
            var label = FeaturePipeline.FitLabel(ml, schema, data);
            TrainerCatalog.Estimator(ml, schema, null, new CandidateSpec("Sdca", new Dictionary<string, double>()), 42, rows.Length).Fit(label.Transform(data));
            return [.. messages];
        }
        finally
        {
            File.Delete(file);
        }
    }
}
