using Serverless.Core.Api;
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
}
