using System.Net;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Tracking;
using Serverless.Orchestrations;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Monitoring;

/// <summary>
/// The spec's <c>drift.retrainSchedule</c> on the local host: a run comes due only when it could train something new. A
/// production version fit on the latest data under the spec in force would be trained again, the same, as a new version
/// each time; the timer records the skip instead, and starts the run once the spec (or the data) changes.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ScheduledRetrainTests(AzuriteFixture azurite)
{
    private const string Model = "scheduled";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private const string Spec = """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree","grid":{"numberOfIterations":[20]}}],"drift":{"schedule":"0 0 1 1 *","retrainSchedule":"0 3 * * 0"}}""";

    [Fact]
    public async Task ScheduleComesDue_WithNothingNew_IsSkippedAndAudited_AndAfterASpecChangeStartsARun()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Drift:Timer"] = "false" });
        await host.UploadAsync(Model, "model.json", Spec);
        await host.UploadAsync(Model, "data.csv", TestData.TaxiSlice(800));
        var manifest = (await host.WaitForBlobsAsync(host.Storage.Datasets, Model + "/", Timeout, "/manifest.json")).First(n => n.EndsWith("/manifest.json", StringComparison.Ordinal));
        var first = await host.WaitForRunAsync(DropZone.TrainingInstanceId(Model, manifest.Split('/')[1]), ApiAssert.Ended, Timeout);
        Assert.Equal("promoted", first["output"]!["status"]!.GetValue<string>());
        var timer = host.Services.GetRequiredService<DriftTimer>();
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        var now = DateTimeOffset.UtcNow;
        var before = await host.RunIdsAsync(Model);

        await timer.TickAsync(now, client, CancellationToken.None);
        await timer.TickAsync(now.AddDays(8), client, CancellationToken.None);

        Assert.Equal(before, await host.RunIdsAsync(Model));
        var audit = await host.Services.GetRequiredService<AuditLog>().ListAsync(Model, 50, CancellationToken.None);
        var skipped = Assert.Single(audit, a => a.Action == AuditActions.ScheduledRetrain);
        Assert.StartsWith("skipped: production v1 was trained on the latest data", skipped.Reason ?? "", StringComparison.Ordinal);

        // A spec that changes only how the model is watched (drift, shadow, approval) trains the same model: still skipped.
        var watched = await host.Client.PutAsync($"/api/models/{Model}/spec", ApiAssert.Json(Spec.Replace("\"drift\":{", "\"shadow\":true,\"approval\":\"auto\",\"drift\":{\"minRows\":50,", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.OK, watched.StatusCode);
        await timer.TickAsync(now.AddDays(16), client, CancellationToken.None);
        Assert.Equal(before, await host.RunIdsAsync(Model));
        audit = await host.Services.GetRequiredService<AuditLog>().ListAsync(Model, 50, CancellationToken.None);
        Assert.Equal(2, audit.Count(a => a.Action == AuditActions.ScheduledRetrain));
        Assert.Contains(audit, a => a.Action == AuditActions.ScheduledRetrain && a.Reason?.Contains("spec in force (version 2)", StringComparison.Ordinal) == true);

        // A new spec (another tolerance) may train something else: the next due time starts the run.
        var put = await host.Client.PutAsync($"/api/models/{Model}/spec", ApiAssert.Json(Spec.Replace("\"task\":\"regression\",", "\"task\":\"regression\",\"championTolerance\":0.02,", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        await timer.TickAsync(now.AddDays(24), client, CancellationToken.None);

        var started = Assert.Single((await host.RunIdsAsync(Model)).Except(before));
        Assert.Contains("-schedule-", started, StringComparison.Ordinal);
        await host.Client.PostAsync($"/api/orchestrations/{started}/terminate", null);
    }
}
