using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Datasets;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Specs;
using Serverless.Core.Storage;
using Serverless.Core.Training;
using Serverless.LocalHost;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// Serving throughput and latency on the local host (in-process, Azurite in memory), with the taxi model (regression on
/// fare_amount, trained on a slice of taxi-fare-train.csv through the real pipeline):
/// <list type="bullet">
/// <item>single-row predict against a constant-JSON route mapped on the same host (same Kestrel, same middleware), and against
/// a pooled typed ML.NET PredictionEngine behind a minimal route of the same host scoring the same model bytes (the fastest
/// ML.NET path for a type known at compile time), driven by <c>wrk -t2 -c16 -d10s</c> posting 1,000 taxi test rows in turn,
/// three rounds (or as many as asked), alternating; requests/s, p50/p99 latency, errors, ratios; and predict
/// with every request logged (the same model under a second name whose spec sets <c>drift.sampleRate</c> 1, the first's 0)
/// against predict with nothing logged, with the prediction log's counts (taken, written, dropped);</item>
/// <item>a batch of 1,000 rows (from taxi-fare-test.csv) through HTTP, one request at a time, against the same rows
/// transformed in-process by ML.NET (<c>LoadFromEnumerable</c> + <c>Transform</c> + reading the Score column, the model
/// loaded from the same bytes); medians, and the ratio of throughputs.</item>
/// </list>
/// Needs <c>wrk</c> on the PATH (Debian: <c>apt-get install -y wrk</c>) and Azurite (<c>npm ci</c> at the repository root).
/// </summary>
public static class ServingThroughput
{
    private const string ConstantRoute = "/api/bench/constant";
    private const string BodyReadRoute = "/api/bench/body-read";
    private const string TypedRoute = "/api/bench/typed";
    private const int BatchRows = 1000;

    /// <summary>Rounds of (constant, predict) under wrk, alternating, so that a change of the machine's load touches both routes alike.</summary>
    public const int DefaultRounds = 3;

    /// <summary>The trainer argument that keeps the default candidates (so that a rounds argument can follow).</summary>
    public const string DefaultCandidates = "default";

    private const string PredictBody =
        """{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}""";

    /// <param name="trainer">A trainer the spec limits the run to (its default settings), or null (or <see cref="DefaultCandidates"/>) for the default candidates.</param>
    /// <param name="rounds">Rounds of the four routes, each the median's sample.</param>
    public static async Task<int> RunAsync(int trainingRows, int seconds, string? trainer, int rounds = DefaultRounds)
    {
        if (trainer == DefaultCandidates) trainer = null;
        var specJson = trainer is null
            ? """{"label":"fare_amount","task":"regression"}"""
            : $$"""{"label":"fare_amount","task":"regression","trainers":[{"name":"{{trainer}}"}]}""";
        var taxi = BenchmarkHost.TaxiFolder;
        await using var azurite = await AzuriteProcess.StartAsync();
        var suffix = IsolatedLayout.NewSuffix();
        var (app, url) = BenchmarkHost.Create(azurite, suffix, warmUp: false);
        MapConstantRoutes(app);
        var typed = new TypedEngineRoute();
        app.MapPost(TypedRoute, typed.Predict);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(100) };
            var storage = app.Services.GetRequiredService<PipelineStorage>();
            await storage.EnsureCreatedAsync();
            const string model = "taxi";
            var clock = Stopwatch.StartNew();
            await storage.Incoming.GetBlobClient($"{model}/model.json").UploadAsync(BinaryData.FromString(specJson), overwrite: true);
            var slice = string.Join('\n', File.ReadLines(Path.Combine(taxi, "taxi-fare-train.csv")).Take(trainingRows + 1)) + "\n";
            await storage.Incoming.GetBlobClient($"{model}/data.csv").UploadAsync(BinaryData.FromString(slice), overwrite: true);
            var version = await WaitForProductionAsync(http, model, TimeSpan.FromMinutes(10));
            var manifest = await app.Services.GetRequiredService<ModelRegistry>().GetManifestAsync(model, version, CancellationToken.None);
            Console.WriteLine($"serving: taxi model {version} (spec {specJson}, {trainingRows:N0} training rows, winner {manifest!.Candidate}) servable after {clock.Elapsed.TotalSeconds:F1} s; " +
                              $"{Environment.ProcessorCount} cores; local host in-process on {url}, Azurite in memory; " +
                              (System.Runtime.GCSettings.IsServerGC ? "server GC, as the local host runs" : "workstation GC (the local host runs server GC: set DOTNET_gcServer=1 to match it)") +
                              $"; gen0 budget {Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "the runtime's default (./run sets DOTNET_GCgen0size: use the README's command to match it)"}");
            using (var first = await http.PostAsync($"/api/models/{model}/predict", Json(PredictBody))) first.EnsureSuccessStatusCode();

            // Logging compared in the same host: the same model bytes under two names, one with nothing logged (sample rate 0)
            // and one with every request logged (sample rate 1); the prediction log's writer runs as it does in production.
            const string logged = model + "-logged";
            var registry = app.Services.GetRequiredService<ModelRegistry>();
            var copy = await registry.RegisterAsync(manifest with { Model = logged, RunId = Guid.NewGuid().ToString("N"), OrchestrationId = "bench-copy" },
                manifest.ModelBlob, m => $"# {m.Model} {m.Version}", CancellationToken.None);
            await registry.SetAliasAsync(logged, ModelRegistry.Production, copy.Version, "bench", "logging comparison", CancellationToken.None);
            // The copy's drift check reads the same training data as the model's: its dataset version's manifest under the copy's name.
            var datasetManifest = await storage.Datasets.GetBlobClient(DatasetStore.ManifestBlob(model, manifest.DatasetVersion)).DownloadContentAsync();
            await storage.Datasets.GetBlobClient(DatasetStore.ManifestBlob(logged, manifest.DatasetVersion)).UploadAsync(datasetManifest.Value.Content, overwrite: true);
            var specs = app.Services.GetRequiredService<ModelSpecStore>();
            var spec = JsonSerializer.Deserialize<ModelSpec>(specJson, JsonBlobs.Options)!;
            await specs.SetAsync(model, spec with { Drift = new DriftSpec { SampleRate = 0 } }, CancellationToken.None);
            await specs.SetAsync(logged, spec with { Drift = new DriftSpec { SampleRate = 1 } }, CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(3)); // the hosts' spec caches re-read within the refresh interval (2 s)
            using (var first = await http.PostAsync($"/api/models/{logged}/predict", Json(PredictBody))) first.EnsureSuccessStatusCode();
            typed.Load(manifest, (await registry.LoadVerifiedAsync(model, version, CancellationToken.None)).Bytes);
            using (var first = await http.PostAsync(TypedRoute, Json(PredictBody))) first.EnsureSuccessStatusCode();

            (string Name, string Url)[] routes =
            [
                ("constant JSON", url + ConstantRoute),
                ("typed engine", url + TypedRoute),
                ("predict, log off", $"{url}/api/models/{model}/predict"),
                ("predict, log 100%", $"{url}/api/models/{logged}/predict"),
                ("body read only", url + BodyReadRoute),
            ];
            var log = app.Services.GetRequiredService<PredictionLogBuffer>();
            var script = Path.Combine(Path.GetTempPath(), $"serving-{suffix}.lua");
            var bodies = TestRowBodies(Path.Combine(taxi, "taxi-fare-test.csv"), 1000);
            await File.WriteAllTextAsync(script, WrkScript(bodies));
            try
            {
                Console.WriteLine($"  load avg before: {LoadAverage()}");
                Console.WriteLine($"  single row: wrk -t2 -c16 -d{seconds}s --latency, POSTs of {bodies.Count:N0} test rows in turn ({bodies.Average(b => b.Length):F0} bytes on average); " +
                                  "warm-up 3 s per route first");
                foreach (var (_, routeUrl) in routes) await WrkAsync(script, routeUrl, 3);
                var before = log.Counts;
                var runs = new List<(string Route, int Round, WrkResult Result)>();
                var cpu = new Dictionary<string, (double Host, double Azurite, double Requests)>();
                for (var round = 1; round <= rounds; round++)
                {
                    foreach (var (name, routeUrl) in routes)
                    {
                        // CPU per request of this process and of Azurite: a measure the machine's other load disturbs far less than requests/s.
                        var host0 = Environment.CpuUsage.TotalTime;
                        var azurite0 = azurite.ProcessorTime;
                        var result = await WrkAsync(script, routeUrl, seconds);
                        var (h, a, n) = cpu.GetValueOrDefault(name);
                        cpu[name] = (h + (Environment.CpuUsage.TotalTime - host0).TotalMicroseconds, a + (azurite.ProcessorTime - azurite0).TotalMicroseconds,
                            n + result.RequestsPerSecond * seconds);
                        runs.Add((name, round, result));
                    }
                }
                await app.Services.GetRequiredService<PredictionLogWriter>().FlushAsync(CancellationToken.None);
                var after = log.Counts;
                Console.WriteLine($"  {"route",-18} {"round",5} {"requests/s",11} {"p50 ms",8} {"p99 ms",8} {"errors",7}  GCs gen0/1/2, paused ms; heap and gen2 after the last collection");
                foreach (var (route, round, r) in runs)
                {
                    Console.WriteLine($"  {route,-18} {round,5} {r.RequestsPerSecond,11:F0} {r.P50Ms,8:F3} {r.P99Ms,8:F3} {r.Errors,7}  {string.Join("/", r.Collections)}, {r.GcPauseMs:F1}; heap {r.HeapMiB:F0} MiB, gen2 {r.Gen2MiB:F0}{(r.OlderCollections.Length > 0 ? $" ({r.OlderCollections})" : "")}");
                }
                WrkResult Of(int round, string route) => runs.Single(r => r.Round == round && r.Route == route).Result;
                var ratios = new List<double>();
                var typedRatios = new List<double>();
                var logRatios = new List<double>();
                for (var round = 1; round <= rounds; round++)
                {
                    var constant = Of(round, routes[0].Name);
                    var engine = Of(round, routes[1].Name);
                    var predict = Of(round, routes[2].Name);
                    var predictLogged = Of(round, routes[3].Name);
                    var bodyRead = Of(round, routes[4].Name);
                    ratios.Add(predict.RequestsPerSecond / constant.RequestsPerSecond);
                    typedRatios.Add(predict.RequestsPerSecond / engine.RequestsPerSecond);
                    logRatios.Add(predictLogged.RequestsPerSecond / predict.RequestsPerSecond);
                    Console.WriteLine($"  round {round}: predict/constant = {ratios[^1]:F3}; predict/typed engine = {typedRatios[^1]:F3}; typed engine/constant = " +
                                      $"{engine.RequestsPerSecond / constant.RequestsPerSecond:F3}; logged/unlogged = {logRatios[^1]:F3}; predict p99 {predict.P99Ms:F3} ms " +
                                      $"(logged {predictLogged.P99Ms:F3} ms), constant p99 {constant.P99Ms:F3} ms; body read only/constant = " +
                                      $"{bodyRead.RequestsPerSecond / constant.RequestsPerSecond:F3}, predict/body read only = {predict.RequestsPerSecond / bodyRead.RequestsPerSecond:F3}, " +
                                      $"body read only p99 {bodyRead.P99Ms:F3} ms");
                }
                var predictRuns = runs.Where(r => r.Route.StartsWith("predict", StringComparison.Ordinal)).Select(r => r.Result).ToList();
                Console.WriteLine($"  median of rounds: predict/constant = {Median([.. ratios]):F3} (aim >= 0.75, 0.85), predict/typed engine = {Median([.. typedRatios]):F3}, predict p99 " +
                                  $"{Median([.. runs.Where(r => r.Route == routes[2].Name).Select(r => r.Result.P99Ms)]):F3} ms (aim <= 2 ms), " +
                                  $"predict errors {predictRuns.Sum(r => r.Errors)} (aim 0)");
                var loggedRequests = runs.Where(r => r.Route == routes[3].Name).Sum(r => r.Result.RequestsPerSecond * seconds);
                Console.WriteLine($"  prediction log: logged/unlogged throughput = {Median([.. logRatios]):F3} (aim >= 0.9); during the timed rounds " +
                                  $"{after.Sampled - before.Sampled:N0} requests taken (~{loggedRequests:N0} answered), {after.WrittenEntries - before.WrittenEntries:N0} entries written, " +
                                  $"{after.Dropped - before.Dropped:N0} dropped (buffer full), {after.FailedEntries - before.FailedEntries:N0} failed");
                foreach (var (name, (h, a, n)) in cpu)
                {
                    Console.WriteLine($"  CPU per request, {name,-18}: host {h / n,6:F1} us, Azurite {a / n,6:F1} us, both {(h + a) / n,6:F1} us");
                }
                var (hOff, aOff, nOff) = cpu[routes[2].Name];
                var (hOn, aOn, nOn) = cpu[routes[3].Name];
                var (stored, plain) = await StoredLogBytesAsync(storage, logged);
                Console.WriteLine($"  prediction log: {after.WrittenEntries:N0} entries in {stored / 1048576.0:F1} MiB stored ({stored / Math.Max(1.0, after.WrittenEntries):F1} bytes per entry; " +
                                  $"{plain / Math.Max(1.0, after.WrittenEntries):F1} bytes per entry as plain JSON lines)");
                Console.WriteLine($"  prediction log: CPU per request unlogged/logged = {(hOff + aOff) / nOff / ((hOn + aOn) / nOn):F3} (host and Azurite), " +
                                  $"{hOff / nOff / (hOn / nOn):F3} (host only)");
                Console.WriteLine($"  load avg after single row: {LoadAverage()}");
            }
            finally
            {
                File.Delete(script);
            }

            await DriftCheckAsync(app, logged);
            await HandlersInProcessAsync(app, model, bodies);
            await LoggingInProcessAsync(app, azurite, model, logged, bodies);
            await BatchAsync(app, http, model, version, Path.Combine(taxi, "taxi-fare-test.csv"));
            Console.WriteLine($"  load avg after: {LoadAverage()}");
        }
        finally
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(bound.Token);
            await app.DisposeAsync();
        }
        return 0;
    }

    /// <summary>Single-row request bodies of the first rows of a taxi file, as a client sends them (numbers as numbers).</summary>
    private static List<string> TestRowBodies(string file, int count) =>
        [.. File.ReadLines(file).Skip(1).Take(count).Select(l => l.Split(',')).Select(f =>
            $$"""{"vendor_id":"{{f[0]}}","rate_code":{{f[1]}},"passenger_count":{{f[2]}},"trip_time_in_secs":{{f[3]}},"trip_distance":{{f[4]}},"payment_type":"{{f[5]}}"}""")];

    /// <summary>A wrk script that POSTs the bodies in turn, each thread from its own place in the list.</summary>
    private static string WrkScript(IReadOnlyList<string> bodies) =>
        $$"""
        local bodies = { {{string.Join(",\n", bodies.Select(b => "'" + b + "'"))}} }
        local i = 0
        function init(args) i = math.random(#bodies) end
        function request()
          i = i % #bodies + 1
          return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[i])
        end
        """;

    /// <summary>The stored and the decompressed bytes of a model's prediction log blobs.</summary>
    private static async Task<(long Stored, long Plain)> StoredLogBytesAsync(PipelineStorage storage, string model)
    {
        long stored = 0, plain = 0;
        await foreach (var blob in storage.Monitoring.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None,
                           MonitoringPaths.PredictionLogPrefix(model), CancellationToken.None))
        {
            var content = (await storage.Monitoring.GetBlobClient(blob.Name).DownloadContentAsync()).Value.Content;
            stored += content.ToMemory().Length;
            // Counted as it is decompressed, not held: a window's blob holds hundreds of MB of lines.
            await using var text = MonitoringPaths.OpenContent(blob.Name, content.ToStream());
            var chunk = new byte[64 << 10];
            for (int read; (read = await text.ReadAsync(chunk)) > 0;) plain += read;
        }
        return (stored, plain);
    }

    /// <summary>
    /// The second baseline: the fastest ML.NET path for a type known at compile time, a typed PredictionEngine from a pool
    /// behind a minimal route that binds the JSON body to the type, on the same host, scoring with the same model bytes.
    /// </summary>
    private sealed class TypedEngineRoute
    {
        private Microsoft.Extensions.ObjectPool.ObjectPool<PredictionEngine<TaxiRow, TaxiScore>>? _pool;

        public void Load(ModelManifest manifest, byte[] zip)
        {
            var ml = FeaturePipeline.Context(1);
            var model = ml.Model.Load(new MemoryStream(zip), out _);
            // The feature columns as the serving path reads them (the saved schema also holds the training label).
            var inputSchema = Serverless.Core.Training.FeaturePipeline.Loader(ml, manifest.Schema, withLabel: false).GetOutputSchema();
            _pool = new Microsoft.Extensions.ObjectPool.DefaultObjectPool<PredictionEngine<TaxiRow, TaxiScore>>(new EnginePolicy(ml, model, inputSchema), 64);
        }

        public IResult Predict(TaxiRow row)
        {
            var engine = _pool!.Get();
            try
            {
                return Results.Json(engine.Predict(row));
            }
            finally
            {
                _pool.Return(engine);
            }
        }

        private sealed class EnginePolicy(MLContext ml, ITransformer model, DataViewSchema inputSchema)
            : Microsoft.Extensions.ObjectPool.PooledObjectPolicy<PredictionEngine<TaxiRow, TaxiScore>>
        {
            public override PredictionEngine<TaxiRow, TaxiScore> Create() => ml.Model.CreatePredictionEngine<TaxiRow, TaxiScore>(model, inputSchema: inputSchema);

            public override bool Return(PredictionEngine<TaxiRow, TaxiScore> engine) => true;
        }
    }

    /// <summary>
    /// The baseline: a route on the same host that answers a constant JSON (the shape of a one-row prediction) without
    /// reading the body; and beside it a route that reads and parses the body as predict does, then answers the same
    /// constant: what any predict pays before its own work, a ceiling on predict/constant.
    /// </summary>
    private static void MapConstantRoutes(WebApplication app)
    {
        var constant = Encoding.UTF8.GetBytes("""{"model":"taxi","modelVersion":"v1","requestId":"0123456789abcdef0123456789abcdef","predictions":[{"score":15.1}]}""");
        app.MapPost(ConstantRoute, () => Results.Bytes(constant, "application/json"));
        app.MapPost(BodyReadRoute, async (HttpRequest request, CancellationToken ct) =>
        {
            using var body = await Serverless.Core.Api.ApiResults.ReadDocumentAsync(request, ct);
            return Results.Bytes(constant, "application/json");
        });
    }

    /// <summary>1,000 rows: sequential HTTP requests against an in-process ML.NET transform of the same rows with the same model bytes.</summary>
    private static async Task BatchAsync(WebApplication app, HttpClient http, string model, string version, string testFile)
    {
        var lines = File.ReadLines(testFile).Skip(1).Take(BatchRows).Select(l => l.Split(',')).ToList();
        var rows = lines.Select(f => new TaxiRow
        {
            vendor_id = f[0], rate_code = Single(f[1]), passenger_count = Single(f[2]), trip_time_in_secs = Single(f[3]), trip_distance = Single(f[4]), payment_type = f[5],
        }).ToList();
        var body = JsonSerializer.SerializeToUtf8Bytes(new { rows = lines.Select(f => new Dictionary<string, object>
        {
            ["vendor_id"] = f[0], ["rate_code"] = double.Parse(f[1], CultureInfo.InvariantCulture), ["passenger_count"] = double.Parse(f[2], CultureInfo.InvariantCulture),
            ["trip_time_in_secs"] = double.Parse(f[3], CultureInfo.InvariantCulture), ["trip_distance"] = double.Parse(f[4], CultureInfo.InvariantCulture), ["payment_type"] = f[5],
        }) });

        var (_, bytes) = await app.Services.GetRequiredService<ModelRegistry>().LoadVerifiedAsync(model, version, CancellationToken.None);
        var ml = FeaturePipeline.Context(1);
        var transformer = ml.Model.Load(new MemoryStream(bytes), out _);
        float[] InProcess() => [.. transformer.Transform(ml.Data.LoadFromEnumerable(rows)).GetColumn<float>(ModelOutputs.ScoreColumn)];

        var service = app.Services.GetRequiredService<PredictionService>();
        async Task<int> Service()
        {
            using var document = JsonDocument.Parse(body);
            var answer = await service.PredictAsync(model, document.RootElement, ModelSelector.Production, "bench", CancellationToken.None);
            return answer.Predictions.Count;
        }

        byte[]? last = null;
        async Task Http()
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync($"/api/models/{model}/predict", content);
            response.EnsureSuccessStatusCode();
            last = await response.Content.ReadAsByteArrayAsync();
        }

        const int warmUp = 10, runs = 60;
        var httpTimes = await TimeAsync(Http, warmUp, runs);
        var serviceTimes = await TimeAsync(async () => await Service(), warmUp, runs);
        var mlTimes = await TimeAsync(() => { InProcess(); return Task.CompletedTask; }, warmUp, runs);
        var expected = InProcess();
        var served = JsonNode.Parse(last)!["predictions"]!.AsArray().Select(p => p!["score"]!.GetValue<float>()).ToArray();
        var maxDifference = expected.Zip(served).Max(p => Math.Abs(p.First - p.Second));

        Console.WriteLine($"  batch of {BatchRows:N0} rows ({body.Length / 1024.0:F0} KiB of JSON in, {last!.Length / 1024.0:F0} KiB out), {runs} runs each after {warmUp} warm-up, one at a time; median (min) ms");
        Console.WriteLine($"    HTTP POST predict (answer read, unparsed) {Median(httpTimes),7:F2} ({httpTimes.Min(),6:F2})  {BatchRows / Median(httpTimes) * 1000,10:F0} rows/s");
        Console.WriteLine($"    PredictionService in-process (no HTTP)   {Median(serviceTimes),8:F2} ({serviceTimes.Min(),6:F2})  {BatchRows / Median(serviceTimes) * 1000,10:F0} rows/s");
        Console.WriteLine($"    ML.NET LoadFromEnumerable+Transform      {Median(mlTimes),8:F2} ({mlTimes.Min(),6:F2})  {BatchRows / Median(mlTimes) * 1000,10:F0} rows/s");
        Console.WriteLine($"    HTTP / in-process ML.NET throughput = {Median(mlTimes) / Median(httpTimes):F3} (aim >= 0.7); largest score difference {maxDifference:G3}");
    }

    /// <summary>
    /// The routes' own cost without Kestrel or wrk: each route's endpoint (its request delegate, with the minimal API's
    /// binding and the result's writing) called on one thread with an in-memory request of a test row, 100,000 a round;
    /// and the parts of predict's handler alone: the body parsed, the prediction, the answer serialized.
    /// </summary>
    /// <summary>
    /// A drift check of the logged model in the host, over the window the rounds just logged (what the host's timer runs):
    /// its parts (the logged rows sampled, the reference read and scored) and the whole, wall and CPU time of this
    /// process, bytes allocated and time paused for garbage collection.
    /// </summary>
    private static async Task DriftCheckAsync(WebApplication app, string logged)
    {
        var inputs = app.Services.GetRequiredService<DriftInputs>();
        var registry = app.Services.GetRequiredService<ModelRegistry>();
        var production = (await registry.GetManifestAsync(logged, (await registry.GetAsync(logged, CancellationToken.None))!.Aliases[ModelRegistry.Production], CancellationToken.None))!;
        var now = DateTimeOffset.UtcNow;
        var window = DriftSettings.From(null, app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DriftOptions>>().Value);
        Console.WriteLine($"  drift check of {logged} in the host (window {window.Window}, sample {window.MaxRows:N0} logged rows and {window.MaxReferenceRows:N0} reference rows):");
        var current = await Measure("logged rows sampled", () => inputs.ReadCurrentAsync(logged, production.Version, now - window.Window, now, window.MaxRows, production.Schema.Features, CancellationToken.None),
            c => $"{c.LoggedRows:N0} rows in the window, {c.Rows.Count:N0} kept");
        current = await Measure("sampled again, code warm", () => inputs.ReadCurrentAsync(logged, production.Version, now - window.Window, now, window.MaxRows, production.Schema.Features, CancellationToken.None),
            c => $"{c.LoggedRows:N0} rows in the window, {c.Rows.Count:N0} kept");
        // The host's own drift timer may have checked the model already and kept its reference: a fresh reader reads it.
        var fresh = ActivatorUtilities.CreateInstance<DriftInputs>(app.Services);
        await Measure("reference read and scored", () => fresh.ReadReferenceAsync(logged, production, window.MaxReferenceRows, CancellationToken.None),
            r => $"{r?.Rows.Count ?? 0:N0} rows of {r?.DatasetRows ?? 0:N0}");
        await Measure("reference again, kept", () => fresh.ReadReferenceAsync(logged, production, window.MaxReferenceRows, CancellationToken.None),
            r => $"{r?.Rows.Count ?? 0:N0} rows of {r?.DatasetRows ?? 0:N0}, {fresh.ReferenceReads} read from the dataset in all");
        GC.KeepAlive(current);
        await inputs.ReadReferenceAsync(logged, production, window.MaxReferenceRows, CancellationToken.None);
        await Measure("whole check, reference kept", () => app.Services.GetRequiredService<DriftChecker>().CheckAsync(logged, "benchmark", DateTimeOffset.UtcNow, CancellationToken.None),
            c => $"{c.Report.Status}, {c.Report.Features?.Count ?? 0} features");
        // The model view's live metrics read the same log (a day of it): rows counted per version, against every line
        // parsed into an entry, as they were read before.
        await Measure("live metrics (model view)", () => app.Services.GetRequiredService<LiveMetrics>().ComputeAsync(logged, CancellationToken.None),
            m => $"{m.Versions.Sum(v => v.Predictions):N0} rows counted");
        await Measure("every line parsed", async () =>
        {
            long rows = 0;
            var end = DateTimeOffset.UtcNow.AddMinutes(1);
            await foreach (var _ in app.Services.GetRequiredService<PredictionLogReader>().ReadAsync(logged, end - TimeSpan.FromDays(1), end)) rows++;
            return rows;
        }, rows => $"{rows:N0} entries");

        static async Task<T> Measure<T>(string name, Func<Task<T>> run, Func<T, string> describe)
        {
            var process = Process.GetCurrentProcess();
            var (cpu, allocated, paused, clock) = (process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true), GC.GetTotalPauseDuration(), Stopwatch.StartNew());
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
            var result = await run();
            var wall = clock.Elapsed;
            process.Refresh();
            Console.WriteLine($"    {name,-26} {wall.TotalMilliseconds,7:F0} ms wall, {(process.TotalProcessorTime - cpu).TotalMilliseconds,7:F0} ms CPU, " +
                              $"{(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1048576.0,7:F0} MiB allocated, GCs {GC.CollectionCount(0) - gen0}/{GC.CollectionCount(1) - gen1}/" +
                              $"{GC.CollectionCount(2) - gen2} paused {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds:F0} ms; {describe(result)}");
            return result;
        }
    }

    private static async Task HandlersInProcessAsync(WebApplication app, string model, IReadOnlyList<string> bodies)
    {
        const int requests = 100_000, rounds = 3;
        var endpoints = ((IEndpointRouteBuilder)app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>().ToList();
        RequestDelegate Find(string pattern) => endpoints.First(e => e.RoutePattern.RawText!.EndsWith(pattern, StringComparison.Ordinal)
            && e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(HttpMethods.Post) == true).RequestDelegate!;
        var utf8 = bodies.Select(Encoding.UTF8.GetBytes).ToArray();
        var sink = new MemoryStream();
        async Task<(double Cpu, double Bytes)> RunAsync(RequestDelegate handler, int count)
        {
            var cpu0 = Environment.CpuUsage.TotalTime;
            var bytes0 = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < count; i++)
            {
                var body = utf8[i % utf8.Length];
                var context = new DefaultHttpContext { RequestServices = app.Services };
                context.Request.Method = HttpMethods.Post;
                context.Request.ContentType = "application/json";
                context.Request.ContentLength = body.Length;
                context.Request.Body = new MemoryStream(body, writable: false);
                context.Request.RouteValues["model"] = model;
                context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>(HasBody.Instance);
                sink.SetLength(0);
                context.Response.Body = sink;
                await handler(context);
                if (context.Response.StatusCode != StatusCodes.Status200OK) throw new InvalidOperationException($"status {context.Response.StatusCode}: {Encoding.UTF8.GetString(sink.ToArray())}");
            }
            return ((Environment.CpuUsage.TotalTime - cpu0).TotalMicroseconds / count, (GC.GetTotalAllocatedBytes(precise: true) - bytes0) / (double)count);
        }
        (string Name, RequestDelegate Handler)[] handlers =
        [
            ("constant JSON", Find(ConstantRoute)),
            ("body read only", Find(BodyReadRoute)),
            ("typed engine", Find(TypedRoute)),
            ("predict, log off", Find(Serverless.Core.Api.ApiRoutes.Predict)),
        ];
        foreach (var (_, handler) in handlers) await RunAsync(handler, 10_000);
        var results = handlers.ToDictionary(h => h.Name, _ => new List<(double Cpu, double Bytes)>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var (name, handler) in handlers) results[name].Add(await RunAsync(handler, requests));
        }
        Console.WriteLine($"  endpoints in-process (no Kestrel, no wrk), one thread, {requests:N0} a round, CPU us per request: " +
                          string.Join("; ", results.Select(r => $"{r.Key} {string.Join(" / ", r.Value.Select(v => v.Cpu.ToString("F2", CultureInfo.InvariantCulture)))} ({r.Value[^1].Bytes:F0} bytes allocated)")));

        // Predict's handler in parts.
        var service = app.Services.GetRequiredService<PredictionService>();
        string Time(Func<int, object?> part, int count)
        {
            var cpu0 = Environment.CpuUsage.TotalTime;
            var bytes0 = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < count; i++) GC.KeepAlive(part(i));
            return $"{(Environment.CpuUsage.TotalTime - cpu0).TotalMicroseconds / count:F2} ({(GC.GetAllocatedBytesForCurrentThread() - bytes0) / (double)count:F0} bytes)";
        }
        var documents = utf8.Select(b => JsonDocument.Parse(b)).ToArray();
        var requestId = RequestId.New();
        var answers = documents.Select(d => service.PredictAsync(model, d.RootElement, ModelSelector.Production, requestId, CancellationToken.None).Result).ToArray();
        var parse = Time(i => { using var d = JsonDocument.Parse(utf8[i % utf8.Length], new JsonDocumentOptions { MaxDepth = 32 }); return null; }, requests);
        var predict = Time(i => service.PredictAsync(model, documents[i % documents.Length].RootElement, ModelSelector.Production, requestId, CancellationToken.None).Result, requests);
        var serialize = Time(i => PredictionJson.Render(answers[i % answers.Length]).Length > 0 ? null : answers, requests);
        var loaded = await service.GetAsync(model, ModelSelector.Production, CancellationToken.None);
        var rows = documents.Select(d => (IReadOnlyList<JsonElement>)[d.RootElement]).ToArray();
        var inputs = rows.Select(r => loaded.Input.Read(r)).ToArray();
        // Read as a single row is served: into a one-row input kept for the next (a pooled scorer's).
        var oneRow = new ModelInput(loaded.Input.Kinds, 1);
        var read = Time(i => loaded.Input.Read(rows[i % rows.Length], oneRow), requests);
        var score = Time(i => loaded.Score(inputs[i % inputs.Length]), requests);
        foreach (var document in documents) document.Dispose();
        Console.WriteLine($"    predict's parts, CPU us: body parsed {parse}, prediction {predict} (of which rows read {read}, scored {score}), answer serialized {serialize}");
    }

    /// <summary>Says the in-memory request has a body, as Kestrel does for a POST with a Content-Length (minimal APIs read a body only then).</summary>
    private sealed class HasBody : Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature
    {
        public static readonly HasBody Instance = new();

        public bool CanHaveBody => true;
    }

    /// <summary>
    /// What logging costs without HTTP or wrk: single rows through <see cref="PredictionService"/> on one thread, the
    /// unlogged model against the logged one (the same bytes), three rounds alternating, CPU per request of this process
    /// (the log's writer, its gzip and its appends included, as they run on other threads) and of Azurite.
    /// </summary>
    private static async Task LoggingInProcessAsync(WebApplication app, AzuriteProcess azurite, string unlogged, string logged, IReadOnlyList<string> bodies)
    {
        const int requests = 100_000, rounds = 3;
        var service = app.Services.GetRequiredService<PredictionService>();
        var writer = app.Services.GetRequiredService<PredictionLogWriter>();
        var documents = bodies.Select(b => JsonDocument.Parse(b)).ToList();
        var sequence = 0;
        async Task<(double Host, double Azurite, double Bytes)> RunAsync(string model, int count)
        {
            var host0 = Environment.CpuUsage.TotalTime;
            var azurite0 = azurite.ProcessorTime;
            var bytes0 = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < count; i++)
            {
                await service.PredictAsync(model, documents[i % documents.Count].RootElement, ModelSelector.Production, $"inproc-{sequence++}", CancellationToken.None);
            }
            // The entries still buffered are written before the clock stops: their cost is the logged side's.
            await writer.FlushAsync(CancellationToken.None);
            return ((Environment.CpuUsage.TotalTime - host0).TotalMicroseconds / count, (azurite.ProcessorTime - azurite0).TotalMicroseconds / count,
                (GC.GetTotalAllocatedBytes(precise: true) - bytes0) / (double)count);
        }
        await RunAsync(unlogged, 10_000);
        await RunAsync(logged, 10_000);
        var off = new List<(double Host, double Azurite, double Bytes)>();
        var on = new List<(double Host, double Azurite, double Bytes)>();
        for (var round = 0; round < rounds; round++)
        {
            off.Add(await RunAsync(unlogged, requests));
            on.Add(await RunAsync(logged, requests));
        }
        foreach (var document in documents) document.Dispose();
        string Show(List<(double Host, double Azurite, double Bytes)> r) => string.Join(" / ", r.Select(x => $"{x.Host:F2}+{x.Azurite:F2}"));
        string Bytes(List<(double Host, double Azurite, double Bytes)> r) => string.Join(" / ", r.Select(x => x.Bytes.ToString("F0", CultureInfo.InvariantCulture)));
        Console.WriteLine($"  in-process single rows, one thread, {requests:N0} a round, CPU us per request (host+Azurite): log off {Show(off)}; log 100% {Show(on)}");
        Console.WriteLine($"    bytes allocated in the host per request (every thread, the writer's included): log off {Bytes(off)}; log 100% {Bytes(on)}");
        var offMedian = Median([.. off.Select(x => x.Host + x.Azurite)]);
        var onMedian = Median([.. on.Select(x => x.Host + x.Azurite)]);
        Console.WriteLine($"    logging costs {onMedian - offMedian:F2} us a request (median rounds: {offMedian:F2} against {onMedian:F2}); unlogged/logged CPU = {offMedian / onMedian:F3}");
    }

    private static async Task<double[]> TimeAsync(Func<Task> action, int warmUp, int runs)
    {
        for (var i = 0; i < warmUp; i++) await action();
        var times = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await action();
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        return times;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static float Single(string text) => float.Parse(text, CultureInfo.InvariantCulture);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    internal static async Task<string> WaitForProductionAsync(HttpClient http, string model, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync($"/api/models/{model}");
            if (response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync())?["aliases"]?[ModelRegistry.Production]?.GetValue<string>() is { } version)
            {
                return version;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{model} had no production version within {timeout}.");
    }

    /// <summary>One wrk run, with this process's garbage collections during it: gen0, gen1 and gen2 counts and the time paused for them.</summary>
    internal sealed record WrkResult(double RequestsPerSecond, double P50Ms, double P99Ms, long Errors, string Output, int[] Collections, double GcPauseMs, string OlderCollections, double HeapMiB, double Gen2MiB);

    private static readonly GcEvents Collections = new();

    internal static async Task<WrkResult> WrkAsync(string script, string url, int seconds)
    {
        var start = new ProcessStartInfo("wrk", ["-t2", "-c16", $"-d{seconds}s", "--latency", "-s", script, url]) { RedirectStandardOutput = true, RedirectStandardError = true };
        int[] Counts() => [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        Collections.TakeSummary();
        var (collections0, pause0) = (Counts(), GC.GetTotalPauseDuration());
        using var process = Process.Start(start) ?? throw new InvalidOperationException("wrk did not start; install it (apt-get install -y wrk).");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var (collections, pause) = (Counts().Zip(collections0, (a, b) => a - b).ToArray(), (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds);
        if (process.ExitCode != 0) throw new InvalidOperationException($"wrk failed ({process.ExitCode}): {output}{await process.StandardError.ReadToEndAsync()}");
        var rps = double.Parse(Regex.Match(output, @"Requests/sec:\s+([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        long errors = 0;
        if (Regex.Match(output, @"Non-2xx or 3xx responses:\s+(\d+)") is { Success: true } non2xx) errors += long.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture);
        if (Regex.Match(output, @"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)") is { Success: true } socket)
        {
            errors += Enumerable.Range(1, 4).Sum(i => long.Parse(socket.Groups[i].Value, CultureInfo.InvariantCulture));
        }
        var memory = GC.GetGCMemoryInfo();
        return new WrkResult(rps, Percentile(output, "50"), Percentile(output, "99"), errors, output, collections, pause, Collections.TakeSummary(),
            memory.HeapSizeBytes / 1048576.0, memory.GenerationInfo[2].SizeAfterBytes / 1048576.0);
    }

    /// <summary>A line of wrk's latency distribution (e.g. "99%  1.23ms"), in milliseconds.</summary>
    private static double Percentile(string output, string percent)
    {
        var match = Regex.Match(output, $@"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success) throw new InvalidOperationException($"wrk printed no {percent}% latency: {output}");
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "ms" => value, _ => value * 1000 };
    }

    internal static string LoadAverage() => EngineOverhead.LoadAverage() is var text && text.Split(' ') is [var a, var b, var c, ..] ? $"{a} {b} {c}" : text;
}
