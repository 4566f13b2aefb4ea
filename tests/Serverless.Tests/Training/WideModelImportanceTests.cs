using Microsoft.ML.Data;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Training;

/// <summary>
/// Feature importance of a model with more inputs than ML.NET's PFI is run on (a text column's n-grams): its data columns
/// are shuffled in the test rows instead, so the card ranks the columns rather than saying nothing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WideModelImportanceTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ModelWithATextColumn_OverThePfiInputLimit_ShufflesItsColumnsAndRanksDistanceFirst()
    {
        var trained = await TrainedCandidate.TrainAsync(azurite, "wide", "Sdca", "spend", TaskKind.Regression, ["email", "day"]);
        var folder = Directory.CreateTempSubdirectory("wide-pfi-");
        try
        {
            var inputs = ((VectorDataViewType)trained.Scored.Schema[FeaturePipeline.FeaturesColumn].Type).Size;
            Assert.True(inputs > ModelExplainer.MaxSlots, $"the note's n-grams make {inputs} inputs");

            var pfi = await ModelExplainer.ExplainModelAsync(trained.Ml, trained.Model, trained.TestCsv, folder.FullName, trained.Schema, "rmse", 42, CancellationToken.None);

            Assert.Null(pfi.NotComputed);
            Assert.True(pfi.ColumnsShuffled);
            // Spend grows by 3 a unit of distance (0.5 to 20), by 12 for members and by 4 a city; the note is "customer {i} wrote a note".
            Assert.Equal("distance", pfi.Features[0].Feature);
            Assert.Equal(["city", "distance", "member", "note"], pfi.Features.Select(f => f.Feature).Order(StringComparer.Ordinal).ToArray());
            Assert.True(pfi.Features[0].Change > 1, $"shuffling distance raises the rmse: {pfi.Features[0].Change}");
        }
        finally
        {
            folder.Delete(recursive: true);
            File.Delete(trained.TestCsv);
        }
    }
}
