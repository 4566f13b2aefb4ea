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
        await shop.TwoVersionsAsync(model, production: "v1", staging: "v1");
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the request also reads the model's monitoring settings, which are re-read as the alias is
    public async Task Predict_FirstRequestAfterAnIdleSpellWithStorageUnreachable_IsAnsweredByTheVersionHeldWithinTheRefreshWait(bool predictionLog)
    {
        var model = $"outage-{Guid.NewGuid().ToString("N")[..8]}";
        await shop.RegisterCopyAsync(model);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        // A second host on the shop's containers whose blobs go through a proxy: stopping it is a storage outage for that host alone.
        await using var proxy = new StorageProxy(shop.Azurite);
        await using var host = await shop.StartHostThroughAsync(proxy,
            ("Pipeline:PredictionLog:Enabled", predictionLog ? "true" : "false"), ("Pipeline:Serving:RefreshInterval", "00:00:00.500"));
        Assert.Equal("v1", (await PredictAsync(host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
        var options = host.Services.GetRequiredService<IOptions<PredictionOptions>>().Value;

        proxy.Stop();
        await Task.Delay(2 * options.RefreshInterval + TimeSpan.FromMilliseconds(300));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var answer = await PredictAsync(host, model, ShopData.Row);
        var waited = clock.Elapsed;
        proxy.Start(); // so that the host stops cleanly

        Assert.Equal("v1", answer["modelVersion"]!.GetValue<string>());
        // The SDK retries an unreachable storage for about half a minute; the request waits for the read only RefreshWait.
        Assert.True(waited < options.RefreshWait + TimeSpan.FromSeconds(4), $"the request waited {waited} (RefreshWait {options.RefreshWait})");
    }
}
