using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>
/// A model's spec sets its own trade of accuracy for scoring cost (<c>simplerWithin</c>) over the host's setting: at 0
/// the best candidate by the cross-validated metric wins, whatever a cheaper one scores, and the manifest and card
/// record the setting the run chose with.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SimplerWithinSpecTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task SpecWithSimplerWithinZero_TheBestCandidateWins_AndTheRunRecordsTheSpecsSetting()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var random = new Random(5);
        var csv = new StringBuilder("x,z,y\n");
        for (var i = 0; i < 400; i++)
        {
            double x = random.NextDouble() * 10, z = random.NextDouble();
            csv.Append(CultureInfo.InvariantCulture, $"{x:F3},{z:F3},{2 * x + Math.Sin(3 * x) + random.NextDouble():F3}\n");
        }
        await host.UploadAsync("cheap-or-best", "model.json",
            """{"label":"y","task":"regression","simplerWithin":0,"trainers":[{"name":"Sdca"},{"name":"FastTree","grid":{"numberOfLeaves":[4,16],"numberOfIterations":[40]}}]}""");
        await host.UploadAsync("cheap-or-best", "rows.csv", csv.ToString());

        var model = await host.WaitForModelAsync("cheap-or-best", m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(3));

        var version = model["versions"]!.AsArray().Single()!;
        var orchestration = version["orchestrationId"]!.GetValue<string>();
        // Production is set before the run's last steps end: its output is there once it has completed.
        var output = (await host.WaitForRunAsync(orchestration, r => r["output"] is not null, TimeSpan.FromSeconds(30)))["output"]!;
        var candidates = output["candidates"]!.AsArray().Select(c => c!).Where(c => c["succeeded"]!.GetValue<bool>()).ToList();
        Assert.Equal(3, candidates.Count);
        var best = candidates.MinBy(c => c["validationMetrics"]!["rmse"]!.GetValue<double>())!;
        Assert.Equal(best["runId"]!.GetValue<string>(), output["winnerRunId"]!.GetValue<string>());
        Assert.DoesNotContain(output["notes"]!.AsArray(), n => n!.GetValue<string>().Contains(CandidateChoice.ChosenOver, StringComparison.Ordinal));

        var manifest = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/cheap-or-best/versions/v1"))!;
        Assert.Equal(0, manifest["manifest"]!["reproducibility"]!["simplerWithin"]!.GetValue<double>());
        Assert.Contains("Chosen with `SimplerWithin` 0", manifest["card"]!.GetValue<string>());
        Assert.Contains("(off: the best wins)", manifest["card"]!.GetValue<string>());
    }
}
