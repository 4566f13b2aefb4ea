using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Api;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>
/// The blend candidate, trained as a run trains it (on the train split, scored on validation) on the shop table: one saved
/// ML.NET chain whose answer is the mean of its six members' answers, read back from its model.zip; its scoring cost the
/// sum of its members'; its feature importance measured by shuffling the data's columns.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlendTests(AzuriteFixture azurite)
{
    private Task<TrainedCandidate> TrainAsync(string label, TaskKind task) =>
        TrainedCandidate.TrainAsync(azurite, "blend", Blend.Name, label, task, ["note", "email", "day"]);

    private static float[][] Members(IDataView scored) =>
        [.. Enumerable.Range(0, Blend.Members().Count).Select(i => scored.GetColumn<float>(Blend.MemberColumn(i)).ToArray())];

    [Fact]
    public async Task Regression_AnswersTheMeanOfItsSixMembers_FromItsSavedModel()
    {
        var trained = await TrainAsync("spend", TaskKind.Regression);
        var members = Members(trained.Scored);
        var scores = trained.Scored.GetColumn<float>(ModelOutputs.ScoreColumn).ToArray();

        Assert.Equal(6, members.Length);
        for (var row = 0; row < scores.Length; row++)
        {
            // The blend averages in single precision: equal to a few units of the last of its 7 significant digits.
            var mean = members.Average(m => m[row]);
            Assert.Equal(mean, scores[row], 1e-5 * Math.Max(1, Math.Abs(mean)));
        }
        // The members are different models: their answers to the same rows differ.
        Assert.True(members.Select(m => m[0]).Distinct().Count() > 3, string.Join(", ", members.Select(m => m[0])));
        Assert.InRange(trained.Result.ValidationMetrics["r2"], 0.9, 1.0);
        File.Delete(trained.TestCsv);
    }

    [Fact]
    public async Task Binary_AveragesProbabilities_ScoreIsTheirLogOdds_LabelAtOneHalf()
    {
        var trained = await TrainAsync("churn", TaskKind.Binary);
        var members = Members(trained.Scored);
        var probability = trained.Scored.GetColumn<float>(ModelOutputs.ProbabilityColumn).ToArray();
        var score = trained.Scored.GetColumn<float>(ModelOutputs.ScoreColumn).ToArray();
        var label = trained.Scored.GetColumn<bool>(ModelOutputs.PredictedLabelColumn).ToArray();

        for (var row = 0; row < probability.Length; row++)
        {
            Assert.Equal(members.Average(m => m[row]), probability[row], 3);
            Assert.Equal(Math.Log(Math.Max(probability[row], 1e-6) / Math.Max(1 - probability[row], 1e-6)), score[row], 2);
            Assert.Equal(probability[row] > 0.5, label[row]);
        }
        Assert.InRange(trained.Result.ValidationMetrics["logLoss"], 0, Math.Log(2));
        Assert.InRange(trained.Result.ValidationMetrics["auc"], 0.8, 1.0);
        File.Delete(trained.TestCsv);
    }

    [Fact]
    public async Task ScoringCost_IsTheSumOfItsMembers_AndFeatureImportanceShufflesColumns()
    {
        var trained = await TrainAsync("spend", TaskKind.Regression);
        var predictors = ModelChain.Predictors(trained.Model).ToList();

        Assert.Equal(6, predictors.Count);
        Assert.True(ModelChain.IsBlend(trained.Model));
        Assert.Null(ModelChain.Split(trained.Model));
        Assert.Equal(predictors.Sum(p => ScoringCost.Of(p)!.Value), trained.Result.Selection!.ScoringCost!.Value, 6);

        var folder = Directory.CreateTempSubdirectory("blend-pfi-");
        try
        {
            var pfi = await ModelExplainer.ExplainModelAsync(trained.Ml, trained.Model, trained.TestCsv, folder.FullName, trained.Schema, "rmse", 42, CancellationToken.None);

            // Spend grows by 3 a unit of distance (0.5 to 20), by 12 for members and by 4 a city: distance first.
            Assert.Equal("distance", pfi.Features[0].Feature);
            Assert.Equal(["city", "distance", "member"], pfi.Features.Select(f => f.Feature).Order(StringComparer.Ordinal).ToArray());
            Assert.True(pfi.Features[0].Change > 1, $"shuffling distance raises the rmse: {pfi.Features[0].Change}");
            Assert.Equal(ModelExplainer.Permutations, pfi.Permutations);
            Assert.True(pfi.ColumnsShuffled);
        }
        finally
        {
            folder.Delete(recursive: true);
            File.Delete(trained.TestCsv);
        }
    }

    [Fact]
    public void Estimator_Multiclass_IsRefusedInWords()
    {
        var schema = new Core.Datasets.DatasetSchema
        {
            Columns = [new("x", ColumnKind.Numeric), new("y", ColumnKind.Categorical)],
            Label = "y",
            Task = TaskKind.Multiclass,
            Features = ["x"],
        };

        var error = Assert.Throws<BadRequestException>(() => TrainerCatalog.Estimator(FeaturePipeline.Context(1), schema, null, new CandidateSpec(Blend.Name, new Dictionary<string, double>()), 1, rows: 100));
        Assert.Contains("cannot be blended", error.Message);
    }
}
