using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Storage;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.LocalHost;
using Serverless.Orchestrations;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// Model quality against a peer: every data set of <c>../shared/datasets</c>, and fourteen the project was never tuned on
/// (scikit-learn's bundled diabetes, breast cancer, wine and digits, statsmodels' anes96, grunfeld, fair, co2, randhie,
/// star98 and engel, and three drawn by scikit-learn's generators with a fixed seed: friedman1, hastie and
/// four-classes; exported by the peer script), dropped into the local
/// host (in-process, on a fresh Azurite) as a user would, with the default candidates; once the run has promoted a version, the served version's
/// metrics on its test split beside scikit-learn's HistGradientBoosting with default settings (Debian's python3-sklearn,
/// <c>/usr/bin/python3</c>, <c>benchmarks/quality/hgb_peer.py</c>) trained on the same train and validation rows and scored
/// on the same test rows. The served version's answers to the test rows, asked over HTTP, are scored by the peer script
/// too: they must give the metrics the run registered, and the 95% interval of served minus peer over paired bootstrap
/// resamples of the test rows says whether the test split can tell the two apart. Run by hand, not in CI.
/// </summary>
public static class QualityComparison
{
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// A data set as a user drops it: the file, the spec that goes with it (null: everything inferred), and the name it is
    /// uploaded under when its own is not one the drop zone reads (iris.data is a headerless CSV). <see cref="Unseen"/>:
    /// exported by the peer script from scikit-learn's or statsmodels' bundled copies or scikit-learn's generators (a data
/// set the project was never tuned on), else
    /// a file of <c>../shared/datasets</c>.
    /// </summary>
    private sealed record DataSet(string Name, string File, string? Spec, string? UploadAs = null, bool Unseen = false);

    private static readonly DataSet[] DataSets =
    [
        new("taxi", "taxi/taxi-fare-train.csv", """{"label":"fare_amount","task":"regression"}"""),
        new("iris", "iris/iris.data", null, "iris.csv"),
        new("wine-red", "wine/winequality-red.csv", """{"label":"quality","task":"regression"}"""),
        new("wine-white", "wine/winequality-white.csv", """{"label":"quality","task":"regression"}"""),
        new("yelp", "sentiment/yelp_labelled.txt", null),
        new("detox", "sentiment/wikipedia-detox-250-line-data.tsv", """{"label":"Sentiment","task":"binary"}"""),
        new("diabetes", "diabetes.csv", """{"label":"progression","task":"regression"}""", Unseen: true),
        new("breast-cancer", "breast-cancer.csv", """{"label":"diagnosis","task":"binary"}""", Unseen: true),
        new("wine-cultivar", "wine-cultivar.csv", """{"label":"cultivar","task":"multiclass"}""", Unseen: true),
        new("digits", "digits.csv", """{"label":"digit","task":"multiclass"}""", Unseen: true),
        new("anes96", "anes96.csv", """{"label":"vote","task":"binary"}""", Unseen: true),
        new("grunfeld", "grunfeld.csv", """{"label":"invest","task":"regression"}""", Unseen: true),
        new("fair", "fair.csv", """{"label":"affairs","task":"regression"}""", Unseen: true),
        new("co2", "co2.csv", """{"label":"co2","task":"regression"}""", Unseen: true),
        new("randhie", "randhie.csv", """{"label":"mdvis","task":"regression"}""", Unseen: true),
        new("star98", "star98.csv", """{"label":"pct_above","task":"regression"}""", Unseen: true),
        new("engel", "engel.csv", """{"label":"foodexp","task":"regression"}""", Unseen: true),
        new("friedman1", "friedman1.csv", """{"label":"y","task":"regression"}""", Unseen: true),
        new("hastie", "hastie.csv", """{"label":"outcome","task":"binary"}""", Unseen: true),
        new("four-classes", "four-classes.csv", """{"label":"group","task":"multiclass"}""", Unseen: true),
    ];

    /// <summary>The option that runs every set on more splits than the default seed's: <c>--seeds N</c>.</summary>
    public const string SeedsOption = "--seeds";

    public static async Task<int> RunAsync(string[] args)
    {
        var at = Array.IndexOf(args, SeedsOption);
        var splits = at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 1;
        var only = at >= 0 ? args.Where((_, i) => i != at && i != at + 1).ToArray() : args;
        // The host's default seed first (the run of the table in the README), then 1, 2, ...: each seed another split.
        var defaultSeed = new TrainingOptions().Seed;
        int[] seeds = [defaultSeed, .. Enumerable.Range(1, Math.Max(0, splits - 1)).Select(s => s >= defaultSeed ? s + 1 : s)];
        var root = Path.GetFullPath(Path.Combine(AzuriteProcess.RepositoryRoot, "..", "shared", "datasets"));
        var peer = Path.Combine(AzuriteProcess.RepositoryRoot, "benchmarks", "quality", "hgb_peer.py");
        if (!File.Exists(Python)) throw new FileNotFoundException($"{Python} is missing: sudo apt-get install -y python3-sklearn python3-statsmodels");
        var sets = only.Length == 0 ? DataSets : DataSets.Where(d => only.Contains(d.Name, StringComparer.OrdinalIgnoreCase)).ToArray();

        var unseen = Directory.CreateTempSubdirectory("quality-unseen-");
        if (sets.Any(d => d.Unseen)) RunPeer(peer, ["--export", unseen.FullName], json: false);

        await using var azurite = await AzuriteProcess.StartAsync();
        var suffix = IsolatedLayout.NewSuffix();
        var (app, url) = BenchmarkHost.Create(azurite, suffix, warmUp: true);
        await app.StartAsync();
        var rows = new List<string[]>();
        var verdicts = new List<(string Set, string Point, string Interval)>();
        var bySeed = new List<(string Set, int Seed, Measured Result)>();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(100) };
            var storage = app.Services.GetRequiredService<PipelineStorage>();
            var registry = app.Services.GetRequiredService<ModelRegistry>();
            var runs = app.Services.GetRequiredService<ExperimentRuns>();
            await storage.EnsureCreatedAsync();
            Console.WriteLine($"quality: served model against HistGradientBoosting (scikit-learn {PeerVersion()}, defaults) on the same split; {Environment.ProcessorCount} cores, load {EngineOverhead.LoadAverage()}");
            foreach (var set in sets)
            {
                foreach (var seed in seeds)
                {
                    var result = await MeasureAsync(set, seed == defaultSeed ? null : seed, set.Unseen ? unseen.FullName : root, peer, http, storage, registry, runs, suffix);
                    bySeed.Add((set.Name, seed, result));
                    foreach (var r in result.Rows) Console.WriteLine("  " + (seed == defaultSeed ? "" : $"seed {seed}: ") + string.Join(" | ", r));
                    if (seed != defaultSeed) continue;
                    rows.AddRange(result.Rows);
                    verdicts.Add((set.Name, result.Point, result.Interval));
                }
            }
        }
        finally
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(bound.Token);
            await app.DisposeAsync();
            unseen.Delete(recursive: true);
        }

        Console.WriteLine();
        Console.WriteLine("| data set | rows (train+validation / test) | winner | chosen on | metric | served | HistGradientBoosting | served − peer | 95% interval (paired bootstrap of the test rows) | run wall |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows) Console.WriteLine("| " + string.Join(" | ", r) + " |");
        Console.WriteLine();
        // The primary metric of every set, by the point estimate and by the interval.
        string Count(IEnumerable<string> values) => string.Join(", ", values.GroupBy(v => v).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        Console.WriteLine($"primary metric of {verdicts.Count} sets, served against the peer: point estimate {Count(verdicts.Select(v => v.Point))}; 95% interval {Count(verdicts.Select(v => v.Interval))}");
        foreach (var (set, point, interval) in verdicts.Where(v => v.Point == Worse || v.Interval != NotToldApart)) Console.WriteLine($"  {set}: {point}, interval: {interval}");
        if (seeds.Length > 1) PrintSplits(bySeed, seeds);
        return 0;
    }

    /// <summary>
    /// Each set over every seed's split: the primary metric served and by the peer (means over the splits), how often the
    /// served model matches or beats the peer, and the two-sided sign test of those counts (ties left out): whether the
    /// splits say one of the two is better on that data, or that a single split's verdict is the luck of its test rows.
    /// </summary>
    private static void PrintSplits(List<(string Set, int Seed, Measured Result)> bySeed, int[] seeds)
    {
        Console.WriteLine();
        Console.WriteLine($"| data set | metric | splits (seeds {string.Join(", ", seeds)}) | served, mean | HistGradientBoosting, mean | served − peer, mean (min, max) | served better / equal / worse | not promoted | sign test, two-sided p |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var set in bySeed.GroupBy(s => s.Set))
        {
            // A split whose run promoted nothing (its winner failed the gate) has no served model to compare: counted apart.
            var results = set.Select(s => s.Result).Where(r => r.Point != NotPromoted).ToList();
            var unserved = set.Count() - results.Count;
            if (results.Count == 0)
            {
                Console.WriteLine($"| {set.Key} | – | {set.Count()} | – | – | – | – | {unserved} | – |");
                continue;
            }
            var differences = results.Select(r => r.Served - r.Peer).ToList();
            int better = results.Count(r => r.Point == Better), equal = results.Count(r => r.Point == Equal), worse = results.Count(r => r.Point == Worse);
            Console.WriteLine($"| {set.Key} | {results[0].Primary} | {set.Count()} | {F(results.Average(r => r.Served))} | {F(results.Average(r => r.Peer))} | " +
                $"{Signed(differences.Average())} ({Signed(differences.Min())}, {Signed(differences.Max())}) | {better} / {equal} / {worse} | {unserved} | " +
                $"{SignTest(better, worse).ToString("F3", CultureInfo.InvariantCulture)} |");
        }
    }

    /// <summary>The two-sided exact sign test: the chance of a split at least this uneven between <paramref name="a"/> and <paramref name="b"/> wins when each side is as likely.</summary>
    private static double SignTest(int a, int b)
    {
        var n = a + b;
        if (n == 0) return 1;
        double tail = 0, term = Math.Pow(0.5, n); // C(n, 0) / 2^n
        for (var k = 0; k <= Math.Min(a, b); k++)
        {
            tail += term;
            term = term * (n - k) / (k + 1);
        }
        return Math.Min(1, 2 * tail);
    }

    /// <summary>One set's table rows, and its primary metric's verdicts by the point estimate and by the interval.</summary>
    private sealed record Measured(List<string[]> Rows, string Primary, double Served, double Peer, string Point, string Interval);

    /// <summary>
    /// One set's run: uploaded with its spec (with <paramref name="seed"/>, the spec's seed, which makes another split;
    /// null: the host's default), trained, served and compared with the peer on the same split.
    /// </summary>
    private static async Task<Measured> MeasureAsync(DataSet set, int? seed, string root, string peer, HttpClient http, PipelineStorage storage, ModelRegistry registry, ExperimentRuns runs, string suffix)
    {
        var model = seed is null ? $"{set.Name}-{suffix}" : $"{set.Name}-s{seed}-{suffix}";
        var clock = Stopwatch.StartNew();
        var spec = set.Spec is null ? null : JsonNode.Parse(set.Spec)!.AsObject();
        if (seed is not null) (spec ??= [])[JsonNamingPolicy.CamelCase.ConvertName(nameof(Serverless.Core.Specs.ModelSpec.Seed))] = seed;
        if (spec is not null) await storage.Incoming.GetBlobClient($"{model}/model.json").UploadAsync(BinaryData.FromString(spec.ToJsonString()), overwrite: true);
        await using (var file = File.OpenRead(Path.Combine(root, set.File)))
        {
            await storage.Incoming.GetBlobClient($"{model}/{set.UploadAs ?? Path.GetFileName(set.File)}").UploadAsync(file, overwrite: true);
        }

        JsonNode run;
        while (true)
        {
            if (clock.Elapsed > RunTimeout) throw new TimeoutException($"The run of {model} did not end within {RunTimeout}.");
            await Task.Delay(1000);
            await foreach (var quarantined in storage.Quarantine.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, model + "/", CancellationToken.None))
            {
                if (!quarantined.Name.EndsWith("report.txt", StringComparison.Ordinal) && !quarantined.Name.EndsWith("report.json", StringComparison.Ordinal)) continue;
                var report = (await storage.Quarantine.GetBlobClient(quarantined.Name).DownloadContentAsync()).Value.Content.ToString();
                throw new InvalidOperationException($"{set.File} was quarantined: {report}");
            }
            using var response = await http.GetAsync($"/api/orchestrations?model={model}");
            var listed = response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runs"]?.AsArray() : null;
            if (listed is { Count: > 0 } && listed[0]!["runtimeStatus"]?.GetValue<string>() is nameof(OrchestrationRuntimeStatus.Completed) or nameof(OrchestrationRuntimeStatus.Failed) or nameof(OrchestrationRuntimeStatus.Terminated))
            {
                run = listed[0]!;
                break;
            }
        }
        var wall = clock.Elapsed;
        var version = run["output"]?["version"]?.GetValue<string>();
        var status = run["output"]?["status"]?.GetValue<string>();
        if (run["runtimeStatus"]?.GetValue<string>() == nameof(OrchestrationRuntimeStatus.Completed) && status is not null && status != TrainingStatus.Promoted && version is null)
        {
            // The run ended without a version to serve (its winner failed the quality gate): on this split there is nothing to compare.
            var winner = run["output"]?["winner"]?.GetValue<string>() ?? "–";
            Console.WriteLine($"  {set.Name}: {NotPromoted} ({status}): {winner}, test {run["output"]?["testMetrics"]?.ToJsonString()}");
            return new Measured([[set.Name, "–", winner, "–", $"{NotPromoted} ({status})", "–", "–", "–", "–", $"{wall.TotalSeconds:F1} s"]],
                "", double.NaN, double.NaN, NotPromoted, "–");
        }
        if (status != TrainingStatus.Promoted || version is null)
        {
            throw new InvalidOperationException($"The run of {set.Name} did not promote a version: {run.ToJsonString()}");
        }
        // The stored manifest, as the registry keeps it (the API presents some of its fields differently).
        var manifest = await registry.GetManifestAsync(model, version, CancellationToken.None)
            ?? throw new InvalidOperationException($"{model} {version} has no manifest.");

        var dir = Directory.CreateTempSubdirectory("quality-");
        try
        {
            async Task<string> Download(string blob, string name)
            {
                var path = Path.Combine(dir.FullName, name);
                await storage.Datasets.GetBlobClient(blob).DownloadToAsync(path);
                return path;
            }
            var train = await Download(manifest.Splits.Train, "train.csv");
            var validation = await Download(manifest.Splits.Validation, "validation.csv");
            var test = await Download(manifest.Splits.Test, "test.csv");
            var schema = Path.Combine(dir.FullName, "schema.json");
            await File.WriteAllTextAsync(schema, JsonSerializer.Serialize(manifest.Schema, JsonBlobs.Options));
            var fitFiles = manifest.Fit?.On == FitSets.TrainAndValidation ? $"{train},{validation}" : train;
            var served = Path.Combine(dir.FullName, "served.json");
            await AskServedAsync(http, model, manifest, test, served);
            var peerMetrics = RunPeer(peer, ["--train", fitFiles, "--test", test, "--schema", schema, "--served", served]);
            // The served answers, asked through HTTP, must reproduce the test metrics the run registered (the same rows, model and reading of cells).
            foreach (var (metric, registered) in manifest.TestMetrics)
            {
                if (peerMetrics.TryGetValue(ServedKey + metric, out var asked) && Math.Abs(asked - registered) > 1e-4)
                {
                    Console.WriteLine($"  {set.Name}: MISMATCH: {metric} of the served answers {F(asked)}, registered on test {F(registered)}");
                }
            }

            foreach (var note in manifest.GateNotes.Where(n => n.Contains(CandidateChoice.ChosenOver, StringComparison.Ordinal) || n.StartsWith(QualityGate.NotChance, StringComparison.Ordinal)))
            {
                Console.WriteLine($"  {set.Name}: {note}");
            }
            // Every candidate of the run as it was scored for the choice (mean ± sd over the folds), and its scoring cost.
            var candidates = (await runs.ListAsync(model, manifest.PrimaryMetric, CancellationToken.None))
                .Where(r => r.OrchestrationId == manifest.OrchestrationId);
            foreach (var c in candidates)
            {
                var sd = c.Selection?.StandardDeviation?.GetValueOrDefault(manifest.PrimaryMetric, double.NaN) ?? double.NaN;
                Console.WriteLine($"  {set.Name}: candidate {c.Trainer}({string.Join(", ", c.Parameters.Select(p => $"{p.Key}={p.Value}"))}) " +
                    $"{c.Selection?.Set} {manifest.PrimaryMetric} {F(c.Metrics.GetValueOrDefault(manifest.PrimaryMetric, double.NaN))} ± {F(sd)}, cost {c.Selection?.ScoringCost:F1}, {c.Status}");
            }
            var fitRows = manifest.Fit?.Rows ?? manifest.Splits.TrainRows;
            var names = Metrics.For(manifest.Schema.Task).Where(n => n != "mae" && n != "f1");
            var primary = manifest.PrimaryMetric;
            double Served(string n) => manifest.TestMetrics.GetValueOrDefault(n, double.NaN);
            double Peer(string n, string key = "") => peerMetrics.GetValueOrDefault(key + n, double.NaN);
            return new Measured([.. names.Select(n => new[]
            {
                set.Name, $"{fitRows:N0} / {manifest.Splits.TestRows:N0}", manifest.Candidate.ToString(), Chosen(manifest),
                n == manifest.PrimaryMetric ? $"**{n}**" : n,
                F(Served(n)), F(Peer(n)), Delta(n, Served(n), Peer(n)), Interval(n, Peer(n, LowKey), Peer(n, HighKey)),
                $"{wall.TotalSeconds:F1} s",
            })], primary, Served(primary), Peer(primary),
                PointVerdict(primary, Served(primary), Peer(primary)), IntervalVerdict(primary, Peer(primary, LowKey), Peer(primary, HighKey)));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>How the winner was chosen: its selection set and the primary metric there (mean ± sd across folds when cross-validated).</summary>
    private static string Chosen(ModelManifest manifest)
    {
        var metric = manifest.PrimaryMetric;
        var value = F(manifest.ValidationMetrics.GetValueOrDefault(metric, double.NaN));
        return manifest.Selection?.StandardDeviation?.TryGetValue(metric, out var sd) == true
            ? $"{manifest.Selection.Set} {metric} {value} ± {F(sd)}"
            : $"{manifest.Selection?.Set ?? "validation"} {metric} {value}";
    }

    /// <summary>A difference with its sign; one that rounds to zero is written +0.0000.</summary>
    private static string Signed(double value) => value.ToString("+0.0000;-0.0000;+0.0000", CultureInfo.InvariantCulture);

    private static string F(double value) => double.IsNaN(value) ? "–" : value.ToString("F4", CultureInfo.InvariantCulture);

    /// <summary>Served minus peer, marked better or worse by the metric's direction.</summary>
    private static string Delta(string metric, double served, double peer)
    {
        if (double.IsNaN(served) || double.IsNaN(peer)) return "–";
        return $"{Signed(served - peer)} ({PointVerdict(metric, served, peer)})";
    }

    private const string Better = "better", Worse = "worse", Equal = "equal", NotToldApart = "not told apart", NotPromoted = "not promoted";

    /// <summary>Served against peer by the point estimate: better, equal (within 0.00005) or worse.</summary>
    private static string PointVerdict(string metric, double served, double peer) =>
        double.IsNaN(served) || double.IsNaN(peer) ? "–"
        : Math.Abs(served - peer) < 5e-5 ? Equal
        : Metrics.IsBetter(metric, served, peer) ? Better : Worse;

    /// <summary>Served against peer by the 95% interval of the difference: better or worse when it lies wholly on one side of 0.</summary>
    private static string IntervalVerdict(string metric, double low, double high) =>
        double.IsNaN(low) || double.IsNaN(high) ? "–"
        : low > 0 || high < 0 ? (Metrics.HigherIsBetter(metric) == low > 0 ? Better : Worse)
        : NotToldApart;

    /// <summary>The peer's keys of the served answers' metrics, and of the interval of served minus peer, before the metric's name.</summary>
    private const string ServedKey = "served.", LowKey = "low.", HighKey = "high.";

    /// <summary>
    /// The 95% interval of served minus peer over paired bootstrap resamples of the test rows, and what it says: better or
    /// worse when it lies wholly on one side of 0, else that the test rows cannot tell the two apart.
    /// </summary>
    private static string Interval(string metric, double low, double high)
    {
        if (double.IsNaN(low) || double.IsNaN(high)) return "–";
        return $"[{Signed(low)}, {Signed(high)}] ({IntervalVerdict(metric, low, high)})";
    }

    /// <summary>
    /// The served version's answers to every row of the test split, asked over HTTP as a client asks (the schema's features,
    /// cells as the file has them, at most the configured rows a request), written in the file's order as one JSON array
    /// for the peer script to score beside its own.
    /// </summary>
    private static async Task AskServedAsync(HttpClient http, string model, ModelManifest manifest, string test, string path)
    {
        var limit = new Serverless.Core.Serving.PredictionOptions().MaxRows;
        var answers = new List<Serverless.Core.Serving.RowPrediction>();
        var batch = new JsonArray();
        async Task Ask()
        {
            var body = new JsonObject { [Serverless.Core.Serving.PredictionRequest.RowsProperty] = batch };
            using var response = await http.PostAsync(Serverless.Core.Api.ApiRoutes.PredictOf(model),
                new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"predict of {model} answered {(int)response.StatusCode}: {text}");
            answers.AddRange(JsonSerializer.Deserialize<Serverless.Core.Serving.PredictionResponse>(text, JsonBlobs.Options)!.Predictions);
            batch = [];
        }
        await foreach (var (header, fields) in CanonicalCsv.ReadRecordsAsync(test, CancellationToken.None))
        {
            var row = new JsonObject();
            foreach (var feature in manifest.Schema.Features) row[feature] = fields[Array.IndexOf(header, feature)] ?? "";
            batch.Add(row);
            if (batch.Count == limit) await Ask();
        }
        if (batch.Count > 0) await Ask();
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(answers, JsonBlobs.Options));
    }

    /// <summary>Runs the peer script; with <paramref name="json"/>, its output is one JSON object of metrics.</summary>
    private static Dictionary<string, double> RunPeer(string script, string[] args, bool json = true)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"The peer failed ({process.ExitCode}): {error}");
        return json ? JsonSerializer.Deserialize<Dictionary<string, double>>(output)! : [];
    }

    private static string PeerVersion()
    {
        var start = new ProcessStartInfo(Python, ["-c", "import sklearn; print(sklearn.__version__)"]) { RedirectStandardOutput = true };
        using var process = Process.Start(start)!;
        var version = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return version;
    }
}
