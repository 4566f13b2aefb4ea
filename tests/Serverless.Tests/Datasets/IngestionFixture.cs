using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>An ingestor on the Azurite fixture, with helpers to upload a file and read what became of it.</summary>
public sealed class Ingestion
{
    public Ingestion(AzuriteFixture azurite, IngestionOptions? options = null)
    {
        Storage = azurite.CreateStorage();
        Specs = new ModelSpecStore(Storage);
        Datasets = new DatasetStore(Storage);
        Quarantine = new QuarantineStore(Storage);
        Audit = new AuditLog(Storage);
        DroppedSpecs = new DroppedSpecs(Storage, Specs, NullLogger<DroppedSpecs>.Instance);
        Ingestor = new DatasetIngestor(Storage, Specs, new SpecIntake(Specs, Datasets, Audit, NullLogger<SpecIntake>.Instance), DroppedSpecs, Datasets, Quarantine, Audit, Options.Create(options ?? new IngestionOptions()), NullLogger<DatasetIngestor>.Instance);
    }

    public PipelineStorage Storage { get; }
    public ModelSpecStore Specs { get; }
    public DatasetStore Datasets { get; }
    public QuarantineStore Quarantine { get; }
    public DroppedSpecs DroppedSpecs { get; }
    public DatasetIngestor Ingestor { get; }
    public AuditLog Audit { get; }

    public static string NewModel(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];

    public async Task<IngestionOutcome> IngestAsync(string blobName, byte[] content, ModelSpec? spec = null)
    {
        await Storage.EnsureCreatedAsync();
        if (spec is not null) await Specs.SetAsync(blobName.Split('/')[0], spec, CancellationToken.None);
        await Storage.Incoming.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(content), overwrite: true);
        return await Ingestor.IngestAsync(blobName, CancellationToken.None);
    }

    public Task<IngestionOutcome> IngestAsync(string blobName, string content, ModelSpec? spec = null) =>
        IngestAsync(blobName, Encoding.UTF8.GetBytes(content), spec);

    public async Task<string> ReadQuarantineAsync(IngestionOutcome outcome, string file) =>
        (await Storage.Quarantine.GetBlobClient(outcome.QuarantineBlob + file).DownloadContentAsync()).Value.Content.ToString();

    public async Task<byte[]> ReadQuarantineBytesAsync(IngestionOutcome outcome) =>
        (await Storage.Quarantine.GetBlobClient(outcome.QuarantineBlob + "original").DownloadContentAsync()).Value.Content.ToArray();

    public async Task<string> ReadDataAsync(DatasetManifest manifest) =>
        (await Storage.Datasets.GetBlobClient(manifest.DataBlob).DownloadContentAsync()).Value.Content.ToString();

    public async Task<JsonObject> ReportAsync(IngestionOutcome outcome) =>
        JsonNode.Parse(await ReadQuarantineAsync(outcome, "report.json"))!.AsObject();
}
