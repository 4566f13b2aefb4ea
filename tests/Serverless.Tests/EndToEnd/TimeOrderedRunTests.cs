using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>
/// A run on a spec with a time column, small enough to be cross-validated if it were shuffled: its candidates are
/// compared on the time-ordered validation split instead (shuffled folds would choose a model on rows older than some it
/// was fit on), and the manifest and card say how the rows were split.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TimeOrderedRunTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task RunWithATimeColumn_ChoosesOnTheLaterValidationRows_NotOnShuffledFolds()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var random = new Random(11);
        var csv = new StringBuilder("when,x,y\n");
        foreach (var day in Enumerable.Range(0, 600).OrderBy(_ => random.Next()))
        {
            var x = random.NextDouble() * 10;
            csv.Append(CultureInfo.InvariantCulture, $"{new DateTime(2025, 1, 1).AddDays(day):yyyy-MM-dd},{x:F3},{3 * x + day * 0.01 + random.NextDouble():F3}\n");
        }
        await host.UploadAsync("sales-by-day", "model.json",
            """{"label":"y","task":"regression","timeColumn":"when","trainers":[{"name":"Sdca"},{"name":"FastTree","grid":{"numberOfLeaves":[8],"numberOfIterations":[30]}}]}""");
        await host.UploadAsync("sales-by-day", "days.csv", csv.ToString());

        var model = await host.WaitForModelAsync("sales-by-day", m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(3));

        var version = model["versions"]!.AsArray().Single()!;
        Assert.Equal(SelectionSets.Validation, version["selection"]!["set"]!.GetValue<string>());
        var manifest = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sales-by-day/versions/v1"))!;
        Assert.Equal("when", manifest["manifest"]!["splits"]!["timeColumn"]!.GetValue<string>());
        var card = await host.Client.GetStringAsync("/api/models/sales-by-day/versions/v1/card.md");
        Assert.Contains("- **Split** (time-ordered by `when`: oldest train, newest test): 420 train, 90 validation, 90 test rows", card, StringComparison.Ordinal);
        Assert.Contains("chosen on validation", card, StringComparison.Ordinal);
    }
}
