using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>A binary model on a text feature (FeaturizeText), from a headerless tab-separated file to served predictions.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TextModelTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task UploadYelpReviews_TrainsATextClassifier_ThatServesLabelsWithProbabilities()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("yelp", "model.json", """{"task":"binary","trainers":[{"name":"Sdca"},{"name":"FastTree"}]}""");
        await using (var file = File.OpenRead(RepositoryPaths.Dataset("sentiment", "yelp_labelled.txt")))
        {
            await host.UploadAsync("yelp", "yelp_labelled.txt", file);
        }

        var model = await host.WaitForModelAsync("yelp", m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(4));

        var version = model["versions"]!.AsArray().Single()!;
        Assert.Equal("auc", version["primaryMetric"]!.GetValue<string>());
        Assert.True(version["testMetrics"]!["auc"]!.GetValue<double>() > 0.7, version.ToJsonString());
        var predict = await host.Client.PostAsync("/api/models/yelp/predict", new StringContent(
            """{"rows":[{"column1":"The food was wonderful and the staff were so friendly."},{"column1":"Terrible service, cold food, never again."}]}""",
            Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        var predictions = (await predict.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray();
        Assert.Equal(2, predictions.Count);
        Assert.All(predictions, p =>
        {
            Assert.Contains(p!["label"]!.GetValue<string>(), new[] { "0", "1" });
            Assert.InRange(p["probability"]!.GetValue<double>(), 0.0, 1.0);
        });
    }
}
