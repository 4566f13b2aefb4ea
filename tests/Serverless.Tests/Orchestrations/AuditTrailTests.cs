using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Orchestrations;

/// <summary>A whole run, from the dropped spec to the promoted version, leaves a complete audit trail and its spec in the version.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditTrailTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Run_FromUploadToApprovedPromotion_IsAuditedStepByStepWithActorsAndReasons()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Api:AdminKeys:ann"] = "key-of-ann" });
        var model = $"trail-{Guid.NewGuid():N}"[..14];
        await host.UploadAsync(model, "model.json", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"FastTree","grid":{"numberOfIterations":[20]}}]}""");
        await host.UploadAsync(model, "data.csv", TestData.TaxiSlice(800));
        var datasets = await host.WaitForBlobsAsync(host.Storage.Datasets, model + "/", Timeout, "/manifest.json");
        var id = Serverless.Orchestrations.DropZone.TrainingInstanceId(model, datasets.First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal)).Split('/')[1]);
        await host.WaitForRunAsync(id, s => s["customStatus"]?["stage"]?.GetValue<string>() == "awaitingApproval", Timeout);
        var approve = new HttpRequestMessage(HttpMethod.Post, $"/api/orchestrations/{id}/approve") { Content = Json("""{"reason":"checked the card"}""") };
        approve.Headers.Add("x-functions-key", "key-of-ann");
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.SendAsync(approve)).StatusCode);
        // Sent at once, before the run has moved off waiting: the run takes one decision, so this one is refused, not audited.
        var reject = new HttpRequestMessage(HttpMethod.Post, $"/api/orchestrations/{id}/reject") { Content = Json("""{"reason":"too late"}""") };
        reject.Headers.Add("x-functions-key", "key-of-ann");
        await ProblemAsync(await host.Client.SendAsync(reject), HttpStatusCode.Conflict);
        await host.WaitForRunAsync(id, s => s["runtimeStatus"]!.GetValue<string>() == "Completed", Timeout);
        var claim = await host.Storage.Models.GetBlobClient(Serverless.Orchestrations.RunsApi.DecisionBlob(model, id)).DownloadContentAsync();
        var claimed = JsonNode.Parse(claim.Value.Content.ToString())!["decision"]!;
        Assert.Equal((true, "ann"), (claimed["approved"]!.GetValue<bool>(), claimed["by"]!.GetValue<string>()));

        var records = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}"))!["records"]!.AsArray()
            .Select(r => r!.AsObject()).Reverse().ToList();

        var actions = records.Select(r => r["action"]!.GetValue<string>()).ToList();
        string[] expected = [AuditActions.SpecChanged, AuditActions.Ingested, AuditActions.TrainingStarted, AuditActions.Register, AuditActions.Approve, AuditActions.Approved, AuditActions.Promote, AuditActions.TrainingEnded];
        Assert.Equal(expected, actions.Where(expected.Contains).ToArray());
        Assert.DoesNotContain(AuditActions.Reject, actions);
        Assert.All(records, r => Assert.False(string.IsNullOrEmpty(r["actor"]!.GetValue<string>())));
        Assert.All(records, r => Assert.False(string.IsNullOrEmpty(r["reason"]?.GetValue<string>()), $"{r["action"]} has no reason"));
        var approved = records.Single(r => r["action"]!.GetValue<string>() == AuditActions.Approve);
        Assert.Equal(("ann", "checked the card"), (approved["actor"]!.GetValue<string>(), approved["reason"]!.GetValue<string>()));
        var ended = records.Single(r => r["action"]!.GetValue<string>() == AuditActions.TrainingEnded);
        Assert.Contains("\"promoted\"", ended["details"]!.ToJsonString());
        Assert.Contains(id, ended["details"]!.ToJsonString());

        var manifest = (await host.Services.GetRequiredService<ModelRegistry>().GetManifestAsync(model, "v1", CancellationToken.None))!;
        Assert.Equal(1, manifest.Spec!.Version);
        Assert.Equal("fare_amount", manifest.Spec.Spec.Label);
        Assert.NotNull(manifest.FeatureImportance);
        // The candidate run keeps the spec it was trained under, for a registration by hand after the spec changed.
        var run = await host.Services.GetRequiredService<Serverless.Core.Training.ModelTrainer>().GetRunInputAsync(model, manifest.RunId, CancellationToken.None);
        Assert.Equal(manifest.Spec.Sha256, run!.Spec!.Sha256);
        var registered = records.Single(r => r["action"]!.GetValue<string>() == AuditActions.Register)["details"]!;
        Assert.Equal(("FastTree", manifest.RunId, 1), (registered["trainer"]!.GetValue<string>(), registered["runId"]!.GetValue<string>(), registered["specVersion"]!.GetValue<int>()));
    }
}
