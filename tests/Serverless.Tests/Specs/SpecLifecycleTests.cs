using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Specs;

/// <summary>
/// The spec as a versioned artifact: set over HTTP or dropped into the drop zone, checked in full first, kept with its
/// history outside the drop zone, and snapshotted into each dataset version. A spec that fails changes nothing.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SpecLifecycleTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string NewModel(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private static async Task<JsonObject> SpecAsync(TestHost host, string model) =>
        (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}/spec"))!;

    private static async Task<JsonObject> WaitForSpecVersionAsync(TestHost host, string model, int version)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var response = await host.Client.GetAsync($"/api/models/{model}/spec");
            if (response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonObject>())!["current"]?["version"]?.GetValue<int>() == version)
            {
                return await SpecAsync(host, model);
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"Spec version {version} of {model} did not come into force within {Timeout}.");
    }

    /// <summary>The dataset manifests of a model, once there are <paramref name="count"/> of them.</summary>
    private static async Task<List<string>> WaitForManifestsAsync(TestHost host, string model, int count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var names = new List<string>();
            await foreach (var blob in host.Storage.Datasets.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, model + "/", CancellationToken.None))
            {
                if (blob.Name.EndsWith("/manifest.json", StringComparison.Ordinal) && blob.Name.Split('/').Length == 3) names.Add(blob.Name);
            }
            if (names.Count >= count) return names;
            await Task.Delay(200);
        }
        throw new TimeoutException($"{model} did not get {count} dataset versions within {Timeout}.");
    }

    [Fact]
    public async Task PutSpec_ManyBadFields_Answers400NamingEveryOne_AndTheSpecInForceStays()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var model = NewModel("put");
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PutAsync($"/api/models/{model}/spec", Json("""{"label":"y","task":"regression"}"""))).StatusCode);

        var bad = await ProblemAsync(await host.Client.PutAsync($"/api/models/{model}/spec",
            Json("""{"lable":"y","metric":"accuracy","trainers":[{"name":"XGBoost"},{"name":"lightgbm"},{"name":"LightGbm","grid":{"numLeaves":[31]}}],"drift":{"retrainSchedule":"daily"}}""")),
            HttpStatusCode.BadRequest);

        var errors = bad["errors"]!.AsObject();
        Assert.Equal(["drift.retrainSchedule", "lable", "trainers[0].name", "trainers[1].name", "trainers[2].grid.numLeaves"], errors.Select(e => e.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("lable", bad["detail"]!.GetValue<string>());
        Assert.DoesNotContain("System.", bad.ToJsonString());
        var spec = await SpecAsync(host, model);
        Assert.Equal(1, spec["current"]!["version"]!.GetValue<int>());
        Assert.Equal("y", spec["current"]!["spec"]!["label"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_ShapeAndValueProblemsTogether_AreAllNamedInOneAnswer()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var bad = await ProblemAsync(await host.Client.PutAsync($"/api/models/{NewModel("both")}/spec",
            Json("""{"task":"regression","metric":"auc","seed":"x"}""")), HttpStatusCode.BadRequest);

        var errors = bad["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("seed"));
        Assert.True(errors.ContainsKey("metric"), "a value of the wrong kind is left out and the rest is still checked: one answer names every problem");
    }

    [Fact]
    public async Task GetSpec_AfterChanges_ReturnsTheSpecInForceAndItsHistory()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Api:AdminKeys:ann"] = "key-of-ann" });
        host.Client.DefaultRequestHeaders.Add("x-functions-key", "key-of-ann");
        var model = NewModel("history");
        var put = new HttpRequestMessage(HttpMethod.Put, $"/api/models/{model}/spec?reason=first%20cut") { Content = Json("""{"label":"y"}""") };
        await host.Client.SendAsync(put);
        await host.Client.PutAsync($"/api/models/{model}/spec", Json("""{"label":"y","task":"binary"}"""));
        await host.Client.PutAsync($"/api/models/{model}/spec", Json("""{ "task": "binary", "label": "y" }"""));

        var spec = await SpecAsync(host, model);

        Assert.Equal(2, spec["current"]!["version"]!.GetValue<int>());
        Assert.Equal("binary", spec["current"]!["spec"]!["task"]!.GetValue<string>());
        var history = spec["history"]!.AsArray();
        Assert.Equal([1, 2], history.Select(h => h!["version"]!.GetValue<int>()).ToArray());
        Assert.Equal(("ann", "first cut", "api"), (history[0]!["by"]!.GetValue<string>(), history[0]!["reason"]!.GetValue<string>(), history[0]!["source"]!.GetValue<string>()));
        // A version set without a reason says where it came from, as its audit record does.
        Assert.Equal("spec set from api", history[1]!["reason"]!.GetValue<string>());
        var audit = await new AuditLog(host.Storage).QueryAsync(new AuditQuery(model, AuditActions.SpecChanged), CancellationToken.None);
        Assert.Equal(2, audit.Records.Count);
        Assert.False(await host.Storage.Incoming.GetBlobClient(ModelSpecStore.BlobName(model)).ExistsAsync(), "the spec in force lives outside the drop zone");
    }

    [Fact]
    public async Task DroppedSpec_Invalid_IsQuarantinedWithItsReasons_AndThePreviousStaysInForce()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var model = NewModel("drop");
        await host.UploadAsync(model, "model.json", """{"label":"fare_amount","task":"regression"}""");
        await WaitForSpecVersionAsync(host, model, 1);

        await host.UploadAsync(model, "model.json", """{"lable":"fare_amount","trainers":[{"name":"XGBoost"}]}""");
        var quarantined = await host.WaitForBlobsAsync(host.Storage.Quarantine, model + "/", Timeout, "/summary.txt");

        var summary = (await host.Storage.Quarantine.GetBlobClient(quarantined.First(n => n.EndsWith("/summary.txt", StringComparison.Ordinal))).DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("lable: unknown key; did you mean 'label'?", summary);
        Assert.Contains("trainers[0].name: unknown trainer 'XGBoost'", summary);
        Assert.Contains("The spec in force is unchanged", summary);
        // A spec is read under its own name only: the advice names it, not "any name".
        Assert.EndsWith($"upload it again as incoming/{model}/model.json (a spec is read under that name only).", summary);
        var spec = await SpecAsync(host, model);
        Assert.Equal(1, spec["current"]!["version"]!.GetValue<int>());
        Assert.Equal("fare_amount", spec["current"]!["spec"]!["label"]!.GetValue<string>());
        Assert.Equal($"{host.Storage.Incoming.Name}/{model}/model.json", spec["current"]!["source"]!.GetValue<string>());
        var records = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}&action={AuditActions.Quarantine}"))!["records"]!.AsArray();
        Assert.Contains("did you mean 'label'", Assert.Single(records)!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_ColumnsAgainstTheLatestDataset_NamesTheMissingOnes_AndDatasetsKeepTheirSpec()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var model = NewModel("columns");
        await host.Client.PutAsync($"/api/models/{model}/spec", Json("""{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"}],"approval":"manual"}"""));
        await host.UploadAsync(model, "a.csv", TestData.TaxiSlice(200));
        var first = await host.WaitForBlobsAsync(host.Storage.Datasets, model + "/", Timeout, "/manifest.json");

        var bad = await ProblemAsync(await host.Client.PutAsync($"/api/models/{model}/spec",
            Json("""{"label":"fare","exclude":["vendor"],"sensitive":["payment_type"]}""")), HttpStatusCode.BadRequest);
        var good = await host.Client.PutAsync($"/api/models/{model}/spec", Json("""{"label":"fare_amount","task":"regression","sensitive":["payment_type"],"trainers":[{"name":"Sdca"}],"approval":"manual"}"""));
        await host.UploadAsync(model, "b.csv", TestData.TaxiSlice(300));
        var both = await WaitForManifestsAsync(host, model, 2);

        var errors = bad["errors"]!.AsObject();
        Assert.Contains("did you mean 'fare_amount'", errors["label"]![0]!.GetValue<string>());
        Assert.Contains("did you mean 'vendor_id'", errors["exclude[0]"]![0]!.GetValue<string>());
        Assert.False(errors.ContainsKey("sensitive[0]"));
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var snapshots = new List<int>();
        foreach (var name in both)
        {
            var manifest = JsonNode.Parse((await host.Storage.Datasets.GetBlobClient(name).DownloadContentAsync()).Value.Content.ToString())!;
            snapshots.Add(manifest["spec"]!["version"]!.GetValue<int>());
            Assert.Equal(64, manifest["spec"]!["sha256"]!.GetValue<string>().Length);
        }
        Assert.Equal([1, 2], snapshots.Order().ToArray());
        Assert.Single(first, n => n.EndsWith("/manifest.json", StringComparison.Ordinal));
    }
}
