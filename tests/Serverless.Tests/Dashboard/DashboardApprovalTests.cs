using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Serverless.Core.Registry;
using Serverless.Core.Tracking;
using Serverless.Orchestrations;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Dashboard;

/// <summary>
/// The approval gate from the dashboard in a real browser: a run waiting for a decision shows Approve and Reject; each
/// asks for a reason and the admin key, and the run goes on as the person decided.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardApprovalTests(AzuriteFixture azurite)
{
    private const string AdminKey = "approval-test-key";
    private const string Model = "gated";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);
    private const string Spec = """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"FastTree","grid":{"numberOfIterations":[20]}}],"drift":{"retrain":false}}""";

    [Fact]
    public async Task WaitingRun_IsApprovedThenASecondRejected_FromThePage_WithReasonAndKey()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Api:AdminKey"] = AdminKey, ["Pipeline:Drift:Timer"] = "false" });
        await host.UploadAsync(Model, "model.json", Spec);
        await host.UploadAsync(Model, "first.csv", TestData.TaxiSlice(800));
        var first = await WaitForWaitingRunAsync(host, except: null);

        await using var dashboard = await DashboardPage.OpenAsync(host, Model);
        var page = dashboard.Page;
        await Assertions.Expect(page.Locator("#run-title")).ToContainTextAsync(first);
        await Assertions.Expect(page.Locator("#approve")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#reject")).ToBeVisibleAsync();
        // The run has no outcome yet, but it has chosen: the candidate it registered is marked the winner.
        await Assertions.Expect(page.Locator("#candidates tbody tr:has-text('winner')")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#candidates tbody tr:has-text('winner')")).ToContainTextAsync("registered as v1");
        await page.ClickAsync("#approve");
        await dashboard.ConfirmActionAsync("checked the card", AdminKey);

        var approved = await host.WaitForRunAsync(first, r => r["runtimeStatus"]?.GetValue<string>() == "Completed", Timeout);
        Assert.Equal(TrainingStatus.Promoted, approved["output"]!["status"]!.GetValue<string>());
        await Assertions.Expect(page.Locator("#model-aliases")).ToContainTextAsync("production: v1");
        await Assertions.Expect(page.Locator("#approve")).ToBeHiddenAsync();

        await host.UploadAsync(Model, "second.csv", TestData.TaxiSlice(1600));
        var second = await WaitForWaitingRunAsync(host, except: first);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#run-title")).ToContainTextAsync(second);
        await page.ClickAsync("#reject");
        // The key given for the approval is kept for this tab: only the reason is asked.
        await dashboard.ConfirmActionAsync("not this week", AdminKey);

        var rejected = await host.WaitForRunAsync(second, r => r["runtimeStatus"]?.GetValue<string>() == "Completed", Timeout);
        Assert.Equal(TrainingStatus.Rejected, rejected["output"]!["status"]!.GetValue<string>());
        var model = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}"))!;
        Assert.Equal("v1", model["aliases"]!["production"]!.GetValue<string>());
        var v2 = model["versions"]!.AsArray().Single(v => v!["version"]!.GetValue<string>() == "v2")!;
        Assert.Equal(VersionStatus.Rejected, v2["status"]!.GetValue<string>());
        var audit = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={Model}"))!["records"]!.AsArray();
        Assert.Contains(audit, e => e!["action"]!.GetValue<string>() == AuditActions.Approve && e["reason"]!.GetValue<string>().Contains("checked the card", StringComparison.Ordinal));
        Assert.Contains(audit, e => e!["action"]!.GetValue<string>() == AuditActions.Reject && e["reason"]!.GetValue<string>().Contains("not this week", StringComparison.Ordinal));

        // A prediction logged without feedback: the live metrics say where this model's ground truth goes.
        var predicted = await host.Client.PostAsync($"/api/models/{Model}/predict", ApiAssert.Json(new JsonObject { ["rows"] = new JsonArray([.. Serverless.Tests.Monitoring.TaxiDriftModel.ShiftedRows(3).Select(r => r.DeepClone())]) }.ToJsonString()));
        predicted.EnsureSuccessStatusCode();
        await host.WaitForBlobsAsync(host.Storage.Monitoring, Serverless.Core.Monitoring.MonitoringPaths.PredictionLogPrefix(Model), TimeSpan.FromSeconds(30));
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#live")).ToContainTextAsync($"POST ground truth to /api/models/{Model}/feedback");
        Assert.Empty(dashboard.Errors);
    }

    /// <summary>The model's run that waits for approval (not <paramref name="except"/>), once it waits.</summary>
    private static async Task<string> WaitForWaitingRunAsync(TestHost host, string? except)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var runs = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations?model={Model}"))!["runs"]!.AsArray();
            var waiting = runs.FirstOrDefault(r => r!["instanceId"]!.GetValue<string>() != except
                && r["customStatus"]?["stage"]?.GetValue<string>() == TrainingStages.AwaitingApproval);
            if (waiting is not null) return waiting["instanceId"]!.GetValue<string>();
            await Task.Delay(250);
        }
        throw new TimeoutException($"No run of '{Model}' waited for approval within {Timeout}.");
    }
}
