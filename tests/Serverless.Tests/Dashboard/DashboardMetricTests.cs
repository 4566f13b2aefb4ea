using System.Globalization;
using Microsoft.Playwright;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;

namespace Serverless.Tests.Dashboard;

/// <summary>
/// The versions table and chart of a model whose primary metric changed between versions (the spec's metric was set):
/// every row shows the table's one metric, not each version's own under one heading.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardMetricTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    [Fact]
    public async Task Dashboard_VersionsUnderTwoPrimaryMetrics_ShowTheLatestsMetricForEveryVersion()
    {
        var model = $"metric-{Guid.NewGuid():N}"[..15];
        var first = await shop.RegisterCopyAsync(model);
        var source = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        var second = await shop.Registry.RegisterAsync(source with { Model = model, PrimaryMetric = "mae", RunId = Guid.NewGuid().ToString("N"), OrchestrationId = "copy-mae" },
            source.ModelBlob, m => $"# {m.Model} {m.Version}", CancellationToken.None);
        Assert.NotEqual(first.TestMetrics["rmse"], first.TestMetrics["mae"]);

        await using var dashboard = await DashboardPage.OpenAsync(shop.Host, model);
        var page = dashboard.Page;

        await Assertions.Expect(page.Locator("#versions-metric")).ToHaveTextAsync("mae");
        // v1 was chosen under rmse: its row shows its mae, as v2's does, and says which metric chose it.
        var cell = (await page.Locator("#versions tbody tr[data-version='v1'] td.test").TextContentAsync())!;
        var shown = double.Parse(cell.Split(' ')[0], CultureInfo.InvariantCulture);
        // Shown to four significant digits.
        Assert.True(Math.Abs(shown - first.TestMetrics["mae"]) <= 1e-3 * first.TestMetrics["mae"], $"v1 shows {cell}; its mae is {first.TestMetrics["mae"]}, its rmse {first.TestMetrics["rmse"]}");
        await Assertions.Expect(page.Locator("#versions tbody tr[data-version='v1'] td.selection")).ToContainTextAsync("rmse");
        await Assertions.Expect(page.Locator("#versions tbody tr[data-version='v2'] td.selection")).Not.ToContainTextAsync("rmse");
        Assert.Equal("v2", second.Version);
        Assert.Empty(dashboard.Errors);
    }
}
