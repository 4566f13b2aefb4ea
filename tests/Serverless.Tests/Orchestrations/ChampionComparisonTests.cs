using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Orchestrations;

/// <summary>Champion and challenger compared on the local host only on test rows neither was trained on.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ChampionComparisonTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);
    private const string Spec = """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""";

    private static async Task<string> LatestRunAsync(TestHost host, string model, ISet<string> known)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var names = await host.WaitForBlobsAsync(host.Storage.Datasets, model + "/", Timeout, "/manifest.json");
            var fresh = names.Where(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Select(n => n.Split('/')[1]).FirstOrDefault(v => !known.Contains(v));
            if (fresh is not null)
            {
                known.Add(fresh);
                return Serverless.Orchestrations.DropZone.TrainingInstanceId(model, fresh);
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"No new dataset version of {model} within {Timeout}.");
    }

    private static async Task<HashSet<string>> RowsAsync(TestHost host, string blob) =>
        [.. (await host.Storage.Datasets.GetBlobClient(blob).DownloadContentAsync()).Value.Content.ToString()
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)];

    [Fact]
    public async Task SecondUpload_ASubsetOfTheFirst_IsNotJudgedOnRowsTheChampionTrainedOn()
    {
        await using var host = await TestHost.StartAsync(azurite);
        const string model = "subset";
        var versions = new HashSet<string>();
        await host.UploadAsync(model, "model.json", Spec);
        var slice = TestData.TaxiSlice(1500).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await host.UploadAsync(model, "first.csv", string.Join('\n', slice) + "\n");
        var first = await host.WaitForRunAsync(await LatestRunAsync(host, model, versions), Ended, Timeout);
        Assert.Equal("promoted", first["output"]!["status"]!.GetValue<string>());

        // The same rows in another order, two in three of them: the split puts many of the champion's training rows in test.
        var random = new Random(5);
        var subset = slice.Skip(1).OrderBy(_ => random.Next()).Take(1000);
        await host.UploadAsync(model, "subset.csv", string.Join('\n', slice.Take(1).Concat(subset)) + "\n");
        var second = await host.WaitForRunAsync(await LatestRunAsync(host, model, versions), Ended, Timeout);

        Assert.Equal("Completed", second["runtimeStatus"]!.GetValue<string>());
        var view = await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}");
        var comparison = second["output"]!["status"]!.GetValue<string>() == "promoted"
            ? (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}/versions/v2"))!["manifest"]!["championComparison"]!
            : view!["championRetained"]!.AsArray().Single()!["comparison"]!;
        Assert.Equal("v1", comparison["championVersion"]!.GetValue<string>());
        Assert.Equal("test rows unseen by v1", comparison["measuredOn"]!["set"]!.GetValue<string>());
        Assert.True(comparison["excludedRows"]!.GetValue<long>() > 0, comparison.ToJsonString());

        var champion = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}/versions/v1"))!["manifest"]!;
        Assert.Equal("train+validation", champion["fit"]!["on"]!.GetValue<string>());
        var championSaw = await RowsAsync(host, champion["splits"]!["train"]!.GetValue<string>());
        championSaw.UnionWith(await RowsAsync(host, champion["splits"]!["validation"]!.GetValue<string>()));
        var judgedOn = await RowsAsync(host, comparison["measuredOn"]!["dataBlob"]!.GetValue<string>());
        Assert.NotEmpty(judgedOn);
        Assert.DoesNotContain(judgedOn, championSaw.Contains);
        Assert.Equal("test", view!["versions"]![0]!["measuredOn"]!["set"]!.GetValue<string>());
    }
}
