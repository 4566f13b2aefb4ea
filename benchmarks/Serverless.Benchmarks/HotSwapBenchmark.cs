using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Storage;
using Serverless.LocalHost;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// A hot swap under load: the taxi model (trained on 5,000 rows through the real pipeline, v1) and a second version
/// (its bytes registered again as v2) served by the local host in-process while <c>wrk -t2 -c16</c> posts single rows
/// for the whole run. Every few seconds production moves: through the API (promote v2, roll back), then through the
/// registry directly (as another host or the training run moves it; this host notices within its refresh interval).
/// A probe client predicting in a loop times, per move, how long until it is answered by the version the move set.
/// Printed: wrk's non-2xx and socket errors (aim 0), answers per version (from a wrk Lua script), and each move's switch time.
/// </summary>
public static class HotSwapUnderLoad
{
    private const string Spec = """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree"}]}""";

    private const string PredictBody =
        """{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}""";

    /// <summary>Counts answers per modelVersion and non-2xx per wrk thread, and sums them when wrk is done.</summary>
    private const string Lua = """
        wrk.method = "POST"
        wrk.body = '{BODY}'
        wrk.headers["Content-Type"] = "application/json"
        local threads = {}
        function setup(thread) table.insert(threads, thread) end
        function init(args) non2xx = 0 end
        function response(status, headers, body)
          if status < 200 or status > 299 then non2xx = non2xx + 1 end
          local version = string.match(body, '"modelVersion":%s*"(v%d+)"')
          if version then _G["n_" .. version] = (_G["n_" .. version] or 0) + 1 end
        end
        function done(summary, latency, requests)
          local bad = 0
          for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
          for v = 1, 20 do
            local total = 0
            for _, t in ipairs(threads) do total = total + (t:get("n_v" .. v) or 0) end
            if total > 0 then io.write(string.format("answered-by v%d %d\n", v, total)) end
          end
          io.write(string.format("non2xx %d\n", bad))
        end
        """;

    public static async Task<int> RunAsync(int seconds)
    {
        var taxi = BenchmarkHost.TaxiFolder;
        await using var azurite = await AzuriteProcess.StartAsync();
        var suffix = IsolatedLayout.NewSuffix();
        var (app, url) = BenchmarkHost.Create(azurite, suffix, warmUp: false);
        await app.StartAsync();
        var script = Path.Combine(Path.GetTempPath(), $"hot-swap-{suffix}.lua");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(100) };
            var storage = app.Services.GetRequiredService<PipelineStorage>();
            var registry = app.Services.GetRequiredService<ModelRegistry>();
            var refresh = app.Services.GetRequiredService<IOptions<PredictionOptions>>().Value.RefreshInterval;
            await storage.EnsureCreatedAsync();
            const string model = "taxi";
            await storage.Incoming.GetBlobClient($"{model}/model.json").UploadAsync(BinaryData.FromString(Spec), overwrite: true);
            var slice = string.Join('\n', File.ReadLines(Path.Combine(taxi, "taxi-fare-train.csv")).Take(5001)) + "\n";
            await storage.Incoming.GetBlobClient($"{model}/data.csv").UploadAsync(BinaryData.FromString(slice), overwrite: true);
            var v1 = await ServingThroughput.WaitForProductionAsync(http, model, TimeSpan.FromMinutes(10));
            var manifest = (await registry.GetManifestAsync(model, v1, CancellationToken.None))!;
            var v2 = (await registry.RegisterAsync(manifest with { RunId = Guid.NewGuid().ToString("N"), OrchestrationId = "hot-swap" }, manifest.ModelBlob,
                m => $"# {m.Model} {m.Version}", CancellationToken.None)).Version;
            Console.WriteLine($"hot-swap: taxi {v1} and {v2} (the same bytes registered again), refresh interval {refresh.TotalSeconds:F0} s, " +
                              $"wrk -t2 -c16 -d{seconds}s on predict; load avg {ServingThroughput.LoadAverage()}");
            await File.WriteAllTextAsync(script, Lua.Replace("{BODY}", PredictBody, StringComparison.Ordinal));

            var wrk = RunWrkAsync(script, $"{url}/api/models/{model}/predict", seconds);
            var clock = Stopwatch.StartNew();
            var moves = new (string How, Func<Task> Move, string To)[]
            {
                ("API promote", () => PostAsync(http, $"/api/models/{model}/promote", $$"""{"version":"{{v2}}"}"""), v2),
                ("API rollback", () => PostAsync(http, $"/api/models/{model}/rollback", "{}"), v1),
                ("registry (another host)", () => registry.SetAliasAsync(model, ModelRegistry.Production, v2, "bench", "hot swap", CancellationToken.None), v2),
                ("registry (another host)", () => registry.SetAliasAsync(model, ModelRegistry.Production, v1, "bench", "hot swap", CancellationToken.None), v1),
            };
            var gap = TimeSpan.FromSeconds(seconds) / (moves.Length + 1);
            var switches = new List<(string How, string To, TimeSpan Switch)>();
            for (var i = 0; i < moves.Length; i++)
            {
                var (how, move, to) = moves[i];
                var wait = gap * (i + 1) - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                await move();
                var moved = Stopwatch.StartNew();
                while (true)
                {
                    using var response = await http.PostAsync($"/api/models/{model}/predict", new StringContent(PredictBody, Encoding.UTF8, "application/json"));
                    var version = JsonNode.Parse(await response.Content.ReadAsStringAsync())?["modelVersion"]?.GetValue<string>();
                    if (version == to || moved.Elapsed > TimeSpan.FromSeconds(30)) break;
                }
                switches.Add((how, to, moved.Elapsed));
            }
            var output = await wrk;
            Console.WriteLine($"  wrk: {Match(output, @"Requests/sec:\s+([\d.]+)")} requests/s, {Match(output, @"(\d+) requests in")} requests, " +
                              $"non-2xx {Match(output, @"^non2xx (\d+)$")}, socket errors {Match(output, @"Socket errors: (.*)$", "none")}");
            foreach (Match m in Regex.Matches(output, @"^answered-by (v\d+) (\d+)$", RegexOptions.Multiline)) Console.WriteLine($"  answered by {m.Groups[1].Value}: {m.Groups[2].Value}");
            foreach (var (how, to, time) in switches)
            {
                Console.WriteLine($"  move to {to} via {how,-24} answered by {to} after {time.TotalMilliseconds,7:F0} ms (aim <= {refresh.TotalMilliseconds:F0} ms)");
            }
            Console.WriteLine($"  held versions at the end: {app.Services.GetRequiredService<PredictionService>().HeldVersions.Count}; load avg {ServingThroughput.LoadAverage()}");
        }
        finally
        {
            File.Delete(script);
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(bound.Token);
            await app.DisposeAsync();
        }
        return 0;
    }

    private static async Task PostAsync(HttpClient http, string path, string body)
    {
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    private static async Task<string> RunWrkAsync(string script, string url, int seconds)
    {
        var start = new ProcessStartInfo("wrk", ["-t2", "-c16", $"-d{seconds}s", "-s", script, url]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start; install it (apt-get install -y wrk).");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {output}{await process.StandardError.ReadToEndAsync()}");
        return output;
    }

    private static string Match(string text, string pattern, string fallback = "?") =>
        Regex.Match(text, pattern, RegexOptions.Multiline) is { Success: true } m ? m.Groups[1].Value.Trim() : fallback;
}
