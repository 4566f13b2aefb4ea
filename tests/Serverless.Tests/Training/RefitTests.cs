using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Tests.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>The winner refit on train and validation, and the rows of a test split a champion never saw.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RefitTests(AzuriteFixture azurite)
{
    private sealed record Prepared(ModelTrainer Trainer, Ingestion Ingestion, string Model, string Version, SplitRefs Split);

    private async Task<Prepared> PrepareAsync(int rows)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("refit");
        var outcome = await ingestion.IngestAsync($"{model}/taxi.csv", TestData.TaxiSlice(rows), new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression });
        var trainer = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
        var split = await trainer.SplitAsync(model, outcome.DatasetVersion!, 42, null, CancellationToken.None);
        return new Prepared(trainer, ingestion, model, outcome.DatasetVersion!, split);
    }

    private static RefitInput Refit(Prepared p, string runId, CandidateSpec candidate) => new(p.Model, p.Version, "refit", runId, candidate, p.Split);

    private static Task<EvaluationResult> TestScoreAsync(Prepared p, string modelBlob) =>
        p.Trainer.EvaluateAsync(new EvaluationInput(p.Model, modelBlob, p.Split.Test, p.Version, p.Split.Seed), CancellationToken.None);

    /// <summary>Retraining the same dataset version with the same spec and seed, refit included, gives the same test metrics.</summary>
    [Theory]
    [InlineData("LightGbm")]
    [InlineData("FastTree")]
    [InlineData("FastForest")]
    [InlineData("Sdca")]
    [InlineData(Blend.Name)]
    public async Task RefitAsync_SameDataSpecAndSeed_GivesTheSameTestMetrics(string trainerName)
    {
        var p = await PrepareAsync(2000);
        var candidate = new CandidateSpec(trainerName, new Dictionary<string, double>());

        var first = await p.Trainer.RefitAsync(Refit(p, "r1", candidate), CancellationToken.None);
        var second = await p.Trainer.RefitAsync(Refit(p, "r2", candidate), CancellationToken.None);

        Assert.NotEqual(first.ModelBlob, second.ModelBlob);
        Assert.Equal((await TestScoreAsync(p, first.ModelBlob)).Metrics, (await TestScoreAsync(p, second.ModelBlob)).Metrics);
    }

    /// <summary>Every default candidate, the sampled LightGbm included (its rounds draw rows and features at random), refits the same twice.</summary>
    [Fact]
    public async Task RefitAsync_DefaultCandidatesWithSampling_GiveTheSameTestMetricsTwice()
    {
        var p = await PrepareAsync(1500);
        var sampled = TrainerCatalog.Candidates(new ModelSpec(), DefaultCandidates.For(TaskKind.Regression, 1500, false))
            .Single(c => c.Parameters.ContainsKey("subsampleFraction"));

        var first = await p.Trainer.RefitAsync(Refit(p, "s1", sampled), CancellationToken.None);
        var second = await p.Trainer.RefitAsync(Refit(p, "s2", sampled), CancellationToken.None);

        Assert.Equal((await TestScoreAsync(p, first.ModelBlob)).Metrics, (await TestScoreAsync(p, second.ModelBlob)).Metrics);
    }

    [Fact]
    public async Task RefitAsync_FitsOnTrainAndValidation_AndKeepsTheHashOfEachRow()
    {
        var p = await PrepareAsync(1500);
        var candidate = new CandidateSpec("FastTree", new Dictionary<string, double>());

        var fit = await p.Trainer.RefitAsync(Refit(p, "r1", candidate), CancellationToken.None);
        var trainOnly = await p.Trainer.TrainCandidateAsync(new CandidateInput(p.Model, p.Version, "refit", "c1", candidate, p.Split), CancellationToken.None);

        Assert.Equal((FitSets.TrainAndValidation, p.Split.TrainRows + p.Split.ValidationRows), (fit.On, fit.Rows));
        var hashes = await RowHashes.TryReadAsync(p.Ingestion.Storage.Models.GetBlobClient(fit.RowHashesBlob!), CancellationToken.None);
        Assert.NotNull(hashes);
        // Duplicate rows share a hash; the taxi slice has a few.
        Assert.InRange(hashes.Count, fit.Rows - 20, fit.Rows);
        Assert.NotEqual((await TestScoreAsync(p, trainOnly.ModelBlob!)).Metrics, (await TestScoreAsync(p, fit.ModelBlob)).Metrics);
    }

    [Fact]
    public async Task PrepareComparisonAsync_LeavesOutEveryTestRowTheChampionWasFitOn()
    {
        var p = await PrepareAsync(1500);
        // A "champion" fit on the test split itself: every test row is one it saw, except none.
        var champion = await p.Trainer.RefitAsync(Refit(p, "champion", new CandidateSpec("Sdca", new Dictionary<string, double>())) with
        {
            Splits = p.Split with { Train = p.Split.Test, Validation = p.Split.Validation },
        }, CancellationToken.None);

        var set = await p.Trainer.PrepareComparisonAsync(new ComparisonInput(p.Model, p.Version, p.Split, "v1", champion.RowHashesBlob), CancellationToken.None);
        var unknown = await p.Trainer.PrepareComparisonAsync(new ComparisonInput(p.Model, p.Version, p.Split, "v0", null), CancellationToken.None);

        Assert.Equal((0L, p.Split.TestRows, true), (set.Rows, set.ExcludedRows, set.ChampionRowsKnown));
        Assert.Equal((p.Split.TestRows, 0L, false, p.Split.Test), (unknown.Rows, unknown.ExcludedRows, unknown.ChampionRowsKnown, unknown.DataBlob));
    }
}
