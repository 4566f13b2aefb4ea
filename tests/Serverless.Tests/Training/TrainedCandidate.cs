using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.ML;
using Serverless.Core.Api;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Tests.Datasets;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;

namespace Serverless.Tests.Training;

/// <summary>
/// One candidate trained on the shop table as a run trains it (on the train split, scored on validation), read back from
/// its model.zip, with the test split downloaded to <see cref="TestCsv"/> (the caller deletes it) and the rows scored.
/// </summary>
public sealed record TrainedCandidate(CandidateResult Result, ITransformer Model, IDataView Scored, MLContext Ml, string TestCsv, DatasetSchema Schema)
{
    /// <summary>
    /// Ingests 400 rows of the shop table for <paramref name="label"/> (the other labels and <paramref name="exclude"/>
    /// left out), or the table <paramref name="csv"/> when given, splits them with seed 42 and trains
    /// <paramref name="candidate"/> on the train split, as a run does.
    /// </summary>
    public static async Task<(Ingestion Ingestion, string Model, string DatasetVersion, SplitRefs Split, CandidateResult Result)> FitAsync(
        AzuriteFixture azurite, string prefix, CandidateSpec candidate, string label, TaskKind task, IReadOnlyList<string> exclude, string? csv = null)
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel(prefix);
        var spec = new ModelSpec { Label = label, Task = task, Exclude = [.. exclude, .. new[] { "spend", "churn", "tier" }.Where(c => csv is null && c != label)] };
        var outcome = await ingestion.IngestAsync($"{model}/shop.csv", Encoding.UTF8.GetBytes(csv ?? ShopData.Csv(400)), spec);
        var trainerService = new ModelTrainer(ingestion.Storage, ingestion.Datasets, new ExperimentRuns(ingestion.Storage),
            Options.Create(new TrainingOptions()), NullLogger<ModelTrainer>.Instance);
        var split = await trainerService.SplitAsync(model, outcome.DatasetVersion!, 42, null, CancellationToken.None);
        var result = await trainerService.TrainCandidateAsync(new CandidateInput(model, outcome.DatasetVersion!, prefix, "r1", candidate, split), CancellationToken.None);
        return (ingestion, model, outcome.DatasetVersion!, split, result);
    }

    /// <summary>Trains <paramref name="trainer"/> with its defaults (<see cref="FitAsync"/>) and reads the model back and scores the test split.</summary>
    public static async Task<TrainedCandidate> TrainAsync(AzuriteFixture azurite, string prefix, string trainer, string label, TaskKind task, IReadOnlyList<string> exclude, string? csv = null)
    {
        var (ingestion, model, version, split, result) = await FitAsync(azurite, prefix, new CandidateSpec(trainer, new Dictionary<string, double>()), label, task, exclude, csv);
        Assert.True(result.Succeeded, result.Error);

        var schema = (await ingestion.Datasets.GetManifestAsync(model, version, CancellationToken.None))!.Schema;
        var ml = FeaturePipeline.Context(1);
        ITransformer loaded;
        using (var zip = new MemoryStream((await ingestion.Storage.Models.GetBlobClient(result.ModelBlob!).DownloadContentAsync()).Value.Content.ToArray()))
        {
            loaded = ml.Model.Load(zip, out _);
        }
        var test = Path.Combine(Path.GetTempPath(), $"{prefix}-test-{Guid.NewGuid():N}.csv");
        await ingestion.Storage.Datasets.GetBlobClient(split.Test).DownloadToAsync(test);
        var data = FeaturePipeline.Loader(ml, schema).Load(test);
        var scored = ml.Data.Cache(loaded.Transform(FeaturePipeline.FitLabel(ml, schema, data).Transform(data)));
        return new TrainedCandidate(result, loaded, scored, ml, test, schema);
    }
}
