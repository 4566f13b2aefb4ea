using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Api;

/// <summary><c>POST /api/models/{model}/runs/{runId}/register</c>: a candidate run registered as a version by hand.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RunRegistrationTests(AzuriteFixture azurite)
{
    private const string Model = "byhand";

    /// <summary>A host whose drop zone is off, a dataset version of 800 taxi rows ingested directly, and its split.</summary>
    private async Task<(TestHost Host, CandidateInput Template)> HostWithDatasetAsync()
    {
        var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        await host.Services.GetRequiredService<ModelSpecStore>().SetAsync(Model, new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression }, CancellationToken.None);
        await host.UploadAsync(Model, "taxi.csv", TestData.TaxiSlice(800));
        var outcome = await host.Services.GetRequiredService<DatasetIngestor>().IngestAsync($"{Model}/taxi.csv", CancellationToken.None);
        var trainer = host.Services.GetRequiredService<ModelTrainer>();
        var split = await trainer.SplitAsync(Model, outcome.DatasetVersion!, 42, null, CancellationToken.None);
        return (host, new CandidateInput(Model, outcome.DatasetVersion!, "by-hand", "by-hand-c00", new CandidateSpec("FastTree", new Dictionary<string, double>()), split));
    }

    private static Task<CandidateResult> TrainAsync(TestHost host, CandidateInput input) =>
        host.Services.GetRequiredService<ModelTrainer>().TrainCandidateAsync(input, CancellationToken.None);

    private static Task<HttpResponseMessage> RegisterAsync(TestHost host, string runId, string? body = null) =>
        host.Client.PostAsync($"/api/models/{Model}/runs/{runId}/register", body is null ? null : Json(body));

    [Fact]
    public async Task Register_SucceededRun_Is201WithAVersionFitOnTrainScoredOnTestAndAudited()
    {
        var (host, run) = await HostWithDatasetAsync();
        await using var _ = host;
        await TrainAsync(host, run);

        var response = await RegisterAsync(host, run.RunId, """{"reason":"the simpler model"}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/models/{Model}/versions/v1", response.Headers.Location?.OriginalString);
        var manifest = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((run.RunId, "train"), (manifest["runId"]!.GetValue<string>(), manifest["fit"]!["on"]!.GetValue<string>()));
        Assert.True(manifest["testMetrics"]!["rmse"]!.GetValue<double>() > 0);
        Assert.Equal(run.Splits.TestRows, manifest["testMeasuredOn"]!["rows"]!.GetValue<long>());
        var view = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}"))!;
        Assert.Equal("registered", view["versions"]![0]!["status"]!.GetValue<string>());
        Assert.Null(view["aliases"]!["production"]);
        var audit = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={Model}"))!["records"]!.AsArray();
        Assert.Contains(audit, r => r!["action"]!.GetValue<string>() == "register" && r.ToJsonString().Contains("the simpler model", StringComparison.Ordinal));
        // Measured and described as a training run's winner is: test interval, feature importance, the spec, who registered it.
        Assert.Equal("rmse", manifest["testInterval"]!["metric"]!.GetValue<string>());
        Assert.NotEmpty(manifest["featureImportance"]!["features"]!.AsArray());
        Assert.Equal(1, manifest["spec"]!["version"]!.GetValue<int>());
        Assert.Equal("anonymous", manifest["registeredBy"]!.GetValue<string>());
        var card = await host.Client.GetStringAsync($"/api/models/{Model}/versions/v1/card.md");
        Assert.Contains("by hand by anonymous", card, StringComparison.Ordinal);
        Assert.Contains("## Feature importance", card, StringComparison.Ordinal);
        Assert.Contains("- **Spec**: version 1", card, StringComparison.Ordinal);
        Assert.Contains("bootstrap resamples", card, StringComparison.Ordinal);
    }

    /// <summary>
    /// The spec a run was trained under goes with the run: registered after the spec changed, the version records that
    /// spec and measures the metric it named, and the audit record has the fields a training run's registration has.
    /// </summary>
    [Fact]
    public async Task Register_AfterTheSpecChanged_RecordsTheSpecTheRunWasTrainedUnder_AndAuditsAsATrainingRunDoes()
    {
        var (host, template) = await HostWithDatasetAsync();
        await using var _ = host;
        var store = host.Services.GetRequiredService<ModelSpecStore>();
        var run = template with { Spec = SpecSnapshot.Of(await store.GetCurrentAsync(Model, CancellationToken.None)) };
        await TrainAsync(host, run);
        await store.SetAsync(Model, new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression, Metric = Metrics.Mae }, CancellationToken.None);

        var manifest = (await (await RegisterAsync(host, run.RunId, """{"reason":"kept for comparison"}""")).Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal((1, Metrics.Rmse), (manifest["spec"]!["version"]!.GetValue<int>(), manifest["primaryMetric"]!.GetValue<string>()));
        Assert.DoesNotContain("kept no record of its spec", manifest["gateNotes"]!.ToJsonString(), StringComparison.Ordinal);
        var record = Assert.Single((await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={Model}&action=register"))!["records"]!.AsArray())!;
        var details = record["details"]!;
        Assert.Equal(("FastTree", run.OrchestrationId, run.RunId, "registered"),
            (details["trainer"]!.GetValue<string>(), details["orchestrationId"]!.GetValue<string>(), details["runId"]!.GetValue<string>(), details["status"]!.GetValue<string>()));
        Assert.Equal((true, "kept for comparison", 1), (details["manual"]!.GetValue<bool>(), details["reason"]!.GetValue<string>(), details["specVersion"]!.GetValue<int>()));
        Assert.NotNull(details["parameters"]);
    }

    [Fact]
    public async Task Register_RunThatKeptNoSpec_RecordsTheSpecInForceAndSaysSo()
    {
        var (host, run) = await HostWithDatasetAsync();
        await using var _ = host;
        await TrainAsync(host, run);

        var manifest = (await (await RegisterAsync(host, run.RunId)).Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Contains("kept no record of its spec: the spec in force when it was registered (version 1) is recorded", manifest["gateNotes"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_UnderASpecWhoseMetricIsMae_TheTestIntervalIsOfMae()
    {
        var (host, run) = await HostWithDatasetAsync();
        await using var _ = host;
        await host.Services.GetRequiredService<ModelSpecStore>().SetAsync(Model, new ModelSpec { Label = "fare_amount", Task = TaskKind.Regression, Metric = Metrics.Mae }, CancellationToken.None);
        await TrainAsync(host, run);

        var manifest = (await (await RegisterAsync(host, run.RunId)).Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(Metrics.Mae, manifest["primaryMetric"]!.GetValue<string>());
        var interval = manifest["testInterval"]!;
        Assert.Equal(Metrics.Mae, interval["metric"]!.GetValue<string>());
        Assert.InRange(manifest["testMetrics"]![Metrics.Mae]!.GetValue<double>(), interval["low"]!.GetValue<double>(), interval["high"]!.GetValue<double>());
    }

    [Fact]
    public async Task Register_SameRunThreeTimesAtOnce_MakesOneVersionAndOneAuditRecord_TheOthersAre409()
    {
        var (host, run) = await HostWithDatasetAsync();
        await using var _ = host;
        await TrainAsync(host, run);

        var responses = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => RegisterAsync(host, run.RunId, $$"""{"reason":"race {{i}}"}""")));

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var view = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}"))!;
        var version = Assert.Single(view["versions"]!.AsArray())!["version"]!.GetValue<string>();
        foreach (var refused in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
        {
            Assert.Contains($"already registered as {version}", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>());
        }
        var audit = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={Model}&action=register"))!["records"]!.AsArray();
        Assert.Single(audit);
        // The losers' files are gone: only the version's own folder is left under the model.
        var folders = new HashSet<string>();
        await foreach (var blob in host.Storage.Models.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{Model}/v", CancellationToken.None)) folders.Add(blob.Name.Split('/')[1]);
        Assert.Equal([version], folders);
    }

    [Fact]
    public async Task Register_UnknownRun_Is404()
    {
        var (host, _) = await HostWithDatasetAsync();
        await using var _ = host;

        var problem = await ProblemAsync(await RegisterAsync(host, "no-such-run"), HttpStatusCode.NotFound);

        Assert.Contains("no-such-run", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_FailedRun_Is409()
    {
        var (host, run) = await HostWithDatasetAsync();
        await using var _ = host;
        var failing = run with { RunId = "by-hand-c01", Candidate = new CandidateSpec("LightGbm", new Dictionary<string, double> { ["learningRate"] = -1 }) };
        await Assert.ThrowsAnyAsync<Exception>(() => TrainAsync(host, failing));

        var problem = await ProblemAsync(await RegisterAsync(host, failing.RunId), HttpStatusCode.Conflict);

        Assert.Contains("failed", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_RunAlreadyRegistered_Is409NamingTheVersion()
    {
        var (host, run) = await HostWithDatasetAsync();
        await using var _ = host;
        await TrainAsync(host, run);
        Assert.Equal(HttpStatusCode.Created, (await RegisterAsync(host, run.RunId)).StatusCode);

        var problem = await ProblemAsync(await RegisterAsync(host, run.RunId), HttpStatusCode.Conflict);

        Assert.Contains("already registered as v1", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_RunIdWithForbiddenCharacters_Is400()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });

        var problem = await ProblemAsync(await RegisterAsync(host, "bad%20run%27id"), HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]!["runId"]);
    }
}
