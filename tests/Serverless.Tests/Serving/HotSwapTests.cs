using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Serving;

/// <summary>Promote and roll back while clients keep predicting: no request fails, and answers follow the move at once.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class HotSwapTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task PromoteAndRollbackUnderLoad_NoRequestFails_AndAnswersSwitchVersion()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("swap", "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""");
        await host.UploadAsync("swap", "data.csv", TestData.TaxiSlice(2000));
        await host.WaitForModelAsync("swap", m => m["aliases"]?["production"]?.GetValue<string>() == "v1", Timeout);
        var retrain = await host.Client.PostAsync("/api/models/swap/train", null);
        Assert.Equal(HttpStatusCode.Accepted, retrain.StatusCode);
        var run = (await retrain.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        var retrained = await host.WaitForRunAsync(run, Ended, Timeout);
        Assert.Equal("promoted", retrained["output"]!["status"]!.GetValue<string>());
        Assert.Equal("v2", retrained["output"]!["version"]!.GetValue<string>());

        // Each answer with the time its request began.
        var answers = new ConcurrentQueue<(TimeSpan At, HttpStatusCode Status, string? Version)>();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var began = clock.Elapsed;
                using var response = await host.Client.PostAsync("/api/models/swap/predict", new StringContent(TestData.TaxiRow, Encoding.UTF8, "application/json"));
                var body = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
                answers.Enqueue((began, response.StatusCode, body?["modelVersion"]?.GetValue<string>()));
            }
        })).ToList();

        var moves = new List<(TimeSpan At, string To)>();
        await Task.Delay(1000);
        foreach (var (route, body, to) in new[] { ("rollback", "{}", "v1"), ("promote", """{"version":"v2"}""", "v2"), ("rollback", "{}", "v1") })
        {
            var moved = await host.Client.PostAsync($"/api/models/swap/{route}", Json(body));
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
            moves.Add((clock.Elapsed, to));
            await Task.Delay(1500);
        }
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        var all = answers.ToList();
        Assert.True(all.Count > 100, $"only {all.Count} answers");
        Assert.All(all, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        foreach (var (at, to) in moves)
        {
            // Answers begun after the move returned are from the version it set (the move refreshes this host's cache).
            var after = all.Where(a => a.At > at && a.At < at + TimeSpan.FromMilliseconds(1400)).ToList();
            Assert.NotEmpty(after);
            Assert.All(after, a => Assert.Equal(to, a.Version));
        }
    }
}
