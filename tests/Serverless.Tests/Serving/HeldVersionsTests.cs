using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Serving;

/// <summary>Memory stays bounded under version moves: the versions a host holds are those its aliases point at plus at most the pinned limit.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HeldVersionsTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    [Fact]
    public async Task PromoteRollbackCyclesAndPinnedVersions_HeldVersionsStayWithinAliasesPlusPinLimit()
    {
        var host = shop.Host;
        var model = $"held-{Guid.NewGuid().ToString("N")[..8]}";
        for (var i = 0; i < 8; i++) await shop.RegisterCopyAsync(model);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        var service = host.Services.GetRequiredService<PredictionService>();
        var limit = 1 + host.Services.GetRequiredService<IOptions<PredictionOptions>>().Value.MaxPinnedVersions;
        var seen = new HashSet<string>();

        for (var cycle = 0; cycle < 16; cycle++)
        {
            var promoted = await host.Client.PostAsync($"/api/models/{model}/promote", Json($$"""{"version":"v{{2 + cycle % 7}}"}"""));
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
            seen.Add((await PredictAsync(host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync($"/api/models/{model}/rollback", Json("{}"))).StatusCode);
            seen.Add((await PredictAsync(host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
            await PredictAsync(host, model, ShopData.Row, $"?version=v{1 + cycle % 8}");

            Assert.InRange(service.HeldVersions.Count(h => h.Model == model), 1, limit);
        }
        Assert.True(seen.Count >= 7, $"answers came from only {seen.Count} versions");
    }
}
