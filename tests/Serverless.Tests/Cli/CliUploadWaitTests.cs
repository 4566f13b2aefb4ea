using System.Net.Http.Json;
using Serverless.Cli;
using Serverless.Testing;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Cli;

/// <summary>
/// <c>mlops upload --wait</c> as its own process against the local host on loopback and Azurite: it follows the file it
/// uploaded to its end and says how it ended (plain lines, since its output is not a terminal).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CliUploadWaitTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private const string Spec = """{"trainers":[{"name":"Sdca"},{"name":"FastTree"}]}""";

    [Fact]
    public async Task UploadWait_NewData_ReportsEachStageAndEndsWithTheVersionAndMetric()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var files = new WorkFiles();
        var data = files.Write("fares.csv", TestData.TaxiSlice(600));
        var spec = files.Write("model.json", Spec);

        var (exit, output) = await CliRunner.RunProcessAsync(Environment(host), Timeout,
            "upload", "fares", data, "--spec", spec, "--label", "fare_amount", "--task", "regression", "--wait", "--timeout", "200", "--host", host.Client.BaseAddress!.ToString());

        Assert.True(exit == ExitCodes.Ok, output);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        string[] steps = ["uploaded: spec incoming/fares/model.json", "uploaded: data incoming/fares/fares.csv", "ingested: dataset version ds-", "training run train-fares-ds-",
                          "gate: passed", "promoted: v1 is in production", "done: fares v1, rmse = "];
        var at = steps.Select(step => Array.FindIndex(lines, l => l.Contains(step, StringComparison.Ordinal))).ToArray();
        Assert.True(at.All(i => i >= 0), $"a step is missing from:\n{output}");
        Assert.True(at.SequenceEqual(at.Order()), $"the steps are out of order in:\n{output}");
        // The test metric with its 95% bootstrap interval.
        Assert.Matches(@"done: fares v1, rmse = [\d.]+ \[[\d.]+, [\d.]+\] on the test split", output);
        Assert.Contains("candidates: 2 of 2 trained", output);
        Assert.Contains("winner: ", output);

        // show lists the version with the same test value and interval.
        var done = System.Text.RegularExpressions.Regex.Match(output, @"rmse = ([\d.]+ \[[\d.]+, [\d.]+\])").Groups[1].Value;
        var (shown, table) = await CliRunner.RunProcessAsync(Environment(host), Timeout, "show", "fares", "--host", host.Client.BaseAddress!.ToString());
        Assert.True(shown == ExitCodes.Ok, table);
        Assert.Contains($"rmse {done}", table);
        files.Delete();
    }

    [Fact]
    public async Task UploadWait_SameDataAgain_SaysItIsADuplicateAndHowItsRunEnded()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("again", "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync("again", "first.csv", TestData.TaxiSlice(500));
        await host.WaitForModelAsync("again", m => m["aliases"]?["production"] is not null, Timeout);
        var files = new WorkFiles();
        var data = files.Write("second.csv", TestData.TaxiSlice(500));

        var (exit, output) = await UploadWaitAsync(host, "again", data, 120);

        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains("duplicate: the data equals dataset version ds-", output);
        Assert.Contains("that data was trained on before, by run train-again-ds-", output);
        Assert.Contains("done: again v1, rmse = ", output);
        files.Delete();
    }

    [Fact]
    public async Task UploadWait_EarlierDataMadeLatestAgain_SaysSo_AndThatItsRunsVersionIsNoLongerInProduction()
    {
        await using var host = await TestHost.StartAsync(azurite);
        // A challenger may trail by up to 100 % and still be promoted: the second upload's version takes production.
        await host.UploadAsync("restored", "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"}],"championTolerance":1}""");
        await host.UploadAsync("restored", "first.csv", TestData.TaxiSlice(500));
        await host.WaitForModelAsync("restored", m => m["aliases"]?["production"]?.GetValue<string>() == "v1", Timeout);
        await host.UploadAsync("restored", "second.csv", TestData.TaxiSlice(700));
        await host.WaitForModelAsync("restored", m => m["aliases"]?["production"]?.GetValue<string>() == "v2", Timeout);
        var files = new WorkFiles();
        var data = files.Write("first-again.csv", TestData.TaxiSlice(500));

        var (exit, output) = await UploadWaitAsync(host, "restored", data, 120);

        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains("restored: the data equals dataset version ds-", output);
        Assert.Contains("which is the latest data again (it was ds-", output);
        Assert.Contains("that data was trained on before, by run train-restored-ds-", output);
        Assert.Contains("promoted: v1 by that run; production is v2 now", output);
        Assert.Contains("done: restored v1, rmse = ", output);
        Assert.Contains("on the test split, no longer in production", output);
        Assert.Contains("(POST /api/models/restored/train trains on it again)", output);
        Assert.DoesNotContain("promoted: v1 is in production", output);

        // The same file name uploaded again, with the same data: this upload is a duplicate, whatever the earlier one was.
        var (twice, again) = await UploadWaitAsync(host, "restored", data, 120);
        Assert.True(twice == ExitCodes.Ok, again);
        Assert.Contains("duplicate: the data equals dataset version ds-", again);
        Assert.DoesNotContain("restored:", again);
        files.Delete();
    }

    /// <summary>
    /// The same failing data uploaded again starts the next attempt, which fails at once: when the follower first looks,
    /// its run has failed already. It is still this upload's run (created after the upload was ingested), not an earlier
    /// attempt to skip: the follower ends with that failure, where it used to wait for an attempt that never came.
    /// </summary>
    [Fact]
    public async Task Follow_UploadWhoseRetriedRunFailedBeforeItLooked_EndsWithThatFailure_WithExitCode4()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("doomed", "model.json", """{"label":"fare_amount","task":"regression"}""");
        var data = TestData.TaxiSlice(8);
        await host.UploadAsync("doomed", "first.csv", data);
        await WaitForFailedRunsAsync(host, "doomed", 1);
        await host.UploadAsync("doomed", "again.csv", data);
        var eTag = (await host.Storage.Incoming.GetBlobClient("doomed/again.csv").GetPropertiesAsync()).Value.ETag.ToString();
        var runs = await WaitForFailedRunsAsync(host, "doomed", 2);
        var output = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(output), Interactive = Spectre.Console.InteractionSupport.No });
        using var client = new PipelineClient(host.Client.BaseAddress!, adminKey: null);
        var follower = new Serverless.Cli.Upload.UploadFollower(client, new Serverless.Cli.Upload.PlainFollowView(console), "doomed", "doomed/again.csv", eTag, TimeSpan.FromSeconds(30), specUploaded: false);

        var exit = await follower.FollowAsync(CancellationToken.None);

        Assert.True(exit == ExitCodes.RunFailed, output.ToString());
        Assert.Contains($"training run {runs.Single(r => r.EndsWith("-r2", StringComparison.Ordinal))}", output.ToString());
        Assert.Contains("test rows", output.ToString());
    }

    private static async Task<List<string>> WaitForFailedRunsAsync(TestHost host, string model, int count)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var list = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/orchestrations?model={model}"))!;
            var failed = list["runs"]!.AsArray().Where(r => r!["runtimeStatus"]!.GetValue<string>() == "Failed").Select(r => r!["instanceId"]!.GetValue<string>()).ToList();
            if (failed.Count >= count) return failed;
            Assert.True(DateTime.UtcNow < deadline, $"{model} has {failed.Count} failed run(s), not {count}: {list.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task UploadWait_DataWhoseRunWasRejected_EndsAsThatRun_WithExitCode5()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var run = await StopAtTheGateAsync(host, "refused", "reject", "Completed");
        var files = new WorkFiles();
        var data = files.Write("again.csv", TestData.TaxiSlice(500));

        var (exit, output) = await UploadWaitAsync(host, "refused", data, 120);

        Assert.True(exit == ExitCodes.NotPromoted, output);
        Assert.Contains("duplicate: the data equals dataset version ds-", output);
        Assert.Contains("rejected: v1 was refused at the approval gate", output);
        files.Delete();
    }

    [Fact]
    public async Task UploadWait_DataWhoseRunWasTerminatedAndPurged_FollowsTheNewAttempt_ToItsOwnVersion()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var run = await StopAtTheGateAsync(host, "retried", "terminate?reason=wrong", "Terminated");
        // Purged, the run answers 410: its id is not given again, and the upload follows the next one.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await host.Client.DeleteAsync($"/api/orchestrations/{run}")).StatusCode);
        var files = new WorkFiles();
        var data = files.Write("again.csv", TestData.TaxiSlice(500));

        var (exit, output) = await UploadWaitAsync(host, "retried", data, 120);

        // The upload ends at the approval gate of its own run, with a version of its own; the stopped run's stays rejected.
        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains($"training run {run}-r2", output);
        Assert.Contains("awaiting approval: v2 is registered", output);
        // What is to be decided on: its test metric, and production now.
        Assert.Matches(@"to decide on: v2, rmse = [0-9.]+.* on the test split; production is not set", output);
        var model = (await host.Client.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>("/api/models/retried"))!;
        Assert.Equal(["rejected", "pendingApproval"], model["versions"]!.AsArray().Select(v => v!["status"]!.GetValue<string>()));
        var (_, listed) = await CliRunner.RunAsync("models", "--host", host.Client.BaseAddress!.ToString());
        Assert.Contains("2 (1 awaiting approval)", listed);
        files.Delete();
    }

    /// <summary>
    /// A model whose spec asks for approval, a first upload, and its run stopped at the gate by <paramref name="action"/>
    /// (a route under the run) until the engine reports <paramref name="runtimeStatus"/>: the run's id.
    /// </summary>
    private static async Task<string> StopAtTheGateAsync(TestHost host, string name, string action, string runtimeStatus)
    {
        await host.UploadAsync(name, "model.json", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync(name, "first.csv", TestData.TaxiSlice(500));
        var model = await host.WaitForModelAsync(name, m => m["versions"]?.AsArray().Count == 1, Timeout);
        var run = model["versions"]!.AsArray().Single()!["orchestrationId"]!.GetValue<string>();
        await host.WaitForRunAsync(run, r => r["customStatus"]?["stage"]?.GetValue<string>() == "awaitingApproval", Timeout);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{run}/{action}", null)).StatusCode);
        await host.WaitForRunAsync(run, r => r["runtimeStatus"]?.GetValue<string>() == runtimeStatus, Timeout);
        return run;
    }

    /// <summary>
    /// A European spreadsheet export (';' between fields, decimal commas): the column of numbers is read with a decimal
    /// comma, and the follower says so where the upload is followed, as <c>mlops show</c> does, rather than leave it to be found.
    /// </summary>
    [Fact]
    public async Task UploadWait_NumbersWithDecimalCommas_PrintsTheInferredNoteAfterIngestion()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("comma", "model.json", """{"label":"y","task":"regression","trainers":[{"name":"Sdca"}]}""");
        var random = new Random(5);
        var rows = new System.Text.StringBuilder("x;z;y\n");
        for (var i = 0; i < 300; i++)
        {
            var x = random.Next(0, 100);
            var z = random.Next(0, 10);
            rows.Append(System.Globalization.CultureInfo.InvariantCulture, $"{x / 10},{x % 10};{z};{x / 5 + z}\n");
        }
        var files = new WorkFiles();
        var data = files.Write("export.csv", rows.ToString());

        var (_, output) = await UploadWaitAsync(host, "comma", data, 120);

        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        var ingested = Array.FindIndex(lines, l => l.StartsWith("ingested: dataset version ds-", StringComparison.Ordinal));
        var note = Array.FindIndex(lines, l => l.StartsWith("inferred: numbers: read with a decimal comma", StringComparison.Ordinal));
        Assert.True(ingested >= 0 && note == ingested + 1, $"no inferred note right after the ingested line in:\n{output}");
        files.Delete();
    }

    [Fact]
    public async Task UploadWait_FileWithoutRows_EndsQuarantinedWithItsReasonAndExitCode3()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var files = new WorkFiles();
        var data = files.Write("empty.csv", "vendor_id,fare_amount\n");

        var (exit, output) = await UploadWaitAsync(host, "broken", data, 60);

        Assert.True(exit == ExitCodes.Quarantined, output);
        Assert.Contains("quarantined: The file has a header (vendor_id, fare_amount) but no data rows.", output);
        Assert.Contains("reason code: header_only", output);
        Assert.Matches($@"the file is kept unchanged at {host.Storage.Quarantine.Name}/broken/\S+/original", output);
        Assert.Contains("nothing was trained", output);
        files.Delete();
    }

    /// <summary>
    /// A spec uploaded with the data that the host refuses (a column it excludes is not in the data) leaves the spec in
    /// force, under which the data is read: the follower says the spec was refused and why, and ends as for a quarantined
    /// file, rather than follow a run of a spec that was not asked for to a promotion and exit 0.
    /// </summary>
    [Fact]
    public async Task UploadWait_SpecRefusedByTheHost_SaysWhyAndEndsWithExitCode3()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await WithFirstDataAsync(host, "refused");
        var files = new WorkFiles();
        var data = files.Write("second.csv", TestData.TaxiSlice(400));
        var spec = files.Write("bad.json", """{"label":"fare_amount","task":"regression","exclude":["nosuch"],"trainers":[{"name":"Sdca"}]}""");

        var (exit, output) = await CliRunner.RunProcessAsync(Environment(host), Timeout,
            "upload", "refused", data, "--spec", spec, "--wait", "--timeout", "120", "--host", host.Client.BaseAddress!.ToString());

        Assert.True(exit == ExitCodes.Quarantined, output);
        Assert.Matches(@"spec refused: .*nosuch", output);
        Assert.Contains("the data was read under the spec in force instead", output);
        files.Delete();
    }

    /// <summary>
    /// A spec dropped earlier and refused is not this upload's: data uploaded alone after it is read under the spec in
    /// force, as asked, so the follower notes the refusal and follows the run to its end.
    /// </summary>
    [Fact]
    public async Task UploadWait_DataAloneAfterAnEarlierSpecWasRefused_NotesItAndFollowsTheRun()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await WithFirstDataAsync(host, "later");
        await host.UploadAsync("later", "model.json", """{"lable":"fare_amount","trainers":[{"name":"XGBoost"}]}""");
        await host.WaitForBlobsAsync(host.Storage.Quarantine, "later/", TimeSpan.FromMinutes(1), "/report.json");
        var files = new WorkFiles();
        var data = files.Write("second.csv", TestData.TaxiSlice(400));

        var (exit, output) = await UploadWaitAsync(host, "later", data, 180);

        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains("note: the spec dropped before as later/model.json in the drop zone was refused", output);
        Assert.DoesNotContain("spec refused:", output);
        // Followed to the run's end (promoted, or the champion kept: both exit 0).
        Assert.Matches("(?m)^(done|nothing new in production): ", output);
        files.Delete();
    }

    [Fact]
    public async Task Upload_LabelWithoutSpec_ChangesOnlyTheLabelOfTheSpecInForce()
    {
        // No trigger: what the command drops stays in incoming/ to be read.
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });
        var put = await host.Client.PutAsync("/api/models/gated/spec", ApiAssert.Json("""{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"FastTree"}]}"""));
        Assert.Equal(System.Net.HttpStatusCode.OK, put.StatusCode);
        var files = new WorkFiles();
        var data = files.Write("taxi.csv", TestData.TaxiSlice(50));

        var (exit, output) = await CliRunner.RunProcessAsync(Environment(host), Timeout, "upload", "gated", data, "--label", "trip_distance");

        Assert.True(exit == ExitCodes.Ok, output);
        Assert.Contains("(the spec in force, version 1, with --label over it)", output);
        var dropped = (await host.Storage.Incoming.GetBlobClient("gated/model.json").DownloadContentAsync()).Value.Content.ToObjectFromJson<System.Text.Json.Nodes.JsonObject>()!;
        Assert.Equal("trip_distance", dropped["label"]!.GetValue<string>());
        Assert.Equal("manual", dropped["approval"]!.GetValue<string>());
        Assert.Equal("FastTree", dropped["trainers"]![0]!["name"]!.GetValue<string>());
        files.Delete();
    }

    /// <summary>A model with a spec in force (Sdca on taxi) and a first dataset version ingested under it.</summary>
    private static async Task WithFirstDataAsync(TestHost host, string model)
    {
        await host.UploadAsync(model, "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync(model, "first.csv", TestData.TaxiSlice(300));
        await host.WaitForModelAsync(model, m => m["latestDataset"] is not null, TimeSpan.FromMinutes(2));
    }

    /// <summary><c>mlops upload {model} {file} --wait</c> against the host, as its own process: the exit code and the output.</summary>
    private Task<(int Exit, string Output)> UploadWaitAsync(TestHost host, string model, string file, int timeoutSeconds) =>
        CliRunner.RunProcessAsync(Environment(host), Timeout,
            "upload", model, file, "--wait", "--timeout", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "--host", host.Client.BaseAddress!.ToString());

    /// <summary>The host's storage layout as the environment the command line reads (<c>Pipeline__Storage__…</c>).</summary>
    private Dictionary<string, string> Environment(TestHost host) =>
        IsolatedLayout.Settings(azurite.ConnectionString, host.Suffix).ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);

    /// <summary>Files the command line uploads, kept beside the test binaries (inside the repository).</summary>
    private sealed class WorkFiles
    {
        private readonly string _folder = Path.Combine(AppContext.BaseDirectory, "cli-" + IsolatedLayout.NewSuffix());

        public string Write(string name, string content)
        {
            Directory.CreateDirectory(_folder);
            var path = Path.Combine(_folder, name);
            File.WriteAllText(path, content);
            return path;
        }

        public void Delete() => Directory.Delete(_folder, recursive: true);
    }
}
