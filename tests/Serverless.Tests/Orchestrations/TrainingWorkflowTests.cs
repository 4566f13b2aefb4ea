using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Orchestrations;

/// <summary>The training workflow on the local host: approval gate, champion/challenger, failing candidates, progress.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class TrainingWorkflowTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private static async Task<string> StartRunAsync(TestHost host, string model, string spec, int rows)
    {
        await host.UploadAsync(model, "model.json", spec);
        await host.UploadAsync(model, "data.csv", TestData.TaxiSlice(rows));
        var datasets = await host.WaitForBlobsAsync(host.Storage.Datasets, model + "/", Timeout, "/manifest.json");
        var version = datasets.First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Split('/')[1];
        return Serverless.Orchestrations.DropZone.TrainingInstanceId(model, version);
    }

    [Fact]
    public async Task ManualApproval_Approve_PromotesVersion()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var id = await StartRunAsync(host, "approve", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"FastTree"}]}""", 1500);

        var waiting = await host.WaitForRunAsync(id, s => s["customStatus"]?["stage"]?.GetValue<string>() == "awaitingApproval", Timeout);
        Assert.Equal("Running", waiting["runtimeStatus"]!.GetValue<string>());
        var beforeApproval = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/approve");
        Assert.Null(beforeApproval!["aliases"]!["production"]);
        Assert.Equal("v1", beforeApproval["aliases"]!["staging"]!.GetValue<string>());

        var approve = await host.Client.PostAsync($"/api/orchestrations/{id}/approve", Json("""{"reason":"looks right"}"""));
        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);

        var done = await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
        Assert.Equal("promoted", done["output"]!["status"]!.GetValue<string>());
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/approve");
        Assert.Equal("v1", model!["aliases"]!["production"]!.GetValue<string>());
        Assert.Equal("approved", model["versions"]![0]!["status"]!.GetValue<string>());
        // The alias history keeps the person's reason for the move, as the audit does.
        var move = model["history"]!.AsArray().Last(h => h!["alias"]!.GetValue<string>() == "production")!;
        Assert.StartsWith("approved by ", move["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(": looks right (training run ", move["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        var again = await host.Client.PostAsync($"/api/orchestrations/{id}/approve", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    /// <summary>
    /// A version whose stored bytes went bad while it waited for approval is never served: the approval does not move
    /// production onto it. The run fails saying so, and the failure is audited, as a promotion by hand is refused.
    /// </summary>
    [Fact]
    public async Task ManualApproval_VersionTamperedWhileWaiting_IsNotPromoted_RunFailsSayingWhy()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var id = await StartRunAsync(host, "approvebad", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"Sdca"}]}""", 1000);
        await host.WaitForRunAsync(id, s => s["customStatus"]?["stage"]?.GetValue<string>() == "awaitingApproval", Timeout);
        var blob = host.Storage.Models.GetBlobClient("approvebad/v1/model.zip");
        var bytes = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        bytes[^1] ^= 0xFF;
        await blob.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);

        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{id}/approve", Json("""{"reason":"looks right"}"""))).StatusCode);

        var done = await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
        Assert.Equal("Failed", done["runtimeStatus"]!.GetValue<string>());
        var failure = done["failureDetails"]!["errorMessage"]!.GetValue<string>();
        Assert.Contains("v1 was not promoted", failure);
        Assert.Contains("failed its integrity check", failure);
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/approvebad");
        Assert.Null(model!["aliases"]!["production"]);
        var audit = await host.Client.GetFromJsonAsync<JsonObject>("/api/audit?model=approvebad");
        var integrity = Assert.Single(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == AuditActions.IntegrityFailure)!;
        Assert.Equal("approval", integrity["actor"]!.GetValue<string>());
        Assert.DoesNotContain(audit["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == AuditActions.Promote);
    }

    [Fact]
    public async Task ManualApproval_Reject_LeavesProductionEmpty()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var id = await StartRunAsync(host, "reject", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"FastTree"}]}""", 1500);
        await host.WaitForRunAsync(id, s => s["customStatus"]?["stage"]?.GetValue<string>() == "awaitingApproval", Timeout);

        await host.Client.PostAsync($"/api/orchestrations/{id}/reject", Json("""{"reason":"not yet"}"""));

        var done = await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
        Assert.Equal("rejected", done["output"]!["status"]!.GetValue<string>());
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/reject");
        Assert.Null(model!["aliases"]!["production"]);
        Assert.Equal("rejected", model["versions"]![0]!["status"]!.GetValue<string>());
        var withdrawn = model["history"]!.AsArray().Last(h => h!["alias"]!.GetValue<string>() == "staging")!;
        Assert.Equal("v1 rejected: not yet", withdrawn["reason"]!.GetValue<string>());
        var audit = await host.Client.GetFromJsonAsync<JsonObject>("/api/audit?model=reject");
        Assert.Contains(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == "reject");
    }

    [Fact]
    public async Task ManualApproval_NoDecisionBeforeTimeout_Expires()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var id = await StartRunAsync(host, "expire", """{"label":"fare_amount","task":"regression","approval":"manual","approvalTimeout":"00:00:02","trainers":[{"name":"Sdca"}]}""", 1000);

        var done = await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);

        Assert.Equal("expired", done["output"]!["status"]!.GetValue<string>());
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/expire");
        Assert.Equal("expired", model!["versions"]![0]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ManualApproval_RunFailsWhileItsVersionWaits_RejectsTheVersion_SoNothingWaitsOnStaging()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var put = await host.Client.PutAsync("/api/models/stuck/spec",
            Json("""{"label":"fare_amount","task":"regression","approval":"manual","approvalTimeout":"01:00:00","trainers":[{"name":"FastTree"}]}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        // The spec in force edited by hand past what its check lets through: no clock can hold the approval's deadline,
        // so the run fails right after its version was registered to wait.
        var current = host.Storage.Models.GetBlobClient(Serverless.Core.Specs.ModelSpecStore.CurrentBlob("stuck"));
        var text = (await current.DownloadContentAsync()).Value.Content.ToString();
        Assert.Contains("\"01:00:00\"", text);
        await current.UploadAsync(BinaryData.FromString(text.Replace("\"01:00:00\"", "\"10000000.00:00:00\"", StringComparison.Ordinal)), overwrite: true);
        await host.UploadAsync("stuck", "data.csv", TestData.TaxiSlice(1000));
        var manifest = (await host.WaitForBlobsAsync(host.Storage.Datasets, "stuck/", Timeout, "/manifest.json")).First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal));

        var done = await host.WaitForRunAsync(Serverless.Orchestrations.DropZone.TrainingInstanceId("stuck", manifest.Split('/')[1]),
            s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);

        Assert.Equal("Failed", done["runtimeStatus"]!.GetValue<string>());
        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/stuck"))!;
        var v1 = Assert.Single(model["versions"]!.AsArray())!;
        Assert.Equal(Serverless.Core.Registry.VersionStatus.Rejected, v1["status"]!.GetValue<string>());
        Assert.Null(model["aliases"]!["staging"]);
    }

    [Fact]
    public async Task FailingCandidate_DoesNotFailTheRun_AndIsRecorded()
    {
        await using var host = await TestHost.StartAsync(azurite);
        // A learning rate of -1 makes LightGbm throw; FastTree trains normally. A spec is refused with it now, so it is
        // stored as one kept from before grid values were checked would be, not dropped with the data.
        var spec = System.Text.Json.JsonSerializer.Deserialize<Serverless.Core.Specs.ModelSpec>(
            """{"label":"fare_amount","task":"regression","trainers":[{"name":"LightGbm","grid":{"learningRate":[-1]}},{"name":"FastTree"}]}""", Serverless.Core.Storage.JsonBlobs.Options)!;
        await host.Services.GetRequiredService<Serverless.Core.Specs.ModelSpecStore>().SetAsync("failing", spec, CancellationToken.None);
        await host.UploadAsync("failing", "data.csv", TestData.TaxiSlice(1500));
        var datasets = await host.WaitForBlobsAsync(host.Storage.Datasets, "failing/", Timeout, "/manifest.json");
        var id = Serverless.Orchestrations.DropZone.TrainingInstanceId("failing", datasets.First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Split('/')[1]);

        var done = await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);

        Assert.Equal("Completed", done["runtimeStatus"]!.GetValue<string>());
        Assert.Equal("promoted", done["output"]!["status"]!.GetValue<string>());
        var candidates = done["output"]!["candidates"]!.AsArray();
        Assert.Contains(candidates, c => !c!["succeeded"]!.GetValue<bool>() && c["error"] is not null);
        var runs = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/failing/runs?sort=rmse");
        Assert.Contains(runs!["runs"]!.AsArray(), r => r!["status"]!.GetValue<string>() == "failed");
        Assert.Contains(runs["runs"]!.AsArray(), r => r!["status"]!.GetValue<string>() == "succeeded");
    }

    [Fact]
    public async Task Retrain_OnSameData_KeepsChampionWithinTolerance_AndRollbackWorks()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var id = await StartRunAsync(host, "champion", """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""", 1500);
        await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() == "Completed", Timeout);

        var train = await host.Client.PostAsync("/api/models/champion/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var started = await train.Content.ReadFromJsonAsync<JsonObject>();
        Assert.NotNull(train.Headers.Location);
        var second = await host.WaitForRunAsync(started!["id"]!.GetValue<string>(), s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);

        // Same data and seed: the challenger equals the champion, which is within tolerance, so it is promoted as v2.
        Assert.Equal("promoted", second["output"]!["status"]!.GetValue<string>());
        Assert.Equal("v2", second["output"]!["version"]!.GetValue<string>());
        var rollback = await host.Client.PostAsync("/api/models/champion/rollback", Json("""{"reason":"test"}"""));
        Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/champion");
        Assert.Equal("v1", model!["aliases"]!["production"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retrain_ClearlyWorseChallenger_IsNotPromoted_AndStartAnswersCheckStatusUrls()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var id = await StartRunAsync(host, "weaker", """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""", 1500);
        await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() == "Completed", Timeout);
        var spec = await host.Client.PutAsync("/api/models/weaker/spec",
            Json("""{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree","grid":{"numberOfLeaves":[2],"numberOfIterations":[10]}}]}"""));
        Assert.Equal(HttpStatusCode.OK, spec.StatusCode);

        var train = await host.Client.PostAsync("/api/models/weaker/train", null);
        var started = await train.Content.ReadFromJsonAsync<JsonObject>();
        var second = await host.WaitForRunAsync(started!["id"]!.GetValue<string>(), s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);

        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var status = started["statusQueryGetUri"]!.GetValue<string>();
        Assert.Equal(status, train.Headers.Location!.ToString());
        Assert.Equal(status + "/raiseEvent/{eventName}", started["sendEventPostUri"]!.GetValue<string>());
        Assert.StartsWith(status + "/terminate", started["terminatePostUri"]!.GetValue<string>());
        Assert.True(second["output"]!["status"]!.GetValue<string>() == "championRetained", second["output"]!.ToJsonString());
        Assert.Contains(second["output"]!["notes"]!.AsArray(), n => n!.GetValue<string>().Contains("trails champion v1"));
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/weaker");
        Assert.Equal("v1", model!["aliases"]!["production"]!.GetValue<string>());
        Assert.Single(model["versions"]!.AsArray());
        var retained = Assert.Single(model["championRetained"]!.AsArray())!["comparison"]!;
        Assert.True(retained["challenger"]!.GetValue<double>() > retained["champion"]!.GetValue<double>(), retained.ToJsonString());
        Assert.Equal(0.01, retained["tolerance"]!.GetValue<double>());
        var audit = await host.Client.GetFromJsonAsync<JsonObject>("/api/audit?model=weaker");
        var details = Assert.Single(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == AuditActions.ChampionRetained)!["details"]!;
        Assert.Equal((retained["challenger"]!.GetValue<double>(), retained["champion"]!.GetValue<double>(), 0.01),
            (details["challenger"]!.GetValue<double>(), details["championValue"]!.GetValue<double>(), details["tolerance"]!.GetValue<double>()));
    }

    [Fact]
    public async Task LabelIsNoise_NoModelBeatsTheBaseline_NothingIsRegistered()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var random = new Random(11);
        var csv = new StringBuilder("a,b,c,target\n");
        for (var i = 0; i < 1500; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{random.NextDouble():F4},{random.Next(5)},{random.NextDouble() * 100:F2},{random.NextDouble() * 50:F3}\n");
        }
        var done = await UploadAndWaitForRunAsync(host, "noise", """{"label":"target","task":"regression"}""", csv.ToString());

        Assert.Equal("gateFailed", done["output"]!["status"]!.GetValue<string>());
        Assert.Contains(done["output"]!["notes"]!.AsArray(), n => n!.GetValue<string>().Contains("does not beat the baseline"));
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/noise");
        Assert.Empty(model!["versions"]!.AsArray());
        Assert.Null(model["aliases"]!["production"]);
        Assert.NotNull(model["latestDataset"]);
    }

    [Fact]
    public async Task BinaryLabelIsNoise_WinnerBeatsTheBaselineByChance_TheChanceTestKeepsItOut()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var random = new Random(3);
        var csv = new StringBuilder("a,b,c,outcome\n");
        for (var i = 0; i < 600; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{random.NextDouble():F4},{random.Next(5)},{random.NextDouble() * 100:F2},{(random.Next(2) == 0 ? "no" : "yes")}\n");
        }
        var done = await UploadAndWaitForRunAsync(host, "coin", """{"label":"outcome","task":"binary","trainers":[{"name":"FastTree"},{"name":"Sdca"}]}""", csv.ToString());

        Assert.True(done["runtimeStatus"]!.GetValue<string>() == "Completed", done.ToJsonString());
        var output = done["output"]!;
        var notes = output["notes"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        // The winner's test AUC is above the baseline's 0.5, which the baseline rule alone would have let through.
        Assert.True(output["testMetrics"]?["auc"]?.GetValue<double>() > 0.5, output.ToJsonString());
        Assert.Contains(notes, n => n.StartsWith("Beats the baseline on auc", StringComparison.Ordinal));
        Assert.Equal("gateFailed", output["status"]!.GetValue<string>());
        Assert.Contains(notes, n => n.Contains("shuffles of their labels") && n.Contains("not shown to say anything about the label"));
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/coin");
        Assert.Empty(model!["versions"]!.AsArray());
    }

    /// <summary>Drops a spec and a data file for <paramref name="model"/>, and waits for the run its dataset version starts to end.</summary>
    private static async Task<JsonObject> UploadAndWaitForRunAsync(TestHost host, string model, string spec, string csv)
    {
        await host.UploadAsync(model, "model.json", spec);
        await host.UploadAsync(model, $"{model}.csv", csv);
        var datasets = await host.WaitForBlobsAsync(host.Storage.Datasets, $"{model}/", Timeout, "/manifest.json");
        var id = Serverless.Orchestrations.DropZone.TrainingInstanceId(model, datasets.First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Split('/')[1]);
        return await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
    }

    private static async Task<JsonObject> TrainAndWaitAsync(TestHost host, string model)
    {
        var train = await host.Client.PostAsync($"/api/models/{model}/train", null);
        Assert.Equal(HttpStatusCode.Accepted, train.StatusCode);
        var id = (await train.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        return await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
    }

    [Fact]
    public async Task Train_DataChangedAfterIngestion_FailsValidationAndTrainsNothing()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var first = await StartRunAsync(host, "tampered", """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""", 1000);
        await host.WaitForRunAsync(first, s => s["runtimeStatus"]!.GetValue<string>() == "Completed", Timeout);
        var version = first.Split("-ds-")[1];
        var manifest = JsonNode.Parse((await host.Storage.Datasets.GetBlobClient($"tampered/ds-{version}/manifest.json").DownloadContentAsync()).Value.Content.ToString())!;
        var data = host.Storage.Datasets.GetBlobClient(manifest["dataBlob"]!.GetValue<string>());
        var text = (await data.DownloadContentAsync()).Value.Content.ToString();
        await data.UploadAsync(BinaryData.FromString(text.Replace(",1,", ",2,")), overwrite: true);

        var done = await TrainAndWaitAsync(host, "tampered");

        Assert.Equal("Failed", done["runtimeStatus"]!.GetValue<string>());
        Assert.Contains("was changed after ingestion", done["failureDetails"]!["errorMessage"]!.GetValue<string>());
        var runs = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/tampered/runs"))!["runs"]!.AsArray();
        Assert.Contains(runs, r => r!["orchestrationId"]!.GetValue<string>() == first);
        Assert.DoesNotContain(runs, r => r!["orchestrationId"]!.GetValue<string>() == done["instanceId"]!.GetValue<string>());
        var audit = await host.Client.GetFromJsonAsync<JsonObject>("/api/audit?model=tampered");
        Assert.Contains(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == AuditActions.IntegrityFailure);
    }

    [Fact]
    public async Task Train_SpecMarksAFeatureSensitiveAfterIngestion_FailsValidationNamingTheColumn()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var first = await StartRunAsync(host, "sensitive", """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""", 1000);
        await host.WaitForRunAsync(first, s => s["runtimeStatus"]!.GetValue<string>() == "Completed", Timeout);
        var spec = await host.Client.PutAsync("/api/models/sensitive/spec",
            Json("""{"label":"fare_amount","task":"regression","sensitive":["payment_type"],"trainers":[{"name":"FastTree"}]}"""));
        Assert.Equal(HttpStatusCode.OK, spec.StatusCode);
        Assert.Contains("Column 'payment_type' is sensitive in the spec", (await spec.Content.ReadFromJsonAsync<JsonObject>())!["note"]!.GetValue<string>());
        var refused = await host.Client.PostAsync("/api/models/sensitive/train", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Column 'payment_type' is sensitive in the spec", await refused.Content.ReadAsStringAsync());

        // A run started without that check (drift and scheduled retraining start theirs directly) fails at its dataset check.
        var dataset = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sensitive"))!["latestDataset"]!["version"]!.GetValue<string>();
        var direct = await host.Services.GetRequiredService<Microsoft.DurableTask.Client.DurableTaskClient>().ScheduleNewOrchestrationInstanceAsync(
            nameof(Serverless.Orchestrations.TrainingOrchestrator), new Serverless.Orchestrations.TrainingRequest("sensitive", dataset, "test", "test"));
        var done = await host.WaitForRunAsync(direct, s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);

        Assert.Equal("Failed", done["runtimeStatus"]!.GetValue<string>());
        var message = done["failureDetails"]!["errorMessage"]!.GetValue<string>();
        Assert.StartsWith($"Dataset sensitive/{dataset} cannot be trained on: ", message);
        Assert.Contains("Column 'payment_type' is sensitive in the spec", message);
        Assert.Contains("Upload the data again", message);
        var model = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sensitive");
        Assert.Single(model!["versions"]!.AsArray());

        // The data again, under the new spec: the champion reads the column this version no longer gives, and the run says so.
        await host.UploadAsync("sensitive", "again.csv", TestData.TaxiSlice(1000));
        var manifests = await host.WaitForBlobsAsync(host.Storage.Datasets, "sensitive/", Timeout, "/manifest.json", count: 2);
        var second = manifests.Where(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Select(n => n.Split('/')[1])
            .Single(v => Serverless.Orchestrations.DropZone.TrainingInstanceId("sensitive", v) != first);
        var retrained = await host.WaitForRunAsync(Serverless.Orchestrations.DropZone.TrainingInstanceId("sensitive", second),
            s => s["runtimeStatus"]!.GetValue<string>() is not ("Running" or "Pending"), Timeout);
        var notes = string.Join(" ", retrained["output"]!["notes"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Contains($"The champion v1 could not be scored on this data: it reads column 'payment_type', which dataset version {second} does not give its models", notes);
        Assert.DoesNotContain("Could not find input column", notes);
    }
}
