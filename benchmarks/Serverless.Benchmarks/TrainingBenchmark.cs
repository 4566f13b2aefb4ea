using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Registry;
using Serverless.Core.Storage;
using Microsoft.Extensions.Options;
using Serverless.LocalHost;
using Serverless.LocalHost.Durable;
using Serverless.LocalHost.Triggers;
using Serverless.Orchestrations;
using Serverless.Testing;

namespace Serverless.Benchmarks;

/// <summary>
/// The training workflow end to end on the local host (started in-process on a fresh Azurite, on the real Durable Task
/// engine): the taxi data (100,000 rows, regression on fare_amount) dropped into incoming/ under a new model per run.
/// Per run: upload-to-servable time (upload start until the model has a production alias and predict answers 200; run 1
/// is cold, later runs warm) and the training run's wall time against its activities' critical path, read from the task
/// hub's History table.
/// </summary>
public static class TrainingOverhead
{
    private const string Spec = """{"label":"fare_amount","task":"regression"}""";

    private const string PredictBody =
        """{"vendor_id":"CMT","rate_code":1,"passenger_count":1,"trip_time_in_secs":1271,"trip_distance":3.8,"payment_type":"CRD"}""";

    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(20);

    public static async Task<int> RunAsync(int runs)
    {
        if (runs < 1) throw new ArgumentException("runs must be at least 1.");
        var data = Path.Combine(BenchmarkHost.TaxiFolder, "taxi-fare-train.csv");
        if (!File.Exists(data)) throw new FileNotFoundException($"The taxi data is not at {data}.", data);

        await using var azurite = await AzuriteProcess.StartAsync();
        var suffix = IsolatedLayout.NewSuffix();
        var hub = IsolatedLayout.TaskHub(suffix);
        var (app, url) = BenchmarkHost.Create(azurite, suffix, warmUp: true);
        await app.StartAsync();
        var results = new List<RunResult>();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(100) };
            var storage = app.Services.GetRequiredService<PipelineStorage>();
            var workflows = app.Services.GetRequiredService<DurableTaskClient>();
            var history = new TableClient(azurite.ConnectionString, hub + "History");
            await storage.EnsureCreatedAsync();

            var engine = app.Services.GetRequiredService<IOptions<DurableEngineOptions>>().Value;
            var trigger = app.Services.GetRequiredService<IOptions<BlobTriggerOptions>>().Value;
            Console.WriteLine($"training: taxi-fare-train.csv ({new FileInfo(data).Length / 1024.0 / 1024:F1} MiB), spec {Spec}, {runs} run(s), one new model each; " +
                              $"{Environment.ProcessorCount} cores");
            Console.WriteLine($"  local host in-process on {url}, Azurite in memory; task hub {hub} ({engine.PartitionCount} partitions), " +
                              $"MaxConcurrentActivities {engine.ResolvedMaxConcurrentActivities}, blob trigger poll {trigger.PollInterval.TotalSeconds:0.###} s; " +
                              $"servable polled every {Poll.TotalMilliseconds:0} ms");

            for (var run = 1; run <= runs; run++)
            {
                var model = $"taxi-{suffix}-{run}";
                var result = await MeasureRunAsync(run, model, data, http, storage, workflows, history);
                results.Add(result);
                Print(result);
            }
        }
        finally
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(bound.Token);
            await app.DisposeAsync();
        }

        Console.WriteLine();
        Console.WriteLine($"  {"run",-9} {"upload→servable s",18} {"run wall s",11} {"critical path s",16} {"overhead s",11} {"overhead %",11} {"activities",11} {"load avg (1/5/15 min) after",28}");
        foreach (var r in results)
        {
            Console.WriteLine($"  {$"{r.Run} ({(r.Run == 1 ? "cold" : "warm")})",-9} {r.Servable.TotalSeconds,18:F2} {r.Wall.TotalSeconds,11:F2} {r.CriticalPathTime.TotalSeconds,16:F2} " +
                              $"{r.Overhead.TotalSeconds,11:F2} {r.Overhead / r.Wall,11:P1} {r.Activities.Count,11} {r.LoadAfter,28}");
        }
        return 0;
    }

    private static async Task<RunResult> MeasureRunAsync(int run, string model, string data, HttpClient http, PipelineStorage storage, DurableTaskClient workflows, TableClient history)
    {
        var loadBefore = LoadAverage();
        await storage.Incoming.GetBlobClient($"{model}/model.json").UploadAsync(BinaryData.FromString(Spec), overwrite: true);

        var start = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        await using (var file = File.OpenRead(data))
        {
            await storage.Incoming.GetBlobClient($"{model}/data.csv").UploadAsync(file, overwrite: true);
        }
        var uploaded = clock.Elapsed;

        TimeSpan? aliasSeen = null;
        string? production = null;
        string last = "nothing yet";
        var nextRunCheck = TimeSpan.Zero;
        while (true)
        {
            if (clock.Elapsed > RunTimeout) throw new TimeoutException($"Model {model} was not servable within {RunTimeout}; last seen: {last}");
            if (aliasSeen is null)
            {
                using var response = await http.GetAsync($"/api/models/{model}");
                last = $"GET /api/models/{model}: {(int)response.StatusCode}";
                if (response.IsSuccessStatusCode)
                {
                    var doc = JsonNode.Parse(await response.Content.ReadAsStringAsync());
                    production = doc?["aliases"]?[ModelRegistry.Production]?.GetValue<string>();
                    if (production is not null) aliasSeen = clock.Elapsed;
                }
                if (aliasSeen is null && clock.Elapsed >= nextRunCheck)
                {
                    // A run that ended without promoting would never make the model servable: stop early with its reason.
                    nextRunCheck = clock.Elapsed + TimeSpan.FromSeconds(2);
                    if (await FindRunAsync(http, model) is { } ended && ended["runtimeStatus"]?.GetValue<string>() is nameof(OrchestrationRuntimeStatus.Failed) or nameof(OrchestrationRuntimeStatus.Terminated) or nameof(OrchestrationRuntimeStatus.Completed))
                    {
                        var status = ended["output"]?["status"]?.GetValue<string>();
                        if (status != TrainingStatus.Promoted)
                        {
                            throw new InvalidOperationException($"The run of {model} ended {ended["runtimeStatus"]} ({status}) without promoting: {ended.ToJsonString()}");
                        }
                    }
                }
            }
            if (aliasSeen is not null)
            {
                using var content = new StringContent(PredictBody, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync($"/api/models/{model}/predict", content);
                last = $"POST /api/models/{model}/predict: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.IsSuccessStatusCode) break;
            }
            await Task.Delay(Poll);
        }
        var servable = clock.Elapsed;

        var listed = await FindRunAsync(http, model) ?? throw new InvalidOperationException($"GET /api/orchestrations?model={model} lists no run.");
        var instanceId = listed["instanceId"]!.GetValue<string>();
        OrchestrationMetadata? instance;
        while (true)
        {
            instance = await workflows.GetInstanceAsync(instanceId, getInputsAndOutputs: false);
            if (instance is { IsCompleted: true }) break;
            if (clock.Elapsed > RunTimeout) throw new TimeoutException($"Run {instanceId} did not end within {RunTimeout}.");
            await Task.Delay(Poll);
        }
        listed = await FindRunAsync(http, model) ?? listed;

        var activities = await ReadActivitiesAsync(history, instanceId);
        var path = CriticalPath(activities);
        return new RunResult(run, model, instanceId, instance.RuntimeStatus.ToString(),
            listed["output"]?["status"]?.GetValue<string>(), listed["output"]?["winner"]?.GetValue<string>(), production,
            start, uploaded, aliasSeen!.Value, servable, instance.CreatedAt, instance.LastUpdatedAt, activities, path,
            await CandidatesAsync(http, model), loadBefore, LoadAverage());
    }

    /// <summary>The model's newest run as <c>GET /api/orchestrations?model=</c> lists it.</summary>
    private static async Task<JsonNode?> FindRunAsync(HttpClient http, string model)
    {
        using var response = await http.GetAsync($"/api/orchestrations?model={model}");
        if (!response.IsSuccessStatusCode) return null;
        var runs = JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runs"]?.AsArray();
        return runs is { Count: > 0 } ? runs[0] : null;
    }

    /// <summary>The candidates' own records (<c>GET /api/models/{model}/runs</c>): when each started training and how long it took.</summary>
    private static async Task<List<Candidate>> CandidatesAsync(HttpClient http, string model)
    {
        using var response = await http.GetAsync($"/api/models/{model}/runs");
        if (!response.IsSuccessStatusCode) return [];
        var runs = JsonNode.Parse(await response.Content.ReadAsStringAsync())?["runs"]?.AsArray() ?? [];
        return [.. runs.OfType<JsonNode>()
            .Select(r => new Candidate(r["trainer"]?.GetValue<string>() ?? "?", r["startedAt"]?.GetValue<DateTimeOffset>() ?? default,
                TimeSpan.FromMilliseconds(r["durationMs"]?.GetValue<double>() ?? 0), r["status"]?.GetValue<string>() ?? "?"))
            .OrderBy(c => c.StartedAt)];
    }

    /// <summary>
    /// The run's activities from the task hub's History table (PartitionKey = instance id): each <c>TaskScheduled</c> row
    /// (EventId, Name, <c>_Timestamp</c>, the event's own time; <c>Timestamp</c> is the row's write time) with the
    /// <c>TaskCompleted</c> or <c>TaskFailed</c> row whose TaskScheduledId is that EventId.
    /// </summary>
    private static async Task<List<ActivitySpan>> ReadActivitiesAsync(TableClient history, string instanceId)
    {
        var scheduled = new Dictionary<int, (string Name, DateTimeOffset At)>();
        var ended = new Dictionary<int, (DateTimeOffset At, bool Failed)>();
        await foreach (var row in history.QueryAsync<TableEntity>(e => e.PartitionKey == instanceId))
        {
            var type = row.GetString("EventType");
            if (type is null || row.GetDateTimeOffset("_Timestamp") is not { } at) continue;
            switch (type)
            {
                case "TaskScheduled" when row.GetInt32("EventId") is { } id:
                    scheduled[id] = (row.GetString("Name") ?? "?", at);
                    break;
                case "TaskCompleted" or "TaskFailed" when row.GetInt32("TaskScheduledId") is { } id:
                    ended[id] = (at, type == "TaskFailed");
                    break;
            }
        }
        return [.. scheduled
            .Where(s => ended.ContainsKey(s.Key))
            .Select(s => new ActivitySpan(s.Key, s.Value.Name, s.Value.At, ended[s.Key].At, ended[s.Key].Failed))
            .OrderBy(a => a.Scheduled).ThenBy(a => a.EventId)];
    }

    /// <summary>
    /// From the activity that ended last, back each time to the activity that ended last before the current one was
    /// scheduled; returned in time order.
    /// </summary>
    private static List<ActivitySpan> CriticalPath(IReadOnlyList<ActivitySpan> activities)
    {
        var path = new List<ActivitySpan>();
        var current = activities.MaxBy(a => a.Ended);
        while (current is not null)
        {
            path.Add(current);
            var scheduled = current.Scheduled;
            current = activities.Where(a => a.Ended <= scheduled).MaxBy(a => a.Ended);
        }
        path.Reverse();
        return path;
    }

    private static void Print(RunResult r)
    {
        TimeSpan At(DateTimeOffset t) => t - r.UploadStart;
        Console.WriteLine();
        Console.WriteLine($"  run {r.Run} ({(r.Run == 1 ? "cold" : "warm")}): model {r.Model}, run {r.InstanceId} {r.RuntimeStatus} ({r.Outcome}), " +
                          $"winner {r.Winner}, production {r.Production}; load avg before {r.LoadBefore}, after {r.LoadAfter}");
        Console.WriteLine($"    timeline from upload start: upload done {r.Uploaded.TotalSeconds:F2} s, run created {At(r.Created).TotalSeconds:F2} s, " +
                          $"production alias seen {r.AliasSeen.TotalSeconds:F2} s, predict 200 {r.Servable.TotalSeconds:F2} s, run ended {At(r.LastUpdated).TotalSeconds:F2} s");
        Console.WriteLine($"    upload-to-servable {r.Servable.TotalSeconds,8:F2} s");
        Console.WriteLine($"    run wall           {r.Wall.TotalSeconds,8:F2} s  (created to last updated)");
        Console.WriteLine($"    critical path      {r.CriticalPathTime.TotalSeconds,8:F2} s  in {r.Path.Count} of {r.Activities.Count} activities " +
                          $"(all activities summed {r.Activities.Sum(a => a.Duration.TotalSeconds):F2} s{(r.Activities.Any(a => a.Failed) ? $", {r.Activities.Count(a => a.Failed)} failed" : "")})");
        Console.WriteLine($"    overhead           {r.Overhead.TotalSeconds,8:F2} s  = {r.Overhead / r.Wall:P1} of wall");
        Console.WriteLine($"    {"critical path activity",-24} {"scheduled at s",15} {"ended at s",11} {"duration s",11}   (times from run created)");
        foreach (var a in r.Path)
        {
            Console.WriteLine($"    {a.Name,-24} {(a.Scheduled - r.Created).TotalSeconds,15:F2} {(a.Ended - r.Created).TotalSeconds,11:F2} {a.Duration.TotalSeconds,11:F2}{(a.Failed ? "  failed" : "")}");
        }
        Console.WriteLine($"    candidates (their own records): " + string.Join("; ", r.Candidates.Select(c =>
            $"{c.Trainer} {c.Status} started {(c.StartedAt - r.Created).TotalSeconds:F2} s, trained {c.Duration.TotalSeconds:F2} s")));
    }

    private static string LoadAverage() => EngineOverhead.LoadAverage() is var text && text.Split(' ') is [var a, var b, var c, ..] ? $"{a} {b} {c}" : text;

    private sealed record ActivitySpan(int EventId, string Name, DateTimeOffset Scheduled, DateTimeOffset Ended, bool Failed)
    {
        public TimeSpan Duration => Ended - Scheduled;
    }

    private sealed record Candidate(string Trainer, DateTimeOffset StartedAt, TimeSpan Duration, string Status);

    private sealed record RunResult(
        int Run, string Model, string InstanceId, string RuntimeStatus, string? Outcome, string? Winner, string? Production,
        DateTimeOffset UploadStart, TimeSpan Uploaded, TimeSpan AliasSeen, TimeSpan Servable, DateTimeOffset Created, DateTimeOffset LastUpdated,
        IReadOnlyList<ActivitySpan> Activities, IReadOnlyList<ActivitySpan> Path, IReadOnlyList<Candidate> Candidates, string LoadBefore, string LoadAfter)
    {
        public TimeSpan Wall => LastUpdated - Created;
        public TimeSpan CriticalPathTime => TimeSpan.FromTicks(Path.Sum(a => a.Duration.Ticks));
        public TimeSpan Overhead => Wall - CriticalPathTime;
    }
}
