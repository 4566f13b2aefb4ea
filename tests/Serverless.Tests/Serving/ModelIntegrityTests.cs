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
    public async Task Predict_ProductionMovedToATamperedVersion_HostKeepsServingTheLastVerifiedOne()
    {
        var model = await ProductionCopyAsync("moved");
        await PredictAsync(Host, model, ShopData.Row);
        await shop.RegisterCopyAsync(model);
        await TamperAsync(model, "v2");

        var promote = await Host.Client.PostAsync($"/api/models/{model}/promote", ApiAssert.Json("""{"version":"v2","reason":"test"}"""));
        var answer = await PredictAsync(Host, model, ShopData.Row);

        Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
        Assert.Equal("v1", answer["modelVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_FreshHostAndTamperedProduction_Answers503NamingTheVersionAndWhatToDo()
    {
        var model = await ProductionCopyAsync("fresh");
        await TamperAsync(model, "v1");
        await using var fresh = await TestHost.StartAsync(shop.Azurite, IsolatedLayout.Settings(shop.Azurite.ConnectionString, Host.Suffix));

        var problem = await ApiAssert.ProblemAsync(await PostAsync(fresh, model, ShopData.Row), HttpStatusCode.ServiceUnavailable);

        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains($"'{model}' version v1 failed its integrity check", detail);
        Assert.Contains("Roll production back", detail);
        Assert.Contains("register the model again", detail);
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
