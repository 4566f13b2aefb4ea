using System.Security.Cryptography;
using System.Text;
using Serverless.Core.Datasets;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>Orders of class values, and reading exactly the blob version whose ETag the lineage records.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class IngestionEdgeTests(AzuriteFixture azurite)
{
    [Fact]
    public void CompareClasses_MixedNumbersAndText_NumbersFirstByValueThenTextOrdinally()
    {
        List<string> classes = ["b", "10", "1f", "2", "a", "1.0", "1e5", "1"];

        classes.Sort(ClassOrder.Compare);

        Assert.Equal(["1", "1.0", "2", "10", "1e5", "1f", "a", "b"], classes);
    }

    [Fact]
    public void CompareClasses_IsATotalOrder_OnValuesThatBrokeTransitivity()
    {
        string[] values = ["2", "1e5", "1f", "10", "0x1", "-3", "NaNa", "1.0", "1", "z", "", "+1"];

        foreach (var a in values)
        foreach (var b in values)
        {
            Assert.Equal(Math.Sign(ClassOrder.Compare(a, b)), -Math.Sign(ClassOrder.Compare(b, a)));
            foreach (var c in values)
            {
                if (ClassOrder.Compare(a, b) < 0 && ClassOrder.Compare(b, c) < 0)
                {
                    Assert.True(ClassOrder.Compare(a, c) < 0, $"{a} < {b} < {c} but not {a} < {c}");
                }
            }
        }
    }

    [Fact]
    public async Task DownloadAsync_BlobOverwrittenAfterItsETagWasRead_ReadsNothing()
    {
        var storage = azurite.CreateStorage();
        await storage.EnsureCreatedAsync();
        var blob = storage.Incoming.GetBlobClient($"race-{Guid.NewGuid():N}/data.csv");
        await blob.UploadAsync(BinaryData.FromString("a,b\n1,2\n"));
        var read = (await blob.GetPropertiesAsync()).Value.ETag;
        var path = Path.GetTempFileName();

        var current = await UploadFiles.DownloadAsync(blob, read, path, CancellationToken.None);
        await blob.UploadAsync(BinaryData.FromString("a,b\n3,4\n"), overwrite: true);
        var stale = await UploadFiles.DownloadAsync(blob, read, path, CancellationToken.None);
        File.Delete(path);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("a,b\n1,2\n"))), current!.Value.Sha256);
        Assert.Null(stale);
    }

    private static string Rows(int count, int from = 0) =>
        string.Concat(Enumerable.Range(from, count).Select(i => $"{i},{i * 3 % 17},{i % 2}\n"));

    [Fact]
    public async Task Ingest_GzipCutShort_IsQuarantinedAsTruncatedNotReadAsFewerRows()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("cut");
        var whole = TestData.Gzip("a,b,label\n" + Rows(2000));
        var upload = whole[..(whole.Length * 2 / 3)];

        var outcome = await ingestion.IngestAsync($"{model}/cut.csv.gz", upload);

        Assert.Equal(IngestionStatus.Quarantined, outcome.Status);
        Assert.Equal([ReasonCodes.TruncatedGzip], outcome.ReasonCodes);
        Assert.Equal(upload, await ingestion.ReadQuarantineBytesAsync(outcome));
        Assert.Contains("upload the whole file again", (await ingestion.ReportAsync(outcome)).ToJsonString());
    }

    [Fact]
    public async Task Ingest_GzipOfConcatenatedMembers_KeepsTheRowsOfEveryMember()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("members");
        byte[] upload = [.. TestData.Gzip("a,b,label\n" + Rows(300)), .. TestData.Gzip(Rows(200, from: 300))];

        var outcome = await ingestion.IngestAsync($"{model}/two.csv.gz", upload);

        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        var manifest = await ingestion.Datasets.GetManifestAsync(model, outcome.DatasetVersion!, CancellationToken.None);
        Assert.Equal(500, manifest!.Rows);
    }

    [Fact]
    public async Task Ingest_GzipDecompressingPastTheLimit_IsQuarantinedAndKeptWhole()
    {
        var ingestion = new Ingestion(azurite, new IngestionOptions { MaxDecompressedBytes = 1 << 20 });
        var model = Ingestion.NewModel("bomb");
        using var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = Encoding.UTF8.GetBytes("1,2,3\n");
            await gzip.WriteAsync(Encoding.UTF8.GetBytes("a,b,c\n"));
            for (var i = 0; i < 8 << 20; i += row.Length) await gzip.WriteAsync(row);
        }
        var upload = compressed.ToArray();

        var outcome = await ingestion.IngestAsync($"{model}/big.csv.gz", upload);

        Assert.Equal(IngestionStatus.Quarantined, outcome.Status);
        Assert.Equal([ReasonCodes.DecompressedTooLarge], outcome.ReasonCodes);
        Assert.Equal(upload, await ingestion.ReadQuarantineBytesAsync(outcome));
        Assert.Contains("MaxDecompressedBytes", (await ingestion.ReportAsync(outcome)).ToJsonString());
    }
}
