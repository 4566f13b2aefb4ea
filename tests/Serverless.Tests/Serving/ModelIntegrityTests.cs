using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Serving;

/// <summary>A model whose bytes no longer match its manifest's sha256 is never loaded: hosts keep what they verified, or answer 503, and it is audited.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ModelIntegrityTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    private TestHost Host => shop.Host;

    [Fact]
    public async Task Predict_ServedVersionOverwritten_HostKeepsServingWhatItVerified()
    {
        var model = await ProductionCopyAsync("kept");
        var before = await SingleAsync(Host, model, ShopData.Row);

        await TamperAsync(model, "v1");
        await Host.Services.GetRequiredService<PredictionService>().RefreshAsync(model, CancellationToken.None);
        var after = await PredictAsync(Host, model, ShopData.Row);

        Assert.Equal("v1", after["modelVersion"]!.GetValue<string>());
        Assert.Equal(Score(before), Score(after["predictions"]![0]!.AsObject()));
    }

    [Fact]
    public async Task Predict_ProductionMovedToATamperedVersion_HostKeepsServingTheLastVerifiedOneAndHealthSaysSo()
    {
        var model = await ProductionCopyAsync("moved");
        await PredictAsync(Host, model, ShopData.Row);
        await shop.RegisterCopyAsync(model);
        await TamperAsync(model, "v2");

        // Moved in the registry itself, as a second writer could, past the check the promote route makes.
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v2", "test", "integrity", CancellationToken.None);
        await Host.Services.GetRequiredService<PredictionService>().RefreshAsync(model, CancellationToken.None);
        var answer = await PredictAsync(Host, model, ShopData.Row);
        var health = (await Host.Client.GetFromJsonAsync<JsonObject>("/api/health"))!;

        Assert.Equal("v1", answer["modelVersion"]!.GetValue<string>());
        Assert.Equal("degraded", health["status"]!.GetValue<string>());
        var unserved = Assert.Single(health["unserved"]!.AsArray(), u => u!["model"]!.GetValue<string>() == model)!;
        Assert.Equal(("production", "v2", "v1"), (unserved["alias"]!.GetValue<string>(), unserved["version"]!.GetValue<string>(), unserved["servedInstead"]!.GetValue<string>()));
        Assert.Contains("failed its integrity check", unserved["reason"]!.GetValue<string>());
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "integrity", CancellationToken.None);
        await Host.Services.GetRequiredService<PredictionService>().RefreshAsync(model, CancellationToken.None);
        Assert.DoesNotContain((await Host.Client.GetFromJsonAsync<JsonObject>("/api/health"))!["unserved"]!.AsArray(), u => u!["model"]!.GetValue<string>() == model);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Promote_TamperedVersion_Is409AuditedWithTheCaller_AndProductionStays(bool force)
    {
        var model = await ProductionCopyAsync("promote");
        await shop.RegisterCopyAsync(model);
        await TamperAsync(model, "v2");

        var problem = await ApiAssert.ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/promote", ApiAssert.Json($$"""{"version":"v2","force":{{(force ? "true" : "false")}},"reason":"integrity test"}""")),
            HttpStatusCode.Conflict);

        Assert.Contains("v2 failed its integrity check", problem["detail"]!.GetValue<string>());
        Assert.Contains("not promoted", problem["detail"]!.GetValue<string>());
        Assert.Equal("v1", (await shop.Registry.GetAsync(model, CancellationToken.None))!.Aliases[ModelRegistry.Production]);
        var record = await SingleIntegrityRecordAsync(model);
        Assert.Equal(("anonymous", "v2"), (record["actor"]!.GetValue<string>(), record["details"]!["version"]!.GetValue<string>()));
        Assert.Contains("sha256", record["details"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rollback_OntoATamperedVersion_Is409AuditedWithTheCaller_AndProductionStays()
    {
        var model = await ProductionCopyAsync("rollback");
        await shop.RegisterCopyAsync(model);
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.PostAsync($"/api/models/{model}/promote", ApiAssert.Json("""{"version":"v2"}"""))).StatusCode);
        await TamperAsync(model, "v1");

        var problem = await ApiAssert.ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/rollback", ApiAssert.Json("""{"reason":"v2 misbehaves"}""")),
            HttpStatusCode.Conflict);

        Assert.Contains("v1 failed its integrity check", problem["detail"]!.GetValue<string>());
        Assert.Contains("not rolled back to", problem["detail"]!.GetValue<string>());
        var doc = (await shop.Registry.GetAsync(model, CancellationToken.None))!;
        Assert.Equal("v2", doc.Aliases[ModelRegistry.Production]);
        Assert.DoesNotContain(doc.History, h => AliasMoves.Of(h) == AliasMoves.Rollback);
        var record = await SingleIntegrityRecordAsync(model);
        Assert.Equal(("anonymous", "v1"), (record["actor"]!.GetValue<string>(), record["details"]!["version"]!.GetValue<string>()));
        var audit = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}&action={Serverless.Core.Tracking.AuditActions.Rollback}");
        Assert.Empty(audit!["records"]!.AsArray());
        // The model view no longer offers the rollback that was refused, and marks the version.
        var view = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}");
        Assert.Null(view!["rollbackTo"]);
        var versions = view["versions"]!.AsArray();
        Assert.True(versions.Single(v => v!["version"]!.GetValue<string>() == "v1")!["integrityFailed"]!.GetValue<bool>());
        Assert.Null(versions.Single(v => v!["version"]!.GetValue<string>() == "v2")!["integrityFailed"]);
    }

    [Fact]
    public async Task Download_TamperedVersion_Is503NamingTheVersion_AndAuditedWithTheHost()
    {
        var model = await ProductionCopyAsync("download");
        await TamperAsync(model, "v1");

        var problem = await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v1/model.zip"), HttpStatusCode.ServiceUnavailable);

        Assert.Contains("v1 failed its integrity check", problem["detail"]!.GetValue<string>());
        Assert.Contains("Register the model again", problem["detail"]!.GetValue<string>());
        var record = await SingleIntegrityRecordAsync(model);
        Assert.False(string.IsNullOrEmpty(record["details"]!["host"]?.GetValue<string>()), record.ToJsonString());
        Assert.Contains("sha256", record["details"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task DamagedManifest_ItsVersionsRoutesAnswer503NamingIt_TheModelViewStillAnswers()
    {
        var model = await ProductionCopyAsync("manifest");
        await shop.RegisterCopyAsync(model);
        await Host.Storage.Models.GetBlobClient($"{model}/v2/manifest.json").UploadAsync(BinaryData.FromString("{\"broken"), overwrite: true);

        var view = await Host.Client.GetAsync($"/api/models/{model}");
        var version = await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v2"), HttpStatusCode.ServiceUnavailable);
        await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v2/model.zip"), HttpStatusCode.ServiceUnavailable);
        // Refused as a promotion of a model.zip that fails its check is (409), naming the manifest.
        var promote = await ApiAssert.ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/promote", ApiAssert.Json("""{"version":"v2","force":true,"reason":"try"}""")), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.OK, view.StatusCode);
        Assert.Contains("manifest", promote["detail"]!.GetValue<string>());
        Assert.Contains($"The manifest of '{model}' version v2", version["detail"]!.GetValue<string>());
        Assert.Contains("Register the model again", version["detail"]!.GetValue<string>());
        Assert.Equal("v1", (await PredictAsync(Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
        // Met by a download and a promotion within the retry interval: audited once, naming the manifest, and marked in the view.
        var record = await SingleIntegrityRecordAsync(model);
        Assert.Equal("v2", record["details"]!["version"]!.GetValue<string>());
        Assert.Contains("manifest", record["details"]!["reason"]!.GetValue<string>());
        var versions = (await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}"))!["versions"]!.AsArray();
        Assert.True(versions.Single(v => v!["version"]!.GetValue<string>() == "v2")!["integrityFailed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task DownloadAndPromote_TamperedVersionAgainAndAgain_EachRefused_AuditedOnceAnInterval()
    {
        var model = await ProductionCopyAsync("repeated");
        await shop.RegisterCopyAsync(model);
        await TamperAsync(model, "v2");

        for (var i = 0; i < 3; i++)
        {
            await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v2/model.zip"), HttpStatusCode.ServiceUnavailable);
            await ApiAssert.ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/promote", ApiAssert.Json("""{"version":"v2","force":true,"reason":"try"}""")), HttpStatusCode.Conflict);
        }

        // Six refusals within the retry interval (a minute): one audit record, not six.
        await SingleIntegrityRecordAsync(model);
    }

    /// <summary>
    /// A version served by name from a copy loaded before its stored bytes were found bad (here by a download) is checked
    /// again and answered 503, as the rollback refusal says; production keeps the verified copy it serves.
    /// </summary>
    [Fact]
    public async Task Predict_PinnedVersionFoundTamperedAfterItWasLoaded_Answers503_ProductionKeepsItsCopy()
    {
        var model = await ProductionCopyAsync("pinned");
        await shop.RegisterCopyAsync(model);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Host, model, ShopData.Row, "?version=v2")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Host, model, ShopData.Row)).StatusCode);
        await TamperAsync(model, "v2");
        await TamperAsync(model, "v1");
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Host, model, ShopData.Row, "?version=v2")).StatusCode);

        await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v2/model.zip"), HttpStatusCode.ServiceUnavailable);
        await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v1/model.zip"), HttpStatusCode.ServiceUnavailable);
        var pinned = await ApiAssert.ProblemAsync(await PostAsync(Host, model, ShopData.Row, "?version=v2"), HttpStatusCode.ServiceUnavailable);

        Assert.Contains($"'{model}' version v2 failed its integrity check", pinned["detail"]!.GetValue<string>());
        Assert.Equal("v1", (await PredictAsync(Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
    }

    /// <summary>
    /// A version staging holds (the one shadow scoring reads), found bad after it was loaded: asked for through staging or
    /// by name it answers 503, not from the copy staging held; production keeps the verified copy it serves.
    /// </summary>
    [Fact]
    public async Task Predict_StagingVersionFoundTamperedAfterItWasLoaded_Answers503ThroughStagingAndByName()
    {
        var model = await ProductionCopyAsync("staged");
        await shop.RegisterCopyAsync(model);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, "v2", "test", "integrity", CancellationToken.None);
        Assert.Equal("v2", (await PredictAsync(Host, model, ShopData.Row, "?alias=staging"))["modelVersion"]!.GetValue<string>());
        Assert.Equal("v1", (await PredictAsync(Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
        await TamperAsync(model, "v2");
        await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v2/model.zip"), HttpStatusCode.ServiceUnavailable);

        var byAlias = await ApiAssert.ProblemAsync(await PostAsync(Host, model, ShopData.Row, "?alias=staging"), HttpStatusCode.ServiceUnavailable);
        var byName = await ApiAssert.ProblemAsync(await PostAsync(Host, model, ShopData.Row, "?version=v2"), HttpStatusCode.ServiceUnavailable);

        Assert.Contains($"'{model}' version v2 failed its integrity check", byAlias["detail"]!.GetValue<string>());
        Assert.Contains($"'{model}' version v2 failed its integrity check", byName["detail"]!.GetValue<string>());
        Assert.Equal("v1", (await PredictAsync(Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
    }

    /// <summary><c>mlops show</c> marks a version whose stored bytes failed their check on the host, beside its status.</summary>
    [Fact]
    public async Task Show_VersionFoundTampered_IsMarkedInTheVersionsTable()
    {
        var model = await ProductionCopyAsync("shown");
        await shop.RegisterCopyAsync(model);
        await TamperAsync(model, "v2");
        await ApiAssert.ProblemAsync(await Host.Client.GetAsync($"/api/models/{model}/versions/v2/model.zip"), HttpStatusCode.ServiceUnavailable);

        var (exit, output) = await Serverless.Tests.Cli.CliRunner.RunAsync("show", model, "--host", Host.Client.BaseAddress!.ToString());

        Assert.True(exit == 0, output);
        Assert.Contains("(integrity check failed)", output);
        Assert.Single(output.Split('\n'), line => line.Contains("(integrity check failed)", StringComparison.Ordinal));
    }

    private async Task<JsonNode> SingleIntegrityRecordAsync(string model)
    {
        var audit = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}");
        return Assert.Single(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == Serverless.Core.Tracking.AuditActions.IntegrityFailure)!;
    }

    [Fact]
    public async Task Predict_FreshHostAndTamperedProduction_Answers503NamingTheVersionAndWhatToDo()
    {
        var model = await ProductionCopyAsync("fresh");
        await TamperAsync(model, "v1");
        await using var fresh = await TestHost.StartAsync(shop.Azurite, IsolatedLayout.Settings(shop.Azurite.ConnectionString, Host.Suffix));

        var response = await PostAsync(fresh, model, ShopData.Row);
        var again = await PostAsync(fresh, model, ShopData.Row);

        // Retry-After: when this host checks the bytes again (IntegrityRetryInterval, 1 minute by default).
        Assert.InRange(response.Headers.RetryAfter?.Delta?.TotalSeconds ?? -1, 59, 60);
        Assert.InRange(again.Headers.RetryAfter?.Delta?.TotalSeconds ?? -1, 1, 60);
        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.ServiceUnavailable);

        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains($"'{model}' version v1 failed its integrity check", detail);
        Assert.Contains("rolling production back", detail);
        Assert.Contains("Register the model again", detail);
    }

    [Fact]
    public async Task Predict_TamperedVersion_IsAuditedAsAnIntegrityFailure()
    {
        var model = await ProductionCopyAsync("audited");
        await TamperAsync(model, "v1");

        await PostAsync(Host, model, ShopData.Row, "?version=v1");

        var audit = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}");
        var record = Assert.Single(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == Serverless.Core.Tracking.AuditActions.IntegrityFailure);
        Assert.Equal("v1", record!["details"]!["version"]!.GetValue<string>());
        Assert.Contains("sha256", record["details"]!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_TamperedVersionAskedForAgain_IsNeitherReloadedNorAuditedAgain()
    {
        var model = await ProductionCopyAsync("repeat");
        await TamperAsync(model, "v1");

        for (var i = 0; i < 5; i++) await ApiAssert.ProblemAsync(await PostAsync(Host, model, ShopData.Row), HttpStatusCode.ServiceUnavailable);

        var audit = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}");
        Assert.Single(audit!["records"]!.AsArray(), r => r!["action"]!.GetValue<string>() == Serverless.Core.Tracking.AuditActions.IntegrityFailure);
    }

    /// <summary>A model of the test's own: a copy of the shop regression model registered as v1 and promoted.</summary>
    private async Task<string> ProductionCopyAsync(string prefix)
    {
        var model = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await shop.RegisterCopyAsync(model);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "integrity", CancellationToken.None);
        return model;
    }

    private async Task TamperAsync(string model, string version)
    {
        var blob = Host.Storage.Models.GetBlobClient($"{model}/{version}/model.zip");
        var bytes = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        bytes[^1] ^= 0xFF;
        await blob.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
    }
}
