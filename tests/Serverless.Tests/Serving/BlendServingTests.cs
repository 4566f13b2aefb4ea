using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Serving;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Serving;

/// <summary>
/// A blend trained by a whole run (cross-validated, refit, registered, promoted) and served: predict answers what ML.NET's
/// transform of the registered model gives the same rows, and the version's card has its feature importance.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlendServingTests(ShopBlendModel shop) : IClassFixture<ShopBlendModel>
{
    private static readonly (string Json, string Csv)[] Rows =
    [
        ("""{"distance":3,"member":false,"city":"west"}""", "3,false,west"),
        ("""{"distance":12.5,"member":true,"city":"north"}""", "12.5,true,north"),
        ("""{"distance":7,"member":false,"city":"south"}""", "7,false,south"),
        ("""{"distance":1,"member":true,"city":"east"}""", "1,true,east"),
    ];

    [Fact]
    public async Task Predict_Blend_AnswersTheRegisteredModelsMeanProbability()
    {
        var (manifest, bytes) = await shop.Registry.LoadVerifiedAsync(ShopData.ChurnBlend, "v1", CancellationToken.None);
        Assert.Equal(Blend.Name, manifest.Candidate.Trainer);
        var ml = FeaturePipeline.Context(1);
        var model = ml.Model.Load(new MemoryStream(bytes), out _);
        var header = string.Join(',', manifest.Schema.Features);
        var path = Path.Combine(Path.GetTempPath(), $"blend-parity-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, header + "\n" + string.Join("\n", Rows.Select(r => r.Csv)) + "\n");
        float[] expected;
        try
        {
            var features = ml.Data.CreateTextLoader(new TextLoader.Options
            {
                HasHeader = true, Separators = [','],
                Columns = [.. manifest.Schema.Features.Select((f, i) => new TextLoader.Column(f, FeaturePipeline.KindOf(manifest.Schema.Column(f).Kind), i))],
            }).Load(path);
            expected = [.. model.Transform(features).GetColumn<float>(ModelOutputs.ProbabilityColumn)];
        }
        finally
        {
            File.Delete(path);
        }

        var answer = await PredictAsync(shop.Host, ShopData.ChurnBlend, $"{{\"rows\":[{string.Join(',', Rows.Select(r => r.Json))}]}}");

        var served = answer["predictions"]!.AsArray().Select(p => p!["probability"]!.GetValue<double>()).ToArray();
        Assert.Equal(expected.Length, served.Length);
        for (var i = 0; i < served.Length; i++) Assert.Equal(expected[i], served[i], tolerance: 1e-5);
        // A non-member in the west leaves (churn follows membership and city): its probability of staying is low.
        Assert.Equal("leave", answer["predictions"]![0]!["label"]!.GetValue<string>());
        Assert.True(served[0] < 0.5 && served[1] > 0.5, string.Join(", ", served));
    }

    [Fact]
    public async Task Version_Blend_HasItsScoringCostAndFeatureImportance()
    {
        var manifest = (await shop.Registry.GetManifestAsync(ShopData.ChurnBlend, "v1", CancellationToken.None))!;

        Assert.Equal(Blend.Name, manifest.Candidate.Trainer);
        Assert.True(manifest.Selection?.ScoringCost > 100, $"six members' trees: {manifest.Selection?.ScoringCost}");
        var pfi = manifest.FeatureImportance!;
        Assert.Null(pfi.NotComputed);
        Assert.Equal(["city", "distance", "member"], pfi.Features.Select(f => f.Feature).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("distance", pfi.Features[^1].Feature);
        Assert.True(pfi.Features[0].Change < 0, "shuffling the most important column lowers the AUC");
        var card = await shop.Host.Client.GetStringAsync($"/api/models/{ShopData.ChurnBlend}/versions/v1/card.md");
        Assert.Contains($"the mean of the answers of: {string.Join("; ", Blend.Members())}", card, StringComparison.Ordinal);
        Assert.True(pfi.ColumnsShuffled);
        Assert.Contains("each feature column shuffled in the test rows and the whole model scored", card, StringComparison.Ordinal);
        Assert.Contains($"| rank | feature | change of auc | ± std. error |\n", card, StringComparison.Ordinal);
        Assert.DoesNotContain("ML.NET PFI", card, StringComparison.Ordinal);
    }
}
