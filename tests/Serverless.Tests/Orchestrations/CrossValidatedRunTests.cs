using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Orchestrations;

/// <summary>
/// A whole run on the local host with the default settings: small data is chosen by cross-validation, and the run's
/// records (experiment runs, manifest, version list, model card) say how each metric was measured.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrossValidatedRunTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private const string Spec = """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"},{"name":"FastTree","grid":{"numberOfIterations":[40]}}]}""";

    private static async Task<JsonObject> RunAsync(TestHost host, string model, int rows)
    {
        await host.UploadAsync(model, "model.json", Spec);
        await host.UploadAsync(model, "data.csv", TestData.TaxiSlice(rows));
        var datasets = await host.WaitForBlobsAsync(host.Storage.Datasets, model + "/", Timeout, "/manifest.json");
        var id = Serverless.Orchestrations.DropZone.TrainingInstanceId(model, datasets.First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Split('/')[1]);
        return await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
    }

    private static async Task<JsonObject> TrainAsync(TestHost host, string model, int rows)
    {
        var done = await RunAsync(host, model, rows);
        Assert.Equal("promoted", done["output"]?["status"]?.GetValue<string>());
        return done;
    }

    [Fact]
    public async Task SmallData_ByDefault_IsChosenByFiveFoldCrossValidation_AndEveryRecordSaysSo()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var done = await TrainAsync(host, "small", 400);

        Assert.All(done["output"]!["candidates"]!.AsArray(), c => Assert.Equal("cv5", c!["selection"]!["set"]!.GetValue<string>()));
        var runs = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/small/runs"))!["runs"]!.AsArray();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, r => Assert.Equal(5, r!["selection"]!["folds"]!.AsArray().Count));
        var version = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/small/versions/v1"))!;
        var selection = version["manifest"]!["selection"]!;
        Assert.Equal("cv5", selection["set"]!.GetValue<string>());
        var folds = selection["folds"]!.AsArray();
        Assert.Equal(selection["rows"]!.GetValue<long>(), folds.Sum(f => f!["rows"]!.GetValue<long>()));
        Assert.Equal(folds.Average(f => f!["metrics"]!["rmse"]!.GetValue<double>()), version["manifest"]!["validationMetrics"]!["rmse"]!.GetValue<double>(), 3);
        Assert.Contains("5-fold cross-validation", version["card"]!.GetValue<string>());
        var listed = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/small"))!["versions"]![0]!;
        Assert.Equal("cv5", listed["selection"]!["set"]!.GetValue<string>());
        // Which run became the version, both ways: the version names its run, and of the runs only that one names a version.
        var winner = version["manifest"]!["runId"]!.GetValue<string>();
        Assert.Equal(winner, listed["runId"]!.GetValue<string>());
        Assert.Equal([(winner, "v1")], runs.Where(r => r!["version"] is not null).Select(r => (r!["runId"]!.GetValue<string>(), r["version"]!.GetValue<string>())));
        Assert.Null(listed["selection"]!["folds"]);
        Assert.Equal("test", listed["measuredOn"]!["set"]!.GetValue<string>());
    }

    [Fact]
    public async Task DataAboveTheRowLimit_IsChosenOnValidation_AndTheVersionListSaysSo()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Training:CrossValidationMaxRows"] = "200" });

        // 1,200 rows: about 180 validation rows, cut into three parts of at least 50 for the paired comparison.
        var done = await TrainAsync(host, "large", 1_200);

        Assert.All(done["output"]!["candidates"]!.AsArray(), c => Assert.Equal("validation", c!["selection"]!["set"]!.GetValue<string>()));
        Assert.All(done["output"]!["candidates"]!.AsArray(), c => Assert.Equal(3, c!["selection"]!["folds"]!.AsArray().Count));
        var listed = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/large"))!["versions"]![0]!;
        Assert.Equal("validation", listed["selection"]!["set"]!.GetValue<string>());
        var version = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/large/versions/v1"))!;
        var manifest = version["manifest"]!;
        Assert.Equal(manifest["splits"]!["validationRows"]!.GetValue<long>(), manifest["selection"]!["rows"]!.GetValue<long>());
        // The card says the winner was chosen on validation (its parts' spread beside it), not by cross-validation.
        var card = version["card"]!.GetValue<string>();
        Assert.Contains("| metric | validation (± sd of its 3 parts) |", card);
        Assert.Contains("chosen on validation", card);
        Assert.DoesNotContain("fold cross-validation", card);
    }

    [Fact]
    public async Task BadFoldsSetting_FailsTheRunAtPlanning_NamingTheSetting()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Training:CrossValidationFolds"] = "1" });

        var done = await RunAsync(host, "badfolds", 200);

        Assert.Equal("Failed", done["runtimeStatus"]!.GetValue<string>());
        Assert.Contains("Pipeline:Training:CrossValidationFolds (1) must be between 2 and 20", done["failureDetails"]!["errorMessage"]!.GetValue<string>());
    }
}
