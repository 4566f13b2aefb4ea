using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Serving;

/// <summary>An alias moved where this host did not see it (another host, a training run) is answered by its new version within the refresh interval, idle or busy.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AliasRefreshTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    [Fact]
    public async Task Predict_FirstRequestAfterAnIdleSpell_IsAnsweredByTheVersionTheAliasNamesNow()
    {
        var model = $"idle-{Guid.NewGuid().ToString("N")[..8]}";
        await shop.RegisterCopyAsync(model);
        await shop.RegisterCopyAsync(model);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, "v1", "test", "start", CancellationToken.None);
        Assert.Equal("v1", (await PredictAsync(shop.Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
        Assert.Equal("v1", (await PredictAsync(shop.Host, model, ShopData.Row, "?alias=staging"))["modelVersion"]!.GetValue<string>());
        var listed = (await shop.Host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/models"))!["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == model)!;
        Assert.Equal(("v1", "v1"), (listed["production"]!.GetValue<string>(), listed["staging"]!.GetValue<string>()));
        var interval = shop.Host.Services.GetRequiredService<IOptions<PredictionOptions>>().Value.RefreshInterval;

        // Moved in the registry, as another host or a training run moves it: this host hears nothing of it.
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v2", "test", "elsewhere", CancellationToken.None);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, "v2", "test", "elsewhere", CancellationToken.None);
        await Task.Delay(2 * interval + TimeSpan.FromMilliseconds(500));

        Assert.Equal("v2", (await PredictAsync(shop.Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
        Assert.Equal("v2", (await PredictAsync(shop.Host, model, ShopData.Row, "?alias=staging"))["modelVersion"]!.GetValue<string>());
    }
}
