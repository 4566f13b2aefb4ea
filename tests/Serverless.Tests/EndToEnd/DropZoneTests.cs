using System.Net;
using Serverless.Core.Datasets;
using Serverless.LocalHost.Triggers;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>The local blob trigger: many files at once are each handled exactly once, also across a restart.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DropZoneTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ManyFilesAtOnce_ForSeveralModels_AreEachHandledOnce_AndNotAgainAfterRestart()
    {
        var settings = new Dictionary<string, string> { ["Pipeline:BlobTrigger:Enabled"] = "false" };
        await using var first = await TestHost.StartAsync(azurite, settings);
        var shared = new Dictionary<string, string>(IsolatedLayout.Settings(azurite.ConnectionString, first.Suffix).Concat(settings));
        var rows = TestData.TaxiSlice(400).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var model in new[] { "alpha", "beta", "gamma" })
        {
            await first.UploadAsync(model, "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"}]}""");
            for (var part = 0; part < 3; part++)
            {
                var slice = rows.Skip(1 + part * 100 + model.Length).Take(100);
                await first.UploadAsync(model, $"part{part}.csv", rows[0] + "\n" + string.Join('\n', slice) + "\n");
            }
        }
        await first.UploadAsync("alpha", "broken.csv", "");

        // Two pollers race over the same blobs, as two hosts on one storage account would.
        var pollerA = first.Services.GetRequiredService<IncomingBlobPoller>();
        await using var second = await TestHost.StartAsync(azurite, shared);
        var pollerB = second.Services.GetRequiredService<IncomingBlobPoller>();
        var handled = await Task.WhenAll(pollerA.PollOnceAsync(CancellationToken.None), pollerB.PollOnceAsync(CancellationToken.None));

        Assert.Equal(13, handled.Sum());
        var datasets = new DatasetStore(first.Storage);
        foreach (var model in new[] { "alpha", "beta", "gamma" })
        {
            Assert.Equal(3, (await datasets.ListVersionsAsync(model, CancellationToken.None)).Count);
        }
        var quarantined = await first.WaitForBlobsAsync(first.Storage.Quarantine, "alpha/", TimeSpan.FromSeconds(10), "summary.txt");
        Assert.Single(quarantined, n => n.EndsWith("summary.txt", StringComparison.Ordinal));

        await using var restarted = await TestHost.StartAsync(azurite, shared);
        var again = await restarted.Services.GetRequiredService<IncomingBlobPoller>().PollOnceAsync(CancellationToken.None);

        Assert.Equal(0, again);
        Assert.Equal(HttpStatusCode.OK, (await restarted.Client.GetAsync("/api/health")).StatusCode);
    }

    [Fact]
    public async Task ClaimOfADeadHost_IsTakenOverOnlyAfterTheLeaseExpires()
    {
        await using var host = await TestHost.StartAsync(azurite, new()
        {
            ["Pipeline:BlobTrigger:Enabled"] = "false",
            ["Pipeline:BlobTrigger:ClaimTimeout"] = "00:00:02",
        });
        await host.UploadAsync("crash", "model.json", """{"label":"fare_amount","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync("crash", "data.csv", TestData.TaxiSlice(100));
        var receipts = host.Services.GetRequiredService<BlobReceipts>();
        var poller = host.Services.GetRequiredService<IncomingBlobPoller>();
        var data = await host.Storage.Incoming.GetBlobClient("crash/data.csv").GetPropertiesAsync();
        var dead = await receipts.TryClaimAsync("crash/data.csv", data.Value.ETag.ToString(), "dead-host", TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.NotNull(dead);

        var whileHeld = await poller.PollOnceAsync(CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var afterExpiry = await poller.PollOnceAsync(CancellationToken.None);

        Assert.Equal(1, whileHeld);
        Assert.Equal(1, afterExpiry);
        Assert.Single(await new DatasetStore(host.Storage).ListVersionsAsync("crash", CancellationToken.None));
    }
}
