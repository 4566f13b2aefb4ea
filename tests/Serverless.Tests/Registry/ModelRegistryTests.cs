using Microsoft.Extensions.Logging.Abstractions;
using Serverless.Core.Datasets;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Registry;

[Collection(AzuriteCollection.Name)]
public sealed class ModelRegistryTests(AzuriteFixture azurite)
{
    private static ModelManifest Draft(string model, string runId) => new()
    {
        Model = model,
        Version = "",
        CreatedAt = DateTimeOffset.UtcNow,
        DatasetVersion = "ds-1",
        DatasetSha256 = new string('a', 64),
        Schema = new DatasetSchema { Columns = [new ColumnSchema("x", ColumnKind.Numeric), new ColumnSchema("y", ColumnKind.Numeric)], Label = "y", Task = TaskKind.Regression, Features = ["x"] },
        Candidate = new CandidateSpec("Sdca", new Dictionary<string, double>()),
        PrimaryMetric = "rmse",
        ValidationMetrics = new Dictionary<string, double> { ["rmse"] = 1 },
        TestMetrics = new Dictionary<string, double> { ["rmse"] = 1.1 },
        Splits = new SplitRefs("a", "b", "c", 42, 7, 2, 1),
        ModelBlob = "",
        Sha256 = "",
        SizeBytes = 0,
        Reproducibility = new Reproducibility(42, "5.0.1", "test", "net10", "linux"),
        OrchestrationId = "orch-" + runId,
        RunId = runId,
    };

    private async Task<(ModelRegistry Registry, string Model)> ArrangeAsync()
    {
        var storage = azurite.CreateStorage();
        await storage.EnsureCreatedAsync();
        return (new ModelRegistry(storage, NullLogger<ModelRegistry>.Instance), "reg-" + Guid.NewGuid().ToString("N")[..10]);
    }

    private static async Task<string> CandidateBlobAsync(ModelRegistry registry, Serverless.Core.Storage.PipelineStorage storage, string model, string runId, byte[] bytes)
    {
        var name = $"{model}/runs/{runId}/model.zip";
        await storage.Models.GetBlobClient(name).UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
        return name;
    }

    [Fact]
    public async Task RegisterAsync_SameRunTwice_RegistersOneVersion()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        var blob = await CandidateBlobAsync(registry, storage, model, "r1", [1, 2, 3]);

        var first = await registry.RegisterAsync(Draft(model, "r1"), blob, m => $"# {m.Version}", CancellationToken.None);
        var again = await registry.RegisterAsync(Draft(model, "r1"), blob, m => $"# {m.Version}", CancellationToken.None);

        Assert.Equal("v1", first.Version);
        Assert.Equal("v1", again.Version);
        Assert.Single((await registry.GetAsync(model, CancellationToken.None))!.Versions);
        Assert.Equal("039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81", first.Sha256);
        Assert.Equal("# v1", await registry.GetCardAsync(model, "v1", CancellationToken.None));
    }

    [Fact]
    public async Task SetAliasAsync_ManyConcurrentWriters_LosesNoUpdate()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        for (var i = 1; i <= 4; i++)
        {
            await registry.RegisterAsync(Draft(model, "r" + i), await CandidateBlobAsync(registry, storage, model, "r" + i, [(byte)i]), m => "", CancellationToken.None);
        }

        await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            registry.SetAliasAsync(model, "alias" + i, "v" + (i % 4 + 1), "test", "concurrency", CancellationToken.None)));

        var doc = await registry.GetAsync(model, CancellationToken.None);
        Assert.Equal(12, doc!.Aliases.Count);
        Assert.Equal(12, doc.History.Count);
        Assert.Equal(4, doc.LatestVersion);
    }

    [Fact]
    public async Task RollbackAsync_AfterTwoPromotions_ReturnsToPrevious_AndRejectsWhenNoHistory()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        await registry.RegisterAsync(Draft(model, "a"), await CandidateBlobAsync(registry, storage, model, "a", [1]), m => "", CancellationToken.None);
        await registry.RegisterAsync(Draft(model, "b"), await CandidateBlobAsync(registry, storage, model, "b", [2]), m => "", CancellationToken.None);
        await registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "t", "first", CancellationToken.None);

        await Assert.ThrowsAsync<ConflictException>(() => registry.RollbackAsync(model, "t", "none yet", CancellationToken.None));
        await registry.SetAliasAsync(model, ModelRegistry.Production, "v2", "t", "second", CancellationToken.None);
        var rolled = await registry.RollbackAsync(model, "t", "bad model", CancellationToken.None);

        Assert.Equal("v1", rolled.Document.Aliases[ModelRegistry.Production]);
        Assert.Equal(3, rolled.Document.History.Count);
        await Assert.ThrowsAsync<NotFoundException>(() => registry.SetAliasAsync(model, ModelRegistry.Production, "v9", "t", "missing", CancellationToken.None));
    }

    [Fact]
    public async Task LoadVerifiedAsync_TamperedModel_ThrowsIntegrityError()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        var manifest = await registry.RegisterAsync(Draft(model, "t"), await CandidateBlobAsync(registry, storage, model, "t", [9, 9]), m => "", CancellationToken.None);
        await storage.Models.GetBlobClient(manifest.ModelBlob).UploadAsync(BinaryData.FromBytes([6, 6, 6]), overwrite: true);

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => registry.LoadVerifiedAsync(model, "v1", CancellationToken.None));

        Assert.Contains("Integrity check failed", error.Message);
    }

    /// <summary>
    /// A run terminated while it registers: whichever of the terminate and the registration's two changes comes first,
    /// the version ends rejected and off staging, and production does not move to it.
    /// </summary>
    [Theory]
    [InlineData("before")]
    [InlineData("between")]
    [InlineData("after")]
    public async Task TerminateRun_RacingARegistration_LeavesItsVersionRejectedAndOffStaging(string terminated)
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        var blob = await CandidateBlobAsync(registry, storage, model, "r1", [1, 2, 3]);
        var draft = Draft(model, "r1");
        async Task<IReadOnlyList<string>> TerminateAsync() => (await registry.TerminateRunAsync(model, draft.OrchestrationId, "ops", "wrong data", CancellationToken.None)).Rejected;

        var rejectedByTerminate = terminated == "before" ? await TerminateAsync() : [];
        var manifest = await registry.RegisterAsync(draft, blob, m => $"# {m.Version}", CancellationToken.None);
        if (terminated == "between") rejectedByTerminate = await TerminateAsync();
        var staged = await registry.StageAsync(model, manifest.Version, VersionStatus.PendingApproval, draft.OrchestrationId, "waits", CancellationToken.None);
        if (terminated == "after") rejectedByTerminate = await TerminateAsync();

        var doc = (await registry.GetAsync(model, CancellationToken.None))!;
        var entry = Assert.Single(doc.Versions);
        Assert.Equal(VersionStatus.Rejected, entry.Status);
        Assert.Contains("was terminated before it finished", entry.StatusChanged!.Reason);
        Assert.False(doc.Aliases.ContainsKey(ModelRegistry.Staging));
        Assert.Equal(terminated == "after", staged is null);
        Assert.Equal(terminated == "before" ? [] : ["v1"], rejectedByTerminate);
        Assert.Equal([draft.OrchestrationId], doc.TerminatedRuns);
        await Assert.ThrowsAsync<ConflictException>(() => registry.PromoteAsync(model, "v1", "training", "the run's promotion", force: false, CancellationToken.None));
        // A withdrawn version is never staged again, even once the run is forgotten (its history purged).
        await registry.ForgetTerminatedRunAsync(model, draft.OrchestrationId, CancellationToken.None);
        Assert.Equal("v1 is rejected already", await registry.StageAsync(model, "v1", VersionStatus.PendingApproval, draft.OrchestrationId, "again", CancellationToken.None));
        doc = (await registry.GetAsync(model, CancellationToken.None))!;
        Assert.Empty(doc.TerminatedRuns);
        Assert.False(doc.Aliases.ContainsKey(ModelRegistry.Staging));
    }

    /// <summary>Decisions racing on one waiting version: one of them is the decision, the others are told it was taken.</summary>
    [Fact]
    public async Task DecidePending_RacingDecisions_ExactlyOneDecides()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        var manifest = await registry.RegisterAsync(Draft(model, "d1"), await CandidateBlobAsync(registry, storage, model, "d1", [5]), m => "#", CancellationToken.None);
        Assert.Null(await registry.StageAsync(model, manifest.Version, VersionStatus.PendingApproval, manifest.OrchestrationId, "waits", CancellationToken.None));

        var decided = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            registry.DecidePendingAsync(model, manifest.Version, i % 2 == 0 ? VersionStatus.Approved : VersionStatus.Rejected, $"person{i}", "race", CancellationToken.None)));

        Assert.Single(decided, d => d);
        var entry = Assert.Single((await registry.GetAsync(model, CancellationToken.None))!.Versions);
        Assert.Equal($"person{Array.IndexOf(decided, true)}", entry.StatusChanged!.By);
    }

    /// <summary>
    /// A run's promotion already on its way when a person terminates the run: the registry's swap finds the run stopped and
    /// moves nothing, though production still points where the run expected; another caller's promotion is unaffected.
    /// </summary>
    [Fact]
    public async Task CompareAndSetAlias_ForATerminatedRun_MovesNothing()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        var manifest = await registry.RegisterAsync(Draft(model, "p1") with { OrchestrationId = "run-p" }, await CandidateBlobAsync(registry, storage, model, "p1", [4]), m => "#", CancellationToken.None);
        Assert.Null(await registry.StageAsync(model, manifest.Version, VersionStatus.PendingApproval, "run-p", "waits", CancellationToken.None));
        Assert.True(await registry.DecidePendingAsync(model, manifest.Version, VersionStatus.Approved, "alice", "fine", CancellationToken.None));

        var stopped = await registry.TerminateRunAsync(model, "run-p", "ops", "stop it", CancellationToken.None);
        var swap = await registry.CompareAndSetAliasAsync(model, ModelRegistry.Production, manifest.Version, null, "approval", "the run's promotion", CancellationToken.None, forRun: "run-p");

        Assert.Equal((false, true, (string?)null), (swap.Swapped, swap.Stopped, swap.Current));
        Assert.Equal(("v1", VersionStatus.Approved, false), (stopped.Version, stopped.Status, stopped.InProduction));
        Assert.Empty(stopped.Rejected);
        Assert.True(await registry.IsTerminatedAsync(model, "run-p", CancellationToken.None));
        var byHand = await registry.CompareAndSetAliasAsync(model, ModelRegistry.Production, manifest.Version, null, "alice", "by hand", CancellationToken.None);
        Assert.True(byHand.Swapped);
    }

    [Fact]
    public async Task TerminateRun_LeavesItsProductionVersionAndAVersionAPersonApproved_AsTheyAre()
    {
        var storage = azurite.CreateStorage();
        var (registry, model) = await ArrangeAsync();
        var first = await registry.RegisterAsync(Draft(model, "r1") with { OrchestrationId = "run-a" }, await CandidateBlobAsync(registry, storage, model, "r1", [1]), m => "#", CancellationToken.None);
        await registry.StageAsync(model, first.Version, VersionStatus.Approved, "run-a", "no approval asked", CancellationToken.None);
        await registry.PromoteAsync(model, first.Version, "training", "run-a's winner", force: false, CancellationToken.None);
        var second = await registry.RegisterAsync(Draft(model, "r2") with { OrchestrationId = "run-a" }, await CandidateBlobAsync(registry, storage, model, "r2", [2]), m => "#", CancellationToken.None);
        await registry.StageAsync(model, second.Version, VersionStatus.PendingApproval, "run-a", "waits", CancellationToken.None);
        await registry.DecidePendingAsync(model, second.Version, VersionStatus.Approved, "alice", "looks right", CancellationToken.None);

        var stopped = await registry.TerminateRunAsync(model, "run-a", "ops", "too late", CancellationToken.None);

        Assert.Empty(stopped.Rejected);
        Assert.Equal(("v2", VersionStatus.Approved, false), (stopped.Version, stopped.Status, stopped.InProduction));
        var doc = (await registry.GetAsync(model, CancellationToken.None))!;
        Assert.Equal([VersionStatus.Approved, VersionStatus.Approved], doc.Versions.Select(v => v.Status));
        Assert.Equal(("v1", "v2"), (doc.Aliases[ModelRegistry.Production], doc.Aliases[ModelRegistry.Staging]));
        Assert.Equal(["run-a"], doc.TerminatedRuns);
    }
}
