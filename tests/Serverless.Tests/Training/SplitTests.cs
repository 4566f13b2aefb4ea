using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Tests.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>The train / validation / test split of a dataset version: seeded, and time-ordered when the spec names a time column.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class SplitTests(AzuriteFixture azurite)
{
    private static readonly DateTime Day0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>400 rows, one a day, written in a shuffled order, so that file order says nothing about time.</summary>
    private static string ShuffledDays()
    {
        var random = new Random(7);
        var days = Enumerable.Range(0, 400).OrderBy(_ => random.Next()).ToList();
        var csv = new StringBuilder("when,x,y\n");
        foreach (var d in days) csv.Append(CultureInfo.InvariantCulture, $"{Day0.AddDays(d):yyyy-MM-dd},{d % 17},{d * 0.5 + 3}\n");
        return csv.ToString();
    }

    private async Task<(ModelTrainer Trainer, Ingestion Ingestion, string Model, string Version)> IngestAsync(ModelSpec spec, TrainingOptions? options = null)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("split");
        var outcome = await ingestion.IngestAsync($"{model}/days.csv", ShuffledDays(), spec);
        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        var trainer = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(options ?? new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
        return (trainer, ingestion, model, outcome.DatasetVersion!);
    }

    private static async Task<List<DateTime>> DaysAsync(Ingestion ingestion, string blob)
    {
        var text = (await ingestion.Storage.Datasets.GetBlobClient(blob).DownloadContentAsync()).Value.Content.ToString();
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => DateTime.Parse(line.Split(',')[0], CultureInfo.InvariantCulture))];
    }

    [Fact]
    public async Task SplitAsync_WithTimeColumn_OldestTrainNewestTest()
    {
        var (trainer, ingestion, model, version) = await IngestAsync(new ModelSpec { Label = "y", Task = TaskKind.Regression, TimeColumn = "when" });

        var split = await trainer.SplitAsync(model, version, 42, "when", CancellationToken.None);

        var train = await DaysAsync(ingestion, split.Train);
        var validation = await DaysAsync(ingestion, split.Validation);
        var test = await DaysAsync(ingestion, split.Test);
        Assert.Equal(400, train.Count + validation.Count + test.Count);
        Assert.InRange(test.Count, 50, 70);
        Assert.True(train.Max() < validation.Min(), $"train ends {train.Max():d}, validation starts {validation.Min():d}");
        Assert.True(validation.Max() < test.Min(), $"validation ends {validation.Max():d}, test starts {test.Min():d}");
        Assert.Equal("when", split.TimeColumn);
    }

    [Fact]
    public async Task SplitAsync_WithANumericTimeColumn_OrdersByValueNotByText()
    {
        // y grows with the day (3, 3.5, ... 202.5): as text, "100.5" would come before "3" and "99.5" after "202.5".
        var (trainer, ingestion, model, version) = await IngestAsync(new ModelSpec { Label = "x", Task = TaskKind.Regression, TimeColumn = "y" });

        var split = await trainer.SplitAsync(model, version, 42, "y", CancellationToken.None);

        async Task<List<double>> TimesAsync(string blob) =>
            [.. (await ingestion.Storage.Datasets.GetBlobClient(blob).DownloadContentAsync()).Value.Content.ToString()
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => double.Parse(line.Split(',')[2], CultureInfo.InvariantCulture))];
        var (train, validation, test) = (await TimesAsync(split.Train), await TimesAsync(split.Validation), await TimesAsync(split.Test));
        Assert.True(train.Max() < validation.Min(), $"train ends at {train.Max()}, validation starts at {validation.Min()}");
        Assert.True(validation.Max() < test.Min(), $"validation ends at {validation.Max()}, test starts at {test.Min()}");
        Assert.Equal(202.5, test.Max());
    }

    [Fact]
    public async Task SplitAsync_OfOneVersionByTwoTimeColumns_IsTwoSplits()
    {
        var (trainer, ingestion, model, version) = await IngestAsync(new ModelSpec { Label = "x", Task = TaskKind.Regression, TimeColumn = "y" });

        var byValue = await trainer.SplitAsync(model, version, 42, "y", CancellationToken.None);
        var byDay = await trainer.SplitAsync(model, version, 42, "when", CancellationToken.None);

        Assert.NotEqual(byValue.Test, byDay.Test);
        Assert.Equal("when", byDay.TimeColumn);
        Assert.InRange((await DaysAsync(ingestion, byDay.Test)).Min(), Day0.AddDays(330), Day0.AddDays(345));
    }

    [Fact]
    public async Task SplitAsync_WithoutTimeColumn_IsSeededAndDeterministic()
    {
        var (trainer, ingestion, model, version) = await IngestAsync(new ModelSpec { Label = "y", Task = TaskKind.Regression });

        var first = await trainer.SplitAsync(model, version, 42, null, CancellationToken.None);
        var other = await trainer.SplitAsync(model, version, 43, null, CancellationToken.None);

        var test42 = await DaysAsync(ingestion, first.Test);
        var test43 = await DaysAsync(ingestion, other.Test);
        Assert.Equal(400, first.TrainRows + first.ValidationRows + first.TestRows);
        Assert.NotEqual(test42, test43);
        // Shuffled over time: the test part of a random split spans most of the year, unlike the time-ordered one.
        Assert.True((test42.Max() - test42.Min()).TotalDays > 300);
        // The same content under another model is split afresh (no cached split), and lands the same way.
        var (trainer2, ingestion2, model2, version2) = await IngestAsync(new ModelSpec { Label = "y", Task = TaskKind.Regression });
        var again = await trainer2.SplitAsync(model2, version2, 42, null, CancellationToken.None);
        Assert.Equal(test42, await DaysAsync(ingestion2, again.Test));
    }

    [Fact]
    public async Task SplitAsync_HonoursTheConfiguredFractions_AndRecordsThem()
    {
        var options = new TrainingOptions { ValidationFraction = 0.25, TestFraction = 0.25 };
        var (trainer, ingestion, model, version) = await IngestAsync(new ModelSpec { Label = "y", Task = TaskKind.Regression, TimeColumn = "when" }, options);

        var byTime = await trainer.SplitAsync(model, version, 42, "when", CancellationToken.None);
        var seeded = await trainer.SplitAsync(model, version, 42, null, CancellationToken.None);

        Assert.Equal((200L, 100L, 100L), (byTime.TrainRows, byTime.ValidationRows, byTime.TestRows));
        Assert.Equal((0.25, 0.25), (byTime.ValidationFraction, byTime.TestFraction));
        Assert.InRange(seeded.TrainRows, 160, 240);
        Assert.InRange(seeded.TestRows, 70, 130);
        // The default split of the same version is another split, not the cached one.
        var defaults = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
        var usual = await defaults.SplitAsync(model, version, 42, "when", CancellationToken.None);
        Assert.NotEqual(byTime.Train, usual.Train);
        Assert.Equal(280L, usual.TrainRows);
    }

    [Theory]
    [InlineData(0.0, 0.15)]
    [InlineData(0.5, 0.5)]
    [InlineData(0.15, 1.2)]
    public async Task SplitAsync_ImpossibleFractions_AreRefusedNamingTheSetting(double validation, double test)
    {
        var (trainer, _, model, version) = await IngestAsync(new ModelSpec { Label = "y", Task = TaskKind.Regression },
            new TrainingOptions { ValidationFraction = validation, TestFraction = test });

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => trainer.SplitAsync(model, version, 42, null, CancellationToken.None));

        Assert.Contains("Pipeline:Training:ValidationFraction", e.Message);
    }

    /// <summary>The same dataset version, spec and seed train the same model: equal validation metrics, run after run.</summary>
    [Theory]
    [InlineData("FastTree")]
    [InlineData("LightGbm")]
    [InlineData("FastForest")]
    [InlineData("Sdca")]
    public async Task TrainCandidate_SameDataSpecAndSeed_GivesTheSameMetrics(string trainerName)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("repeat");
        var outcome = await ingestion.IngestAsync($"{model}/taxi.csv", TestData.TaxiSlice(3000), new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression });
        var version = outcome.DatasetVersion!;
        var trainer = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
        var split = await trainer.SplitAsync(model, version, 42, null, CancellationToken.None);
        var candidate = new CandidateSpec(trainerName, new Dictionary<string, double>());

        var first = await trainer.TrainCandidateAsync(new CandidateInput(model, version, "repeat", "r1", candidate, split), CancellationToken.None);
        var second = await trainer.TrainCandidateAsync(new CandidateInput(model, version, "repeat", "r2", candidate, split), CancellationToken.None);

        Assert.True(first.Succeeded, first.Error);
        Assert.Equal(first.ValidationMetrics, second.ValidationMetrics);
    }
}
