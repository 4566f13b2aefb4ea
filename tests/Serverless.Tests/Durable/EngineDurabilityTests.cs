using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Serverless.Core.Storage;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Durable;

/// <summary>
/// Durability and scale-out of the local host's Durable Task engine, with real processes on one task hub in Azurite:
/// a host killed with SIGKILL mid-fan-out is replaced and the run resumes; two hosts share one fan-out.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class EngineDurabilityTests(AzuriteFixture azurite, Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Six FastTree candidates: a fan-out long enough to be interrupted.</summary>
    private const string SixCandidates =
        """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree","grid":{"numberOfIterations":[150,200,250,300,350,400]}}]}""";

    [Fact]
    public async Task KilledMidFanOut_ARestartedHostResumes_CompletedCandidatesDoNotRunAgain_OneVersionIsRegistered()
    {
        var suffix = IsolatedLayout.NewSuffix();
        var settings = HostProcess.SharedSettings(azurite, suffix);
        settings["Pipeline:Durable:MaxConcurrentActivities"] = "1";
        var first = await HostProcess.StartAsync(settings);
        await UploadAsync(suffix, "crash", SixCandidates, 8000);
        var id = await WaitForRunIdAsync(first, "crash");
        await first.WaitForRunAsync(id, r => r["customStatus"]?["stage"]?.GetValue<string>() == "training" && r["customStatus"]?["completed"]?.GetValue<int>() >= 2, TimeSpan.FromMinutes(3));
        var before = await RunsAsync(first, "crash");
        first.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        var doneBefore = before.Where(r => r["status"]?.GetValue<string>() == "succeeded").ToDictionary(r => r["runId"]!.GetValue<string>(), r => r.ToJsonString());
        Assert.InRange(doneBefore.Count, 2, 5);

        await using var second = await HostProcess.StartAsync(settings);
        var done = await second.WaitForRunAsync(id, r => r["runtimeStatus"]?.GetValue<string>() is "Completed" or "Failed" or "Terminated", TimeSpan.FromMinutes(4));

        Assert.Equal("Completed", done["runtimeStatus"]!.GetValue<string>());
        Assert.Equal("promoted", done["output"]!["status"]!.GetValue<string>());
        var after = await RunsAsync(second, "crash");
        foreach (var (runId, record) in doneBefore)
        {
            // The same record: not trained again (a second run would have rewritten its start time and host). The version
            // a run became is the registry's, added to the list since.
            var stored = after.Single(r => r["runId"]!.GetValue<string>() == runId).DeepClone().AsObject();
            stored.Remove("version");
            Assert.Equal(record, stored.ToJsonString());
        }
        var resumed = after.Where(r => !doneBefore.ContainsKey(r["runId"]!.GetValue<string>())).ToList();
        Assert.NotEmpty(resumed);
        var secondHost = $"{Environment.MachineName}-{second.Id}";
        Assert.All(resumed, r => Assert.Equal(secondHost, r["host"]!.GetValue<string>()));
        // The documented bound: partition lease (15 s) and message visibility (20 s) lapse, then work resumes.
        var firstResumed = resumed.Min(r => r["startedAt"]!.GetValue<DateTimeOffset>());
        var offsets = resumed.Select(r => (r["startedAt"]!.GetValue<DateTimeOffset>() - killedAt).TotalSeconds).Order().Select(o => $"{o:F1} s");
        output.WriteLine($"{doneBefore.Count} candidates done before the kill; after it, candidates started at {string.Join(", ", offsets)} and the run ended at {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s at the latest");
        Assert.True(firstResumed - killedAt < TimeSpan.FromSeconds(45), $"Work resumed {(firstResumed - killedAt).TotalSeconds:F1} s after the kill.");
        var model = await second.Client.GetFromJsonAsync<JsonObject>("/api/models/crash");
        Assert.Single(model!["versions"]!.AsArray());
        Assert.Equal("v1", model["aliases"]!["production"]!.GetValue<string>());
    }

    [Fact]
    public async Task TwoHostsOnOneTaskHub_ShareOneFanOut_AndTheRunCompletesOnceWithOneVersion()
    {
        var suffix = IsolatedLayout.NewSuffix();
        var settings = HostProcess.SharedSettings(azurite, suffix);
        settings["Pipeline:Durable:MaxConcurrentActivities"] = "1";
        await using var one = await HostProcess.StartAsync(settings);
        await using var two = await HostProcess.StartAsync(settings);
        await UploadAsync(suffix, "shared", SixCandidates, 6000);
        var id = await WaitForRunIdAsync(one, "shared");
        var done = await one.WaitForRunAsync(id, r => r["runtimeStatus"]?.GetValue<string>() is "Completed" or "Failed" or "Terminated", TimeSpan.FromMinutes(4));

        Assert.Equal("Completed", done["runtimeStatus"]!.GetValue<string>());
        var runs = await RunsAsync(two, "shared");
        Assert.Equal(6, runs.Count);
        var hosts = runs.Select(r => r["host"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(new HashSet<string> { $"{Environment.MachineName}-{one.Id}", $"{Environment.MachineName}-{two.Id}" }, hosts);
        var list = await two.Client.GetFromJsonAsync<JsonObject>("/api/orchestrations?model=shared");
        Assert.Single(list!["runs"]!.AsArray());
        var model = await two.Client.GetFromJsonAsync<JsonObject>("/api/models/shared");
        Assert.Single(model!["versions"]!.AsArray());
    }

    [Fact]
    public async Task StoppingAHostWhileATrainingActivityRuns_IsBounded()
    {
        var suffix = IsolatedLayout.NewSuffix();
        var settings = HostProcess.SharedSettings(azurite, suffix);
        settings["Pipeline:Durable:MaxConcurrentActivities"] = "1";
        await using var host = await HostProcess.StartAsync(settings);
        await UploadAsync(suffix, "stopping", SixCandidates, 8000);
        var id = await WaitForRunIdAsync(host, "stopping");
        await host.WaitForRunAsync(id, r => r["customStatus"]?["stage"]?.GetValue<string>() == "training", TimeSpan.FromMinutes(3));
        await Task.Delay(500);

        var clock = Stopwatch.StartNew();
        var exited = await host.TerminateAsync(TimeSpan.FromSeconds(60));

        output.WriteLine($"SIGTERM to exit while training: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(exited, $"The host did not exit within 60 s of SIGTERM.\n{host.Output}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"The host took {clock.Elapsed.TotalSeconds:F1} s to stop.");
    }

    private async Task UploadAsync(string suffix, string model, string spec, int rows)
    {
        var storage = new PipelineStorage(Options.Create(IsolatedLayout.Storage(azurite.ConnectionString, suffix)));
        await storage.EnsureCreatedAsync();
        await storage.Incoming.GetBlobClient($"{model}/model.json").UploadAsync(BinaryData.FromString(spec), overwrite: true);
        await storage.Incoming.GetBlobClient($"{model}/data.csv").UploadAsync(BinaryData.FromString(TestData.TaxiSlice(rows)), overwrite: true);
    }

    private static async Task<string> WaitForRunIdAsync(HostProcess host, string model)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var list = await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations?model={model}");
            if (list?["runs"]?.AsArray().FirstOrDefault() is { } run) return run["instanceId"]!.GetValue<string>();
            await Task.Delay(200);
        }
        throw new TimeoutException($"No run of '{model}' started within 60 s.\n{host.Output}");
    }

    private static async Task<List<JsonObject>> RunsAsync(HostProcess host, string model)
    {
        var body = await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}/runs");
        return [.. body!["runs"]!.AsArray().Select(r => r!.AsObject())];
    }
}
