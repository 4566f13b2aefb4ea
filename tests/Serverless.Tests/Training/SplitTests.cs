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

    private async Task<(ModelTrainer Trainer, Ingestion Ingestion, string Model, string Version)> IngestAsync(ModelSpec spec)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("split");
        var outcome = await ingestion.IngestAsync($"{model}/days.csv", ShuffledDays(), spec);
        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        var trainer = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
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
}
