using Serverless.Core.Datasets;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>The whole loop on the local host: drop a CSV, get a served model.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class WalkingSkeletonTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task UploadTaxiSlice_WithSpec_TrainsRegistersAndServesV1()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("taxi", "model.json", """{"label":"fare_amount","task":"regression"}""");
        await host.UploadAsync("taxi", "taxi-slice.csv", TestData.TaxiSlice(3000));

        var model = await host.WaitForModelAsync("taxi", m => m["aliases"]?["production"] is not null, TrainingTimeout);

        Assert.Equal("v1", model["aliases"]!["production"]!.GetValue<string>());
        var version = model["versions"]!.AsArray().Single()!;
        Assert.Equal("rmse", version["primaryMetric"]!.GetValue<string>());
        Assert.True(version["testMetrics"]!["r2"]!.GetValue<double>() > 0.5, model.ToJsonString());

        var predict = await host.Client.PostAsync("/api/models/taxi/predict", new StringContent(TestData.TaxiRow, Encoding.UTF8, "application/json"));
        var body = await predict.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        Assert.Equal("v1", body!["modelVersion"]!.GetValue<string>());
        var fare = body["predictions"]![0]!["score"]!.GetValue<double>();
        Assert.InRange(fare, 8, 35);

        var manifest = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/taxi/versions/v1");
        Assert.Matches("^[0-9a-f]{64}$", manifest!["manifest"]!["sha256"]!.GetValue<string>());
        Assert.Equal(42, manifest["manifest"]!["reproducibility"]!["seed"]!.GetValue<int>());
        // The setting of the rule that chose the winner among the candidates, so a run can be repeated as it was.
        Assert.Equal(TrainingOptions.DefaultSimplerWithin, manifest["manifest"]!["reproducibility"]!["simplerWithin"]!.GetValue<double>());
        Assert.Contains("fare_amount", manifest["card"]!.GetValue<string>());
        Assert.Contains("Chosen with `SimplerWithin` 1", manifest["card"]!.GetValue<string>());

        var orchestrationId = manifest["manifest"]!["orchestrationId"]!.GetValue<string>();
        var status = await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations/{orchestrationId}");
        for (var i = 0; i < 100 && status!["runtimeStatus"]!.GetValue<string>() is "Running" or "Pending"; i++)
        {
            await Task.Delay(100);
            status = await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations/{orchestrationId}");
        }
        Assert.Equal("Completed", status!["runtimeStatus"]!.GetValue<string>());
        Assert.Equal("TrainingOrchestrator", status["name"]!.GetValue<string>());
        Assert.Equal("promoted", status["output"]!["status"]!.GetValue<string>());
        Assert.True(status["output"]!["candidates"]!.AsArray().Count >= 3);
    }

    [Fact]
    public async Task Predict_UnknownModel_Answers404ProblemDetails()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var response = await host.Client.PostAsync("/api/models/nosuchmodel/predict", new StringContent(TestData.TaxiRow, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("nosuchmodel", problem!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_InvalidJson_Answers400NamingTheProblem()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var response = await host.Client.PostAsync("/api/models/taxi/predict", new StringContent("{\"vendor_id\": \"CMT\",", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains("not valid JSON", problem!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Upload_LabelColumnMissing_IsQuarantinedAndHostKeepsRunning()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("nolabel", "model.json", """{"label":"fare_amount"}""");
        var withoutLabel = string.Join('\n', TestData.TaxiSlice(50).Split('\n').Select(line => string.Join(',', line.Split(',').SkipLast(1))));
        await host.UploadAsync("nolabel", "data.csv", withoutLabel);

        var quarantined = await host.WaitForBlobsAsync(host.Storage.Quarantine, "nolabel/", TimeSpan.FromSeconds(60), "summary.txt");

        Assert.Contains(quarantined, name => name.EndsWith("report.json", StringComparison.Ordinal));
        var report = quarantined.First(name => name.EndsWith("report.json", StringComparison.Ordinal));
        var text = (await host.Storage.Quarantine.GetBlobClient(report).DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains(ReasonCodes.LabelMissing, text);
        var health = await host.Client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var model = await host.Client.GetAsync("/api/models/nolabel");
        Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        Assert.Contains("\"label_missing\"", await model.Content.ReadAsStringAsync());
    }
}
