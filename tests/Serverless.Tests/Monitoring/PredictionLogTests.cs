using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;
using static Serverless.Tests.Monitoring.MonitoringClient;

namespace Serverless.Tests.Monitoring;

/// <summary>The prediction log on a host with the shop models: what an entry holds, what it never holds, sampling, dropping, and the write at stop.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PredictionLogTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    private TestHost Host => shop.Host;

    [Fact]
    public async Task Predict_BatchRequest_LogsEachRowWithItsInputsAndAnswer()
    {
        var requestId = NewRequestId();
        var answer = await PredictWithIdAsync(Host, ShopData.Spend,
            """{"rows":[{"distance":3,"member":false,"city":"west"},{"distance":12.5,"member":"yes","city":"north"}]}""", requestId);

        var entries = (await LoggedAsync(Host, ShopData.Spend)).Where(e => e.RequestId == requestId).OrderBy(e => e.Row).ToList();

        Assert.Equal([0, 1], entries.Select(e => e.Row));
        Assert.All(entries, e => Assert.Equal("v1", e.ModelVersion));
        Assert.Equal(3, entries[0].Inputs["distance"].GetDouble());
        Assert.False(entries[0].Inputs["member"].GetBoolean());
        Assert.Equal("yes", entries[1].Inputs["member"].GetString());
        var predictions = answer["predictions"]!.AsArray();
        for (var r = 0; r < 2; r++)
        {
            Assert.Equal(predictions[r]!["score"]!.GetValue<float>(), entries[r].Output.Score);
        }
    }

    [Fact]
    public async Task ReadAsync_WithAKeyFilter_GivesTheEntriesOfTheWholeReadThatItAccepts()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, """{"distance":6,"member":false,"city":"west"}""", NewRequestId());
        await PredictWithIdAsync(Host, ShopData.Spend,
            """{"rows":[{"distance":3,"member":false,"city":"west"},{"distance":4,"member":true,"city":"north"},{"distance":5,"member":true,"city":"west"}]}""", requestId);
        var all = await LoggedAsync(Host, ShopData.Spend);
        var now = DateTimeOffset.UtcNow;

        var kept = new List<PredictionLogEntry>();
        await foreach (var entry in new PredictionLogReader(Host.Storage).ReadAsync(ShopData.Spend, now.AddHours(-1), now.AddMinutes(1),
                           keep: (id, row) => id == requestId && row != 1)) kept.Add(entry);

        Assert.True(all.Count > 3, "other requests are logged too");
        Assert.Equal([0, 2], kept.Select(e => e.Row).Order());
        Assert.All(kept, e => Assert.Equal(requestId, e.RequestId));
        Assert.Equal(all.Where(e => e.RequestId == requestId && e.Row != 1).Select(e => e.Inputs["distance"].GetDouble()).Order(),
            kept.Select(e => e.Inputs["distance"].GetDouble()).Order());
    }

    [Fact]
    public async Task ReadCountedAsync_CountsEveryRowByVersion_GivesWholeOnlyKeptAndShadowedRows()
    {
        // A log blob written as the writer writes it: rows of two versions, one shadowed row, one row before the range, a
        // row whose fields come in another order, and one whose request id is longer than the head reader takes (read
        // whole to be counted, and so given).
        const string model = "counted-log";
        var now = DateTimeOffset.UtcNow;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using var writer = new System.Text.Json.Utf8JsonWriter(buffer, PredictionLogEncoder.WriterOptions);
        void Line(string id, string version, DateTimeOffset time, string? shadow = null) => PredictionLogEncoder.WriteLine(writer, buffer, id, 0, time, version,
            """{"a":1}"""u8, new HashSet<string>(), new RowPrediction { Score = 1 }, shadow, shadow is null ? null : new RowPrediction { Score = 2 });
        for (var i = 0; i < 5; i++) Line($"r{i}", "v1", now);
        for (var i = 5; i < 8; i++) Line($"r{i}", "v2", now);
        Line("s1", "v2", now, shadow: "v3");
        Line("old", "v1", now.AddDays(-2));
        var longId = new string('x', 300);
        Line(longId, "v2", now);
        var text = Encoding.UTF8.GetString(buffer.WrittenSpan) +
                   $$"""{"modelVersion":"v2","output":{"score":1},"inputs":{"a":1},"time":"{{now:O}}","row":0,"requestId":"reordered"}""" + "\n";
        await Host.Storage.Monitoring.CreateIfNotExistsAsync();
        await Host.Storage.Monitoring.GetBlobClient(MonitoringPaths.PredictionLogBlob(model, "v1", now.AddMinutes(-1), "test", 0, compressed: false))
            .UploadAsync(BinaryData.FromString(text), overwrite: true);

        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var given = new List<PredictionLogEntry>();
        await foreach (var entry in new PredictionLogReader(Host.Storage).ReadCountedAsync(model, now.AddHours(-1), now.AddMinutes(1), (id, _) => id == "r6", counts)) given.Add(entry);

        Assert.Equal(5, counts["v1"]);
        Assert.Equal(6, counts["v2"]); // three rows, the shadowed one, the long id and the reordered one
        Assert.Equal(2, counts.Count);
        Assert.Equal(["r6", "s1", longId], given.Select(e => e.RequestId).Order(StringComparer.Ordinal));
        Assert.Equal("v3", Assert.Single(given, e => e.RequestId == "s1").ShadowVersion);
    }

    [Fact]
    public async Task Predict_RowWithSensitiveColumn_IsLoggedWithoutIt()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var entry = Assert.Single(await LoggedAsync(Host, ShopData.Spend), e => e.RequestId == requestId);

        Assert.DoesNotContain("email", entry.Inputs.Keys);
        Assert.Equal(["city", "day", "distance", "member", "note"], entry.Inputs.Keys.Order(StringComparer.Ordinal));
        Assert.NotNull(entry.Output.Score);
        var blobs = await Host.WaitForBlobsAsync(Host.Storage.Monitoring, MonitoringPaths.PredictionLogPrefix(ShopData.Spend), TimeSpan.FromSeconds(10),
            MonitoringPaths.JsonLinesGzipExtension);
        foreach (var blob in blobs)
        {
            Assert.EndsWith(MonitoringPaths.JsonLinesGzipExtension, blob, StringComparison.Ordinal);
            var stored = (await Host.Storage.Monitoring.GetBlobClient(blob).DownloadContentAsync()).Value.Content;
            Assert.Equal([0x1f, 0x8b], stored.ToArray()[..2]); // gzip's magic bytes
            using var content = new StreamReader(MonitoringPaths.OpenContent(blob, stored.ToStream()));
            var text = await content.ReadToEndAsync();
            Assert.Contains("\"requestId\"", text, StringComparison.Ordinal);
            Assert.DoesNotContain("ann@example.com", text, StringComparison.Ordinal);
            Assert.DoesNotContain("\"email\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Predict_ColumnMadeSensitiveOnThisHost_IsNotLoggedFromTheNextRequestOn()
    {
        var model = await CopyIntoProductionAsync(shop, "tosecret", ShopData.Spend);
        var before = NewRequestId();
        await PredictWithIdAsync(Host, model, ShopData.Row, before);

        var put = await Host.Client.PutAsync($"/api/models/{model}/spec", ApiAssert.Json("""{"sensitive":["city"]}"""));
        put.EnsureSuccessStatusCode();
        var after = NewRequestId();
        await PredictWithIdAsync(Host, model, ShopData.Row, after);

        var logged = await LoggedAsync(Host, model);
        Assert.Contains("city", Assert.Single(logged, e => e.RequestId == before).Inputs.Keys);
        Assert.DoesNotContain("city", Assert.Single(logged, e => e.RequestId == after).Inputs.Keys);
    }

    [Fact]
    public async Task Predict_SpecSampleRate_LogsExactlyTheRequestsTheIdHashPicks()
    {
        var model = await CopyIntoProductionAsync(shop, "sampled", ShopData.Spend);
        await Host.Services.GetRequiredService<ModelSpecStore>().SetAsync(model, new ModelSpec { Drift = new DriftSpec { SampleRate = 0.3 } }, CancellationToken.None);
        var ids = Enumerable.Range(0, 120).Select(i => $"sample-{model}-{i}").ToList();

        foreach (var id in ids) await PredictWithIdAsync(Host, model, ShopData.Row, id);
        var logged = (await LoggedAsync(Host, model)).Select(e => e.RequestId).ToHashSet();

        var expected = ids.Where(id => PredictionSampling.IsSampled(id, 0.3)).ToHashSet();
        Assert.Equal(expected.Order(), logged.Order());
        Assert.InRange(logged.Count, 20, 60);
    }

    [Fact]
    public async Task Health_AfterALoggedRequest_CountsItTakenAndWritten()
    {
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, NewRequestId());
        await LoggedAsync(Host, ShopData.Spend);

        var health = (await Host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/health"))!;

        Assert.True(health["predictionLog"]!["sampled"]!.GetValue<long>() >= 1);
        Assert.True(health["predictionLog"]!["writtenEntries"]!.GetValue<long>() >= 1);
        Assert.Equal(0, health["predictionLog"]!["dropped"]!.GetValue<long>());
        Assert.True(health["heldVersions"]!.GetValue<int>() >= 1);
    }

    [Fact]
    public async Task Offer_BufferFull_DropsAndCountsWithoutWaiting()
    {
        var storage = Host.Storage;
        var options = Options.Create(new PredictionLogOptions { BufferCapacity = 2 });
        var settings = new MonitoringSettingsCache(new ModelSpecStore(storage), options, Options.Create(new PredictionOptions()), NullLogger<MonitoringSettingsCache>.Instance);
        var buffer = new PredictionLogBuffer(options, settings);
        var manifest = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        using var row = System.Text.Json.JsonDocument.Parse(ShopData.Row);

        for (var i = 0; i < 5; i++)
        {
            var offered = buffer.OfferAsync(ShopData.Spend, manifest, production: true, $"drop-{i}", [row.RootElement], [new RowPrediction { Score = 1 }], CancellationToken.None);
            await offered;
        }

        Assert.Equal(2, buffer.Counts.Sampled);
        Assert.Equal(3, buffer.Counts.Dropped);
    }

    [Fact]
    public async Task StopAsync_EntriesStillBuffered_AreWrittenBeforeItReturns()
    {
        var (storage, buffer, writer) = NewWriter(new PredictionLogOptions { FlushInterval = TimeSpan.FromHours(1) });
        await writer.StartAsync(CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            await OfferRowAsync(buffer, $"stop-{i}", i);
        }
        await Task.Delay(300);
        var before = await ReadAllAsync(storage);
        await writer.StopAsync(CancellationToken.None);
        var after = await ReadAllAsync(storage);

        Assert.Empty(before);
        Assert.Equal(["stop-0", "stop-1", "stop-2"], after.Select(e => e.RequestId).Order());
        Assert.Equal(3, buffer.Counts.WrittenEntries);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Writer_SeveralAppendsToOneBlob_ReadBackInOrder_CompressedOrPlain(bool compress)
    {
        var (storage, buffer, writer) = NewWriter(new PredictionLogOptions { FlushInterval = TimeSpan.FromHours(1), Compress = compress });

        // Three flushes: three appends to the same blob (three gzip members when compressed).
        for (var i = 0; i < 3; i++)
        {
            await OfferRowAsync(buffer, $"append-{i}", i);
            await writer.FlushAsync(CancellationToken.None);
        }
        var entries = await ReadAllAsync(storage);
        var blobs = await LogBlobsAsync(storage);

        Assert.Equal(["append-0", "append-1", "append-2"], entries.Select(e => e.RequestId));
        Assert.Equal([0f, 1f, 2f], entries.Select(e => e.Output.Score ?? -1));
        var name = Assert.Single(blobs);
        Assert.EndsWith(compress ? MonitoringPaths.JsonLinesGzipExtension : MonitoringPaths.JsonLinesExtension, name, StringComparison.Ordinal);
        if (compress)
        {
            // A standard gzip reader sees one file of three lines.
            var stored = (await storage.Monitoring.GetBlobClient(name).DownloadContentAsync()).Value.Content;
            using var gzip = new System.IO.Compression.GZipStream(stored.ToStream(), System.IO.Compression.CompressionMode.Decompress);
            using var text = new StreamReader(gzip);
            Assert.Equal(3, (await text.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }
    }

    [Fact]
    public async Task Writer_BlockLargerThanOneAppend_IsSplitAtLineBreaksAndReadBackWhole()
    {
        // An append limit a few lines long, so one flush of 40 requests must be split several times.
        var (storage, buffer, writer) = NewWriter(new PredictionLogOptions { FlushInterval = TimeSpan.FromHours(1) }, maxAppendBytes: 300);

        for (var i = 0; i < 40; i++)
        {
            await OfferRowAsync(buffer, $"split-{i:D2}", i);
        }
        await writer.FlushAsync(CancellationToken.None);
        var entries = await ReadAllAsync(storage);
        var blobs = await LogBlobsAsync(storage);

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"split-{i:D2}"), entries.Select(e => e.RequestId));
        var properties = (await storage.Monitoring.GetBlobClient(Assert.Single(blobs)).GetPropertiesAsync()).Value;
        Assert.True(properties.BlobCommittedBlockCount >= 4, $"expected the flush split into several appends, saw {properties.BlobCommittedBlockCount}");
        Assert.Equal(40, buffer.Counts.WrittenEntries);
    }

    [Fact]
    public async Task Writer_Compressed_LinesBecomeMembersAsTheyCome_AppendedWhenTheyFillABlock_ReadBackByAGzipReader()
    {
        // Members of a few lines and blocks of a few members, so one flush of 40 requests makes many of each.
        var (storage, buffer, writer) = NewWriter(new PredictionLogOptions { FlushInterval = TimeSpan.FromHours(1) }, memberLines: 600, compressedBlockBytes: 900);

        for (var i = 0; i < 40; i++)
        {
            await OfferRowAsync(buffer, $"member-{i:D2}", i);
        }
        await writer.FlushAsync(CancellationToken.None);
        var entries = await ReadAllAsync(storage);
        var name = Assert.Single(await LogBlobsAsync(storage));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"member-{i:D2}"), entries.Select(e => e.RequestId));
        var properties = (await storage.Monitoring.GetBlobClient(name).GetPropertiesAsync()).Value;
        Assert.True(properties.BlobCommittedBlockCount >= 3, $"expected appends as blocks filled, saw {properties.BlobCommittedBlockCount}");
        var stored = (await storage.Monitoring.GetBlobClient(name).DownloadContentAsync()).Value.Content;
        using var gzip = new System.IO.Compression.GZipStream(stored.ToStream(), System.IO.Compression.CompressionMode.Decompress);
        using var text = new StreamReader(gzip);
        Assert.Equal(40, (await text.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(40, buffer.Counts.WrittenEntries);
    }

    [Fact]
    public async Task Writer_StorageUnreachable_CountsTheLostBatchAsFailedAndGoesOnOnceStorageIsBack()
    {
        // The writer reaches storage through a proxy that is not running yet: connection refused, until the SDK gives up
        // its retries with an AggregateException, as when Azurite is killed.
        await using var proxy = new StorageProxy(shop.Azurite);
        var (storage, buffer, writer) = NewWriter(new PredictionLogOptions { FlushInterval = TimeSpan.FromMilliseconds(100) }, writerConnectionString: proxy.ConnectionString);
        for (var i = 0; i < 3; i++)
        {
            await OfferRowAsync(buffer, $"outage-{i}", i);
        }
        await writer.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync(() => buffer.Counts.FailedEntries >= 3 || writer.ExecuteTask!.IsCompleted, TimeSpan.FromMinutes(2));
            Assert.False(writer.ExecuteTask!.IsCompleted, $"the writer's loop ended: {writer.ExecuteTask.Exception?.GetBaseException().Message}");
            Assert.Equal(3, buffer.Counts.FailedEntries);

            proxy.Start();
            await OfferRowAsync(buffer, "after-outage", 3);
            await WaitUntilAsync(() => buffer.Counts.WrittenEntries >= 1 || buffer.Counts.FailedEntries > 3, TimeSpan.FromMinutes(1));

            Assert.Equal(["after-outage"], (await ReadAllAsync(storage)).Select(e => e.RequestId));
            Assert.Equal((1, 3), (buffer.Counts.WrittenEntries, buffer.Counts.FailedEntries));
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Writer_StagingUnreachableForShadowScoring_LogsTheRequestWithProductionsAnswerAlone()
    {
        // Shadow on, and a staging version; the writer's prediction service reads the registry through a second host whose
        // blobs go through a proxy, stopped: the staging load meets an outage (the SDK gives up with an AggregateException)
        // while the log itself is written straight to storage.
        var model = $"shadow-outage-{Guid.NewGuid().ToString("N")[..8]}";
        await shop.TwoVersionsAsync(model, production: "v1", staging: "v2");
        await using var proxy = new StorageProxy(shop.Azurite);
        await using var host = await shop.StartHostThroughAsync(proxy, ("Pipeline:PredictionLog:Enabled", "false"));
        var (storage, buffer, writer) = NewWriter(new PredictionLogOptions { FlushInterval = TimeSpan.FromHours(1) }, predictions: host.Services.GetRequiredService<PredictionService>());
        await new ModelSpecStore(storage).SetAsync(model, new ModelSpec { Shadow = true }, CancellationToken.None);
        proxy.Stop();
        await OfferRowAsync(buffer, "shadow-outage-0", 0, model);
        await OfferRowAsync(buffer, "shadow-outage-1", 1, model);

        await writer.FlushAsync(CancellationToken.None);
        proxy.Start(); // so that the host stops cleanly

        var entries = await ReadAllAsync(storage, model);
        Assert.Equal(["shadow-outage-0", "shadow-outage-1"], entries.Select(e => e.RequestId).Order());
        Assert.All(entries, e => Assert.Null(e.ShadowVersion));
        Assert.Equal((2, 0), (buffer.Counts.WrittenEntries, buffer.Counts.FailedEntries));
    }

    private static async Task WaitUntilAsync(Func<bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not done within {timeout}.");
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A writer of its own, on storage of its own, that runs only when a test flushes or stops it. With
    /// <paramref name="writerConnectionString"/> the writer alone reaches that storage another way (the containers are the same).
    /// </summary>
    private (PipelineStorage Storage, PredictionLogBuffer Buffer, PredictionLogWriter Writer) NewWriter(PredictionLogOptions settings, int? maxAppendBytes = null,
        int? memberLines = null, int? compressedBlockBytes = null, string? writerConnectionString = null, PredictionService? predictions = null)
    {
        var suffix = Serverless.Testing.IsolatedLayout.NewSuffix();
        var storage = new PipelineStorage(Options.Create(Serverless.Testing.IsolatedLayout.Storage(shop.Azurite.ConnectionString, suffix)));
        var writerStorage = writerConnectionString is null
            ? storage
            : new PipelineStorage(Options.Create(Serverless.Testing.IsolatedLayout.Storage(writerConnectionString, suffix)));
        var options = Options.Create(settings);
        var serving = Options.Create(new PredictionOptions());
        var buffer = new PredictionLogBuffer(options, new MonitoringSettingsCache(new ModelSpecStore(storage), options, serving, NullLogger<MonitoringSettingsCache>.Instance));
        var writer = new PredictionLogWriter(buffer, predictions ?? Host.Services.GetRequiredService<PredictionService>(), writerStorage, options, serving, NullLogger<PredictionLogWriter>.Instance)
        {
            MaxAppendBytes = maxAppendBytes ?? PredictionLogWriter.AppendLimit,
            MemberLines = memberLines ?? PredictionLogWriter.DefaultMemberLines,
            CompressedBlockBytes = compressedBlockBytes ?? PredictionLogWriter.DefaultCompressedBlockBytes,
        };
        return (storage, buffer, writer);
    }

    /// <summary>Offers the shop's example row as a production request of v1 (of the shop's spend model, or <paramref name="model"/>) answered with <paramref name="score"/>.</summary>
    private async Task OfferRowAsync(PredictionLogBuffer buffer, string requestId, float score, string model = ShopData.Spend)
    {
        var manifest = (await shop.Registry.GetManifestAsync(model, "v1", CancellationToken.None))!;
        using var row = System.Text.Json.JsonDocument.Parse(ShopData.Row);
        await buffer.OfferAsync(model, manifest, production: true, requestId, [row.RootElement], [new RowPrediction { Score = score }], CancellationToken.None);
    }

    private static async Task<List<string>> LogBlobsAsync(PipelineStorage storage)
    {
        var names = new List<string>();
        await foreach (var blob in storage.Monitoring.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None,
                           MonitoringPaths.PredictionLogPrefix(ShopData.Spend), CancellationToken.None)) names.Add(blob.Name);
        return names;
    }

    private static async Task<List<PredictionLogEntry>> ReadAllAsync(PipelineStorage storage, string model = ShopData.Spend)
    {
        var entries = new List<PredictionLogEntry>();
        var now = DateTimeOffset.UtcNow;
        await foreach (var entry in new PredictionLogReader(storage).ReadAsync(model, now.AddHours(-1), now.AddMinutes(1))) entries.Add(entry);
        return entries;
    }
}
