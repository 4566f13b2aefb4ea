using System.Text;
using Serverless.Core.Datasets;
using Serverless.Core.Specs;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Datasets;

/// <summary>
/// A spec dropped into <c>incoming/{model}/model.json</c> is in force before the data dropped after it, whatever order
/// the triggers run in: the Functions host gives none (Event Grid delivers each blob to any instance, the polling trigger
/// runs two at a time), so these drive the ingestor as its triggers would, a data file first or both at once, without
/// the local poller's ordering.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DroppedSpecOrderTests(AzuriteFixture azurite)
{
    private static readonly ModelSpec InForce = new() { Label = "y" };
    private const string Dropped = """{"label":"a","task":"regression","sensitive":["email"]}""";
    private const string BadDropped = """{"lable":"a","sensitive":["email"]}""";

    /// <summary>Rows of email, a, b, y; a different <paramref name="offset"/> makes different data.</summary>
    private static string Rows(int offset = 0) =>
        "email,a,b,y\n" + string.Join("\n", Enumerable.Range(offset, 40).Select(i => $"u{i}@example.org,{i},{i * 3 % 7},{i % 5}")) + "\n";

    private static async Task DropAsync(Ingestion ingestion, string blobName, string content)
    {
        await ingestion.Storage.EnsureCreatedAsync();
        await ingestion.Storage.Incoming.GetBlobClient(blobName).UploadAsync(BinaryData.FromString(content), overwrite: true);
    }

    private static async Task<DatasetManifest> ManifestAsync(Ingestion ingestion, string model, IngestionOutcome outcome) =>
        (await ingestion.Datasets.GetManifestAsync(model, outcome.DatasetVersion!, CancellationToken.None))!;

    private static async Task<List<AuditRecord>> AuditAsync(Ingestion ingestion, string model, string action) =>
        [.. (await ingestion.Audit.ListAsync(model, 100, CancellationToken.None)).Where(r => r.Action == action)];

    [Fact]
    public async Task IngestData_NewerSpecWaitingInIncoming_IsReadUnderThatSpec()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("order");
        await ingestion.Specs.SetAsync(model, InForce, CancellationToken.None);
        await DropAsync(ingestion, ModelSpecStore.BlobName(model), Dropped);
        await DropAsync(ingestion, $"{model}/data.csv", Rows());

        var outcome = await ingestion.Ingestor.IngestAsync($"{model}/data.csv", CancellationToken.None);

        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        var manifest = await ManifestAsync(ingestion, model, outcome);
        Assert.Equal("a", manifest.Schema.Label);
        Assert.Equal(["email"], manifest.Schema.Sensitive);
        Assert.DoesNotContain("email", manifest.Schema.Features);
        Assert.Equal(2, manifest.Spec!.Version);
        var current = (await ingestion.Specs.GetCurrentAsync(model, CancellationToken.None))!;
        Assert.Equal($"{ingestion.Storage.Incoming.Name}/{ModelSpecStore.BlobName(model)}", current.Source);
    }

    [Fact]
    public async Task SpecTrigger_AfterADataFileBroughtTheSpecIn_AddsNoVersionNorAuditRecord()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("late");
        await ingestion.Specs.SetAsync(model, InForce, CancellationToken.None);
        await DropAsync(ingestion, ModelSpecStore.BlobName(model), Dropped);
        await DropAsync(ingestion, $"{model}/data.csv", Rows());
        await ingestion.Ingestor.IngestAsync($"{model}/data.csv", CancellationToken.None);

        var late = await ingestion.Ingestor.IngestAsync(ModelSpecStore.BlobName(model), CancellationToken.None);

        Assert.Equal(IngestionStatus.Ignored, late.Status);
        Assert.Contains($"before {model}/data.csv", late.Message);
        Assert.Equal([1, 2], (await ingestion.Specs.HistoryAsync(model, CancellationToken.None)).Select(v => v.Version));
        Assert.Single(await AuditAsync(ingestion, model, AuditActions.SpecChanged));
    }

    /// <summary>A spec set over HTTP after the dropped one came in is not undone by the dropped spec's own trigger running late.</summary>
    [Fact]
    public async Task SpecTrigger_LateAfterASpecWasSetOverHttp_LeavesTheNewerSpecInForce()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("put");
        await DropAsync(ingestion, ModelSpecStore.BlobName(model), Dropped);
        await DropAsync(ingestion, $"{model}/data.csv", Rows());
        await ingestion.Ingestor.IngestAsync($"{model}/data.csv", CancellationToken.None);
        var intake = new SpecIntake(ingestion.Specs, ingestion.Datasets, ingestion.Audit, Microsoft.Extensions.Logging.Abstractions.NullLogger<SpecIntake>.Instance);
        await intake.AcceptAsync(model, Encoding.UTF8.GetBytes("""{"label":"b","task":"regression"}"""), "api", "api", null, CancellationToken.None);

        await ingestion.Ingestor.IngestAsync(ModelSpecStore.BlobName(model), CancellationToken.None);

        var current = (await ingestion.Specs.GetCurrentAsync(model, CancellationToken.None))!;
        Assert.Equal(2, current.Version);
        Assert.Equal("b", current.Spec.Label);
    }

    [Fact]
    public async Task IngestData_BadSpecWaitingInIncoming_QuarantinesTheSpecAndSaysTheDataWasReadUnderTheSpecInForce()
    {
        var ingestion = new Ingestion(azurite);
        var model = Ingestion.NewModel("refused");
        await ingestion.Specs.SetAsync(model, InForce, CancellationToken.None);
        await DropAsync(ingestion, ModelSpecStore.BlobName(model), BadDropped);
        await DropAsync(ingestion, $"{model}/data.csv", Rows());

        var outcome = await ingestion.Ingestor.IngestAsync($"{model}/data.csv", CancellationToken.None);

        Assert.Equal(IngestionStatus.Accepted, outcome.Status);
        Assert.Equal([ReasonCodes.DroppedSpecRefused], outcome.ReasonCodes);
        Assert.Contains("was refused", outcome.Message);
        Assert.Contains("read under spec version 1, the one in force", outcome.Message);
        Assert.Equal("y", (await ManifestAsync(ingestion, model, outcome)).Schema.Label);
        var spec = Assert.Single(await ingestion.Quarantine.ListAsync(model, CancellationToken.None));
        Assert.Equal(ModelSpecStore.BlobName(model), spec.Report.Blob);
        Assert.Equal(["spec_invalid"], spec.Report.ReasonCodes);
        Assert.Contains("did you mean 'label'?", spec.Report.Reason);
        var ingested = Assert.Single(await AuditAsync(ingestion, model, AuditActions.Ingested));
        Assert.Equal(spec.Location, ingested.Details!.Value.GetProperty("refusedSpec").GetString());
    }

    /// <summary>
    /// The spec's trigger and data triggers on two instances at once, several rounds: the spec comes in once (one version,
    /// one audit record), and every data file is read under it.
    /// </summary>
    [Fact]
    public async Task SpecAndDataTriggers_AtOnceOnTwoInstances_BringTheSpecInOnceAndReadEveryFileUnderIt()
    {
        var instances = new[] { new Ingestion(azurite), new Ingestion(azurite) };
        for (var round = 0; round < 4; round++)
        {
            var model = Ingestion.NewModel("race");
            await instances[0].Specs.SetAsync(model, InForce, CancellationToken.None);
            await DropAsync(instances[0], ModelSpecStore.BlobName(model), Dropped);
            var files = Enumerable.Range(0, 3).Select(i => $"{model}/part{i}.csv").ToList();
            for (var i = 0; i < files.Count; i++) await DropAsync(instances[0], files[i], Rows(offset: 100 * i));

            var triggers = files.Select((file, i) => Task.Run(() => instances[i % 2].Ingestor.IngestAsync(file, CancellationToken.None))).ToList();
            triggers.Add(Task.Run(() => instances[1].Ingestor.IngestAsync(ModelSpecStore.BlobName(model), CancellationToken.None)));
            var outcomes = await Task.WhenAll(triggers);

            foreach (var data in outcomes[..files.Count])
            {
                Assert.Equal(IngestionStatus.Accepted, data.Status);
                var manifest = await ManifestAsync(instances[0], model, data);
                Assert.Equal((2, "a"), (manifest.Spec!.Version, manifest.Schema.Label));
            }
            Assert.Equal([1, 2], (await instances[0].Specs.HistoryAsync(model, CancellationToken.None)).Select(v => v.Version));
            Assert.Single(await AuditAsync(instances[0], model, AuditActions.SpecChanged));
        }
    }

    [Fact]
    public async Task SpecAndDataTriggers_AtOnceWithABadSpec_QuarantineItOnce()
    {
        var instances = new[] { new Ingestion(azurite), new Ingestion(azurite) };
        var model = Ingestion.NewModel("badrace");
        await instances[0].Specs.SetAsync(model, InForce, CancellationToken.None);
        await DropAsync(instances[0], ModelSpecStore.BlobName(model), BadDropped);
        var files = Enumerable.Range(0, 3).Select(i => $"{model}/part{i}.csv").ToList();
        for (var i = 0; i < files.Count; i++) await DropAsync(instances[0], files[i], Rows(offset: 100 * i));

        var triggers = files.Select((file, i) => Task.Run(() => instances[i % 2].Ingestor.IngestAsync(file, CancellationToken.None))).ToList();
        triggers.Add(Task.Run(() => instances[1].Ingestor.IngestAsync(ModelSpecStore.BlobName(model), CancellationToken.None)));
        var outcomes = await Task.WhenAll(triggers);

        Assert.All(outcomes[..files.Count], data => Assert.Equal([ReasonCodes.DroppedSpecRefused], data.ReasonCodes));
        Assert.Single(await instances[0].Quarantine.ListAsync(model, CancellationToken.None));
        Assert.Single(await AuditAsync(instances[0], model, AuditActions.Quarantine));
        Assert.Equal(1, (await instances[0].Specs.GetCurrentAsync(model, CancellationToken.None))!.Version);
    }
}
