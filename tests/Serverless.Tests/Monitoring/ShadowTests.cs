using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Specs;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;
using static Serverless.Tests.Monitoring.MonitoringClient;

namespace Serverless.Tests.Monitoring;

/// <summary>Shadow scoring: staging answers production's logged requests too when the spec turns it on, and the model's view compares the two.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ShadowTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(4);

    private TestHost Host => shop.Host;

    private const string ThreeRows = """{"rows":[{"distance":2,"member":false,"city":"west"},{"distance":9,"member":true,"city":"north"},{"distance":17,"member":"no","city":"east"}]}""";

    [Fact]
    public async Task Predict_ShadowOnAndAnotherStagingVersion_LogsBothAnswersAndTheViewComparesThem()
    {
        // Production: a linear model trained here; staging: the fixture's tree model, registered as v2.
        var model = $"shadow-{Guid.NewGuid().ToString("N")[..8]}";
        await Host.UploadAsync(model, "model.json", """{"label":"spend","task":"regression","exclude":["note","day","churn","tier"],"sensitive":["email"],"trainers":[{"name":"Sdca"}],"shadow":true}""");
        await Host.UploadAsync(model, "shop.csv", ShopData.Csv(600));
        await Host.WaitForModelAsync(model, m => m["aliases"]?["production"]?.GetValue<string>() == "v1", TrainingTimeout);
        var staging = await shop.RegisterCopyAsync(model, ShopData.Spend);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, staging.Version, "test", "shadow", CancellationToken.None);
        var requestId = NewRequestId();

        var answer = await PredictWithIdAsync(Host, model, ThreeRows, requestId);

        var entries = (await LoggedAsync(Host, model)).Where(e => e.RequestId == requestId).OrderBy(e => e.Row).ToList();
        var stagingScores = (await PredictWithIdAsync(Host, model, ThreeRows, NewRequestId(), "?alias=staging"))["predictions"]!.AsArray()
            .Select(p => p!["score"]!.GetValue<float>()).ToList();
        Assert.Equal("v1", answer["modelVersion"]!.GetValue<string>());
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal(staging.Version, e.ShadowVersion));
        Assert.Equal(stagingScores, entries.Select(e => e.ShadowOutput!.Score!.Value));
        Assert.NotEqual(entries.Select(e => e.Output.Score), entries.Select(e => e.ShadowOutput!.Score));

        var feedback = await FeedbackAsync(Host, model, $$"""{"items":[{"requestId":"{{requestId}}","row":0,"label":12},{"requestId":"{{requestId}}","row":1,"label":45},{"requestId":"{{requestId}}","row":2,"label":70}]}""");
        Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
        var comparison = (await ModelAsync(Host, model))["live"]!["shadow"]!.AsArray().Single()!;
        Assert.Equal("v1", comparison["version"]!.GetValue<string>());
        Assert.Equal(staging.Version, comparison["shadowVersion"]!.GetValue<string>());
        Assert.Equal(3, comparison["scored"]!.GetValue<int>());
        var expectedDifference = entries.Average(e => Math.Abs((double)e.Output.Score!.Value - e.ShadowOutput!.Score!.Value));
        Assert.Equal(expectedDifference, comparison["meanAbsoluteDifference"]!.GetValue<double>(), 4);
        Assert.Equal(3, comparison["labelled"]!.GetValue<int>());
        // The answer's metrics carry 6 significant digits, so their difference matches the delta to about 1e-5 of the larger.
        var (shadowRmse, rmse) = (comparison["shadowMetrics"]!["rmse"]!.GetValue<double>(), comparison["metrics"]!["rmse"]!.GetValue<double>());
        Assert.Equal(shadowRmse - rmse, comparison["delta"]!["rmse"]!.GetValue<double>(), 1e-5 * Math.Max(Math.Abs(shadowRmse), Math.Abs(rmse)));
    }

    [Fact]
    public async Task Predict_ShadowOffInTheSpec_LogsNoShadowAnswer()
    {
        var model = await CopyIntoProductionAsync(shop, "noshadow", ShopData.Spend);
        var staging = await shop.RegisterCopyAsync(model, ShopData.Spend);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, staging.Version, "test", "shadow off", CancellationToken.None);
        await Host.Services.GetRequiredService<ModelSpecStore>().SetAsync(model, new ModelSpec { Shadow = false }, CancellationToken.None);
        var requestId = NewRequestId();

        await PredictWithIdAsync(Host, model, ShopData.Row, requestId);

        var entry = Assert.Single(await LoggedAsync(Host, model), e => e.RequestId == requestId);
        Assert.Null(entry.ShadowVersion);
        Assert.Null(entry.ShadowOutput);
    }
}
