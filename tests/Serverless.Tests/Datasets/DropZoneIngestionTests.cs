using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Microsoft.DurableTask.Client;
using Serverless.LocalHost.Triggers;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>Ingestion as the local host runs it: options from configuration, and the blob trigger's handling of repeated data.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DropZoneIngestionTests(AzuriteFixture azurite)
{
    private static readonly string ThirtyPercentRagged =
        "a,b,label\n" + string.Join("\n", Enumerable.Range(0, 100).Select(i => i % 10 < 3 ? $"{i},{i}" : $"{i},{i * 2},{i % 2}")) + "\n";

    private static async Task<IngestionOutcome> IngestOnHostAsync(TestHost host, string blobName, string content)
    {
        await host.UploadAsync(blobName.Split('/')[0], blobName.Split('/')[1], content);
        return await host.Services.GetRequiredService<DatasetIngestor>().IngestAsync(blobName, CancellationToken.None);
    }

    [Fact]
    public async Task Ingest_RowErrorShareOverTheDefaultThreshold_IsQuarantined()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });

        var outcome = await IngestOnHostAsync(host, "strict/ragged.csv", ThirtyPercentRagged);

        Assert.Equal(IngestionStatus.Quarantined, outcome.Status);
        Assert.Equal([ReasonCodes.TooManyInvalidRows], outcome.ReasonCodes);
    }

    [Fact]
    public async Task Ingest_RowErrorThresholdRaisedInConfiguration_AcceptsTheFileAndCountsTheRejectedRows()
    {
        await using var host = await TestHost.StartAsync(azurite, new()
        {
            ["Pipeline:BlobTrigger:Enabled"] = "false",
            ["Pipeline:Ingestion:MaxInvalidRowShare"] = "0.5",
        });

        var outcome = await IngestOnHostAsync(host, "lenient/ragged.csv", ThirtyPercentRagged);

        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        Assert.Equal([ReasonCodes.RowsRejected], outcome.ReasonCodes);
        var manifest = (await new DatasetStore(host.Storage).GetManifestAsync("lenient", outcome.DatasetVersion!, CancellationToken.None))!;
        Assert.Equal(70, manifest.Rows);
        Assert.Equal(30, manifest.RowsRejected);
    }

    /// <summary>The same rows under another name map to the same dataset version, whose training already ran: no second run starts.</summary>
    [Fact]
    public async Task DropZone_SameDataUploadedAgain_IsADuplicateAndStartsNoTraining()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var poller = host.Services.GetRequiredService<IncomingBlobPoller>();
        var workflows = host.Services.GetRequiredService<DurableTaskClient>();
        var datasets = new DatasetStore(host.Storage);
        var data = TestData.TaxiSlice(300);
        await host.UploadAsync("again", "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync("again", "monday.csv", data);
        await poller.PollOnceAsync(CancellationToken.None);
        var version = Assert.Single(await datasets.ListVersionsAsync("again", CancellationToken.None)).Version;
        var instanceId = Serverless.Orchestrations.DropZone.TrainingInstanceId("again", version);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var trained = await workflows.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: false, timeout.Token);

        await host.UploadAsync("again", "tuesday.csv", data);
        var handled = await poller.PollOnceAsync(CancellationToken.None);

        Assert.Equal(1, handled);
        Assert.Single(await datasets.ListVersionsAsync("again", CancellationToken.None));
        var after = (await workflows.GetInstanceAsync(instanceId, CancellationToken.None))!;
        Assert.Equal(OrchestrationRuntimeStatus.Completed, trained.RuntimeStatus);
        Assert.Equal(trained.RuntimeStatus, after.RuntimeStatus);
        Assert.Equal(trained.CreatedAt, after.CreatedAt);
        Assert.Equal(trained.LastUpdatedAt, after.LastUpdatedAt);
        var audit = await new AuditLog(host.Storage).ListAsync("again", 50, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == "duplicate" && a.Details is { } d && d.GetProperty("blobName").GetString()!.Contains("again/tuesday.csv", StringComparison.Ordinal) && d.GetProperty("datasetVersion").GetString() == version);
    }
}

/// <summary>Memory used by ingestion does not grow with the file: a file eight times larger allocates no more.</summary>
public sealed class BoundedMemoryTests
{
    private static string ScaledTaxi(long bytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bounded-{Guid.NewGuid():N}.csv");
        var lines = File.ReadAllLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv"));
        using var writer = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 16);
        writer.Write(lines[0] + "\n");
        for (long written = 0; written < bytes;)
        {
            foreach (var line in lines.Skip(1))
            {
                writer.Write(line + "\n");
                written += line.Length + 1;
            }
        }
        return path;
    }

    private static long AllocatedWhileIngesting(DatasetFileProcessor processor, string path)
    {
        var output = path + ".out";
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = processor.Process(path, new ModelSpec { Label = "fare_amount" }, null, output, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(result.Rows > 0);
        File.Delete(output);
        return allocated;
    }

    [Fact]
    public void ProcessFile_FileEightTimesLarger_AllocatesNoMoreThanTheSmallerOne()
    {
        var processor = new DatasetFileProcessor(new IngestionOptions(), null!);
        var small = ScaledTaxi(8L << 20);
        var large = ScaledTaxi(64L << 20);
        try
        {
            AllocatedWhileIngesting(processor, small);

            var smallAllocated = AllocatedWhileIngesting(processor, small);
            var largeAllocated = AllocatedWhileIngesting(processor, large);

            Assert.True(largeAllocated < smallAllocated + (1 << 20), $"8 MB: {smallAllocated:N0} bytes allocated, 64 MB: {largeAllocated:N0}");
            Assert.True(largeAllocated < 32 << 20, $"64 MB: {largeAllocated:N0} bytes allocated");
        }
        finally
        {
            File.Delete(small);
            File.Delete(large);
        }
    }
}
