using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Tracking;
using Serverless.Orchestrations;
using Serverless.Orchestrations.Activities;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Orchestrations;

/// <summary>
/// A run's end is recorded once: a run stopped by a person leaves its end to the terminate route (which records it with
/// the person's reason), and of two writers racing to record an end, only the first records it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RunEndTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task TrainingEnded_OfARunStoppedInTheRegistry_IsNotRecordedByTheRun_AndAnEndIsRecordedOnce()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var activity = ActivatorUtilities.CreateInstance<RecordTrainingEvent>(host.Services);
        var audit = host.Services.GetRequiredService<AuditLog>();
        await host.Client.PutAsync("/api/models/ended/spec", ApiAssert.Json("""{"label":"fare_amount"}"""));
        TrainingAuditInput End(string id) => new("ended", id, AuditActions.TrainingEnded, AuditActors.Upload, "rejected", "rejected");

        await host.Services.GetRequiredService<ModelRegistry>().TerminateRunAsync("ended", "train-ended-1", "admin", "wrong data", CancellationToken.None);
        var stopped = await activity.RunAsync(End("train-ended-1"), CancellationToken.None);
        var first = await activity.RunAsync(End("train-ended-2"), CancellationToken.None);
        var second = await activity.RunAsync(End("train-ended-2"), CancellationToken.None);
        var claimedLate = await RunEnd.ClaimAsync(host.Storage, "ended", "train-ended-2", "admin", CancellationToken.None);

        Assert.Equal((false, true, false, false), (stopped, first, second, claimedLate));
        var ended = (await audit.ListAsync("ended", 20, CancellationToken.None)).Where(a => a.Action == AuditActions.TrainingEnded).ToList();
        Assert.Equal("train-ended-2", Assert.Single(ended).Details!.Value.GetProperty("instanceId").GetString());
        Assert.True(await RunEnd.ClaimAsync(host.Storage, "ended", "train-ended-1", "admin", CancellationToken.None), "the terminate route still records the stopped run's end");
    }
}
