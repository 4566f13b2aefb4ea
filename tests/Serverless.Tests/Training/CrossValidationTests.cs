using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Tests.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>Candidates of small data scored by k-fold cross-validation on train and validation, real ML.NET on real rows.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrossValidationTests(AzuriteFixture azurite)
{
    private sealed record Prepared(ModelTrainer Trainer, ExperimentRuns Runs, string Model, string Version, SplitRefs Split);

    private static readonly CandidateSpec SmallTrees = new("FastTree", new Dictionary<string, double> { ["numberOfIterations"] = 40 });

    private async Task<Prepared> PrepareAsync(int rows)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("cv");
        var outcome = await ingestion.IngestAsync($"{model}/taxi.csv", TestData.TaxiSlice(rows), new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression });
        var runs = new ExperimentRuns(ingestion.Storage);
        var trainer = new ModelTrainer(ingestion.Storage, ingestion.Datasets, runs, Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
        var split = await trainer.SplitAsync(model, outcome.DatasetVersion!, 42, null, CancellationToken.None);
        return new Prepared(trainer, runs, model, outcome.DatasetVersion!, split);
    }

    private static Task<CandidateResult> TrainAsync(Prepared p, string runId, CandidateSpec candidate, int folds) =>
        p.Trainer.TrainCandidateAsync(new CandidateInput(p.Model, p.Version, "cv", runId, candidate, p.Split, folds), CancellationToken.None);

    [Fact]
    public async Task TrainCandidate_WithFolds_ScoresTheMeanOfEachFoldOfTrainAndValidation()
    {
        var p = await PrepareAsync(600);

        var result = await TrainAsync(p, "c1", SmallTrees, 5);

        Assert.True(result.Succeeded, result.Error);
        var selection = Assert.IsType<SelectionMeasure>(result.Selection);
        Assert.Equal("cv5", selection.Set);
        Assert.Equal(5, selection.Folds!.Count);
        // The folds split train and validation: every row is held out once.
        Assert.Equal(p.Split.TrainRows + p.Split.ValidationRows, selection.Folds.Sum(f => f.Rows));
        Assert.Equal(selection.Rows, selection.Folds.Sum(f => f.Rows));
        Assert.All(selection.Folds, f => Assert.InRange(f.Rows, 1, selection.Rows / 2));
        Assert.Equal(selection.Folds.Average(f => f.Metrics["rmse"]), result.ValidationMetrics["rmse"], 12);
        Assert.True(selection.Folds.Select(f => f.Metrics["rmse"]).Distinct().Count() > 1, "each fold is scored on its own rows");
        Assert.True(selection.StandardDeviation!["rmse"] > 0);
    }

    [Fact]
    public async Task TrainCandidate_WithFolds_RecordsTheFoldsInTheExperimentRun()
    {
        var p = await PrepareAsync(600);

        var result = await TrainAsync(p, "c1", SmallTrees, 3);

        var run = await p.Runs.GetAsync(p.Model, "c1", CancellationToken.None);
        Assert.NotNull(run);
        Assert.Equal("cv3", run.Selection!.Set);
        Assert.Equal(result.Selection!.Folds!.Select(f => f.Metrics["rmse"]), run.Selection.Folds!.Select(f => f.Metrics["rmse"]));
        Assert.Equal(result.ValidationMetrics["rmse"], run.Metrics["rmse"]);
    }

    [Fact]
    public async Task TrainCandidate_WithoutFolds_ScoresOnValidation_AndSaysSo()
    {
        var p = await PrepareAsync(600);

        var result = await TrainAsync(p, "c1", SmallTrees, 0);

        var selection = result.Selection!;
        Assert.Equal((SelectionSets.Validation, p.Split.ValidationRows), (selection.Set, selection.Rows));
        // 90 validation rows are too few to cut into parts of 50.
        Assert.Null(selection.Folds);
        Assert.True(selection.ScoringCost > 0);
        Assert.Equal(SelectionSets.Validation, (await p.Runs.GetAsync(p.Model, "c1", CancellationToken.None))!.Selection!.Set);
    }

    /// <summary>
    /// On validation, each candidate is also scored on the split's consecutive parts: the same rows for every candidate,
    /// so the choice can pair them (<see cref="CandidateChoice"/>). The run records the parts and the scoring cost.
    /// </summary>
    [Fact]
    public async Task TrainCandidate_WithoutFolds_ScoresTheValidationSplitsParts_TheSameRowsForEveryCandidate()
    {
        var p = await PrepareAsync(3_000);

        var trees = await TrainAsync(p, "t", SmallTrees, 0);
        var linear = await TrainAsync(p, "l", new CandidateSpec("Sdca", new Dictionary<string, double>()), 0);

        var parts = trees.Selection!.Folds!;
        Assert.Equal(SelectionMeasure.PartsFor(p.Split.ValidationRows), parts.Count);
        Assert.InRange(parts.Count, 3, 10);
        Assert.Equal(p.Split.ValidationRows, parts.Sum(f => f.Rows));
        Assert.All(parts, f => Assert.True(f.Rows >= SelectionMeasure.MinRowsPerPart && double.IsFinite(f.Metrics["rmse"])));
        Assert.True(parts.Select(f => f.Metrics["rmse"]).Distinct().Count() > 1, "each part is scored on its own rows");
        // The whole split's rmse lies within the parts' range.
        Assert.InRange(trees.ValidationMetrics["rmse"], parts.Min(f => f.Metrics["rmse"]), parts.Max(f => f.Metrics["rmse"]));
        Assert.Equal(parts.Select(f => f.Rows), linear.Selection!.Folds!.Select(f => f.Rows));
        Assert.NotNull(CandidateChoice.Gap("rmse", linear, trees) ?? CandidateChoice.Gap("rmse", trees, linear));
        // 40 rounds of FastTree trees against one dot product.
        Assert.Equal(1.0, linear.Selection.ScoringCost);
        Assert.True(trees.Selection.ScoringCost > 40, $"{trees.Selection.ScoringCost}");
        var run = await p.Runs.GetAsync(p.Model, "t", CancellationToken.None);
        Assert.Equal((parts.Count, trees.Selection.ScoringCost), (run!.Selection!.Folds!.Count, run.Selection.ScoringCost));
    }

    /// <summary>The same dataset version, spec and seed give the same folds and the same fold scores, for every default trainer.</summary>
    [Theory]
    [InlineData("LightGbm")]
    [InlineData("FastTree")]
    [InlineData("FastForest")]
    [InlineData("Sdca")]
    [InlineData(Blend.Name)]
    public async Task TrainCandidate_WithFolds_SameDataSpecAndSeed_GivesTheSameFoldScores(string trainerName)
    {
        var p = await PrepareAsync(500);
        var candidate = new CandidateSpec(trainerName, new Dictionary<string, double>());

        var first = await TrainAsync(p, "r1", candidate, 5);
        var second = await TrainAsync(p, "r2", candidate, 5);

        Assert.True(first.Succeeded, first.Error);
        Assert.Equal(first.ValidationMetrics, second.ValidationMetrics);
        Assert.Equal(first.Selection!.Folds!.Select(f => (f.Rows, f.Metrics["rmse"])), second.Selection!.Folds!.Select(f => (f.Rows, f.Metrics["rmse"])));
    }

    /// <summary>Every candidate of a run is held out on the same folds: the fold sizes are a function of the data and seed alone.</summary>
    [Fact]
    public async Task TrainCandidate_WithFolds_EveryCandidateSeesTheSameFolds()
    {
        var p = await PrepareAsync(500);

        var trees = await TrainAsync(p, "t", SmallTrees, 5);
        var linear = await TrainAsync(p, "l", new CandidateSpec("Sdca", new Dictionary<string, double>()), 5);

        Assert.Equal(trees.Selection!.Folds!.Select(f => f.Rows), linear.Selection!.Folds!.Select(f => f.Rows));
        Assert.NotEqual(trees.ValidationMetrics["rmse"], linear.ValidationMetrics["rmse"]);
    }
}
