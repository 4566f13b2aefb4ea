using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;

namespace Serverless.Tests.Registry;

/// <summary>
/// Permutation feature importance of registered versions, one model per task, on synthetic data whose drivers are known:
/// spend and tier grow with distance, churn follows membership and city and not distance.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class FeatureImportanceTests(ShopModels shop) : IClassFixture<ShopModels>
{
    private async Task<FeatureImportanceReport> ImportanceAsync(string model) =>
        (await shop.Registry.GetManifestAsync(model, "v1", CancellationToken.None))!.FeatureImportance!;

    [Theory]
    [InlineData(ShopData.Spend)]
    [InlineData(ShopData.Tier)]
    public async Task Importance_LabelDrivenByDistance_RanksDistanceFirst(string model)
    {
        var pfi = await ImportanceAsync(model);

        Assert.Null(pfi.NotComputed);
        Assert.True(pfi.ColumnsShuffled, "city's one-hot inputs are shuffled as one column");
        Assert.Equal("distance", pfi.Features[0].Feature);
        Assert.Equal(["city", "distance", "member"], pfi.Features.Select(f => f.Feature).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task Importance_ChurnDrivenByMembershipAndCity_RanksDistanceLast()
    {
        var pfi = await ImportanceAsync(ShopData.Churn);

        Assert.Equal("auc", pfi.Metric);
        Assert.Equal("distance", pfi.Features[^1].Feature);
        Assert.True(pfi.Features[0].Change < 0, "shuffling the most important feature lowers the AUC");
        Assert.True(pfi.ColumnsShuffled, "city's one-hot inputs are shuffled as one column");
    }
}
