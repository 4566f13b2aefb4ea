using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Orchestrations;
using Serverless.Tests.Durable;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Api;

/// <summary>Training runs over HTTP on the real engine: listing, final stages, bad input, overlapping runs of one model, a bounded stop.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RunsApiTests(AzuriteFixture azurite)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task UnknownInstance_EveryRoute_Answers404_AndUnsafeIds400()
    {
        await using var host = await TestHost.StartAsync(azurite);

        await ProblemAsync(await host.Client.GetAsync("/api/orchestrations/train-ghost-123"), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/orchestrations/train-ghost-123/approve", null), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/orchestrations/train-ghost-123/reject", null), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/orchestrations/train-ghost-123/terminate", null), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/orchestrations/train-ghost-123/raiseEvent/poke", Json("{}")), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.DeleteAsync("/api/orchestrations/train-ghost-123"), HttpStatusCode.NotFound);
        var eventName = await ProblemAsync(await host.Client.PostAsync("/api/orchestrations/train-ghost-123/raiseEvent/%20poke%21", Json("{}")), HttpStatusCode.BadRequest);
        Assert.Equal(RunsApi.EventNameRule, eventName["errors"]!["eventName"]![0]!.GetValue<string>());
        var purgeBody = new HttpRequestMessage(HttpMethod.Delete, "/api/orchestrations/train-ghost-123") { Content = Json("""{"reasn":"old"}""") };
        Assert.Contains("reasn", (await ProblemAsync(await host.Client.SendAsync(purgeBody), HttpStatusCode.BadRequest))["errors"]!.ToJsonString());

        foreach (var id in new[] { "bad%20id", "-leading", "semi;colon", "quote'd", new string('a', 201) })
        {
            var problem = await ProblemAsync(await host.Client.GetAsync($"/api/orchestrations/{id}"), HttpStatusCode.BadRequest);
            Assert.Contains("instanceId", problem["errors"]!.ToJsonString());
            await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{id}/approve", null), HttpStatusCode.BadRequest);
        }
        var status = await ProblemAsync(await host.Client.GetAsync("/api/orchestrations?status=Sleeping"), HttpStatusCode.BadRequest);
        Assert.Contains("status", status["errors"]!.ToJsonString());
        await ProblemAsync(await host.Client.GetAsync("/api/orchestrations?top=0"), HttpStatusCode.BadRequest);
        var skip = await ProblemAsync(await host.Client.GetAsync("/api/models/ghost/runs?skip=-1"), HttpStatusCode.BadRequest);
        Assert.Equal("'skip' must be a whole number of 0 or more, not '-1'.", skip["detail"]!.GetValue<string>());
        await ProblemAsync(await host.Client.GetAsync("/api/orchestrations?model=Not_A_Model"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task CheckStatus_BehindAnHttpsFrontEnd_AnswersHttpsUrls()
    {
        await using var host = await TestHost.StartAsync(azurite, map: MapCheckStatus);
        var request = new HttpRequestMessage(HttpMethod.Post, CheckStatusProbe);
        request.Headers.Add(Serverless.Core.Api.PublicOrigin.ProtoHeader, "https");

        var answer = await host.Client.SendAsync(request);

        var started = (await answer.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal($"https://{host.Client.BaseAddress!.Authority}/api/orchestrations/train-probe", started["statusQueryGetUri"]!.GetValue<string>());
        Assert.Equal(started["statusQueryGetUri"]!.GetValue<string>(), answer.Headers.Location!.ToString());
        Assert.All(new[] { "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "approvePostUri", "rejectPostUri" },
            field => Assert.StartsWith("https://", started[field]!.GetValue<string>()));
    }

    [Fact]
    public async Task CheckStatus_BogusForwardedProto_IsIgnored()
    {
        await using var host = await TestHost.StartAsync(azurite, map: MapCheckStatus);
        var request = new HttpRequestMessage(HttpMethod.Post, CheckStatusProbe);
        request.Headers.Add(Serverless.Core.Api.PublicOrigin.ProtoHeader, "javascript");

        var started = (await (await host.Client.SendAsync(request)).Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal($"http://{host.Client.BaseAddress!.Authority}/api/orchestrations/train-probe", started["statusQueryGetUri"]!.GetValue<string>());
    }

    private const string CheckStatusProbe = "/test/check-status";

    /// <summary>A route answering as a started run does, so the links are checked without training anything.</summary>
    private static void MapCheckStatus(Microsoft.AspNetCore.Builder.WebApplication app) =>
        Microsoft.AspNetCore.Builder.EndpointRouteBuilderExtensions.MapPost(app, CheckStatusProbe,
            (Microsoft.AspNetCore.Http.HttpRequest r) => RunsApi.CheckStatus(r, "train-probe"));

    [Fact]
    public async Task RunsOfAModel_AreListedNewestFirst_WithTheirFinalStage_AndConflictsAnswer409()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (first, _) = await RunWaitingForApprovalAsync(host, "listed", TestData.TaxiSlice(1200));

        // Waiting for approval: purge is refused; a second run started over HTTP is not waiting, so approving it is refused.
        await ProblemAsync(await host.Client.DeleteAsync($"/api/orchestrations/{first}"), HttpStatusCode.Conflict);
        var started = await host.Client.PostAsync("/api/models/listed/train", Json("""{"reason":"second opinion"}"""));
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var trainRecords = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=listed&action={Serverless.Core.Tracking.AuditActions.TrainRequested}"))!["records"]!.AsArray();
        Assert.Equal("second opinion", Assert.Single(trainRecords)!["reason"]!.GetValue<string>());
        var second = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        Assert.StartsWith("train-listed-", second);
        var rejectEarly = await host.Client.PostAsync($"/api/orchestrations/{second}/reject", null);
        if (rejectEarly.StatusCode != HttpStatusCode.Accepted) await ProblemAsync(rejectEarly, HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{first}/reject", Json("""{"reason":"not now"}"""))).StatusCode);
        var rejected = await host.WaitForRunAsync(first, Ended, Timeout);
        Assert.Equal("rejected", rejected["output"]!["status"]!.GetValue<string>());
        Assert.Equal("rejected", rejected["customStatus"]!["stage"]!.GetValue<string>());
        // A decision after the run ended on one says whose it was, as one sent while it waited would.
        var late = await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{first}/approve", null), HttpStatusCode.Conflict);
        Assert.Contains("already has its decision: rejected by anonymous", late["detail"]!.GetValue<string>());
        await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{first}/terminate", null), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{second}/terminate?reason=test", null)).StatusCode);
        var terminated = await host.WaitForRunAsync(second, Ended, Timeout);
        Assert.Equal("Terminated", terminated["runtimeStatus"]!.GetValue<string>());
        var startedRecords = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=listed&action={Serverless.Core.Tracking.AuditActions.TrainingStarted}"))!["records"]!.AsArray();
        Assert.Contains(startedRecords, r => r!["reason"]!.GetValue<string>() == "http: second opinion" && r["details"]!["instanceId"]!.GetValue<string>() == second);
        Assert.Equal(TrainingStages.Terminated, terminated["customStatus"]!["stage"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(terminated["customStatus"]!["stoppedDuring"]?.GetValue<string>()), terminated.ToJsonString());
        var ended = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=listed&action={Serverless.Core.Tracking.AuditActions.TrainingEnded}"))!["records"]!.AsArray()
            .Single(r => r!["details"]!["instanceId"]!.GetValue<string>() == second)!;
        Assert.Equal(("test", TrainingStages.Terminated), (ended["reason"]!.GetValue<string>(), ended["details"]!["status"]!.GetValue<string>()));
        var stop = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=listed&action={Serverless.Core.Tracking.AuditActions.Terminate}"))!["records"]!.AsArray();
        Assert.Equal("test", Assert.Single(stop)!["reason"]!.GetValue<string>());

        var list = await host.Client.GetFromJsonAsync<JsonObject>("/api/orchestrations?model=listed");
        var runs = list!["runs"]!.AsArray().Select(r => r!["instanceId"]!.GetValue<string>()).ToList();
        Assert.Equal([second, first], runs);
        var onlyRejected = await host.Client.GetFromJsonAsync<JsonObject>("/api/orchestrations?model=listed&status=Completed");
        Assert.Equal([first], onlyRejected!["runs"]!.AsArray().Select(r => r!["instanceId"]!.GetValue<string>()).ToList());
        var paged = await host.Client.GetFromJsonAsync<JsonObject>("/api/orchestrations?model=listed&top=1&skip=1");
        Assert.Equal(2, paged!["total"]!.GetValue<int>());
        Assert.Equal([first], paged["runs"]!.AsArray().Select(r => r!["instanceId"]!.GetValue<string>()).ToList());

        // The model's view links its runs, and each version the run that registered it.
        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/listed"))!;
        var runsLink = model["links"]!["orchestrations"]!.GetValue<string>();
        Assert.Equal(2, (await host.Client.GetFromJsonAsync<JsonObject>(runsLink))!["total"]!.GetValue<int>());
        // The second run may have registered its version before it was terminated (it waits at the gate too): each
        // version names the run that made it.
        var versions = model["versions"]!.AsArray().Select(v => v!).ToList();
        Assert.Subset(new HashSet<string> { first, second }, versions.Select(v => v["orchestrationId"]!.GetValue<string>()).ToHashSet());
        var version = versions.Single(v => v["orchestrationId"]!.GetValue<string>() == first);
        Assert.Equal(first, (await host.Client.GetFromJsonAsync<JsonObject>(version["run"]!.GetValue<string>()))!["instanceId"]!.GetValue<string>());

        var purge = new HttpRequestMessage(HttpMethod.Delete, $"/api/orchestrations/{first}") { Content = Json("""{"reason":"done with it"}""") };
        Assert.Equal(HttpStatusCode.OK, (await host.Client.SendAsync(purge)).StatusCode);
        var gone = (await ProblemAsync(await host.Client.GetAsync($"/api/orchestrations/{first}"), HttpStatusCode.Gone))["detail"]!.GetValue<string>();
        Assert.Contains("was purged at", gone);
        Assert.Contains("(done with it)", gone);
        await ProblemAsync(await host.Client.GetAsync($"/api/orchestrations/{first}x"), HttpStatusCode.NotFound);
        var purged = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=listed&action={Serverless.Core.Tracking.AuditActions.Purge}"))!["records"]!.AsArray();
        Assert.Equal("done with it", Assert.Single(purged)!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task TerminatingARunAtTheApprovalGate_RejectsItsVersion_WhichLeavesStaging_AndNoDecisionIsTakenAfter()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (id, version) = await RunWaitingForApprovalAsync(host, "stopped", TestData.TaxiSlice(1200));
        Assert.Equal(version, (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/stopped"))!["aliases"]!["staging"]!.GetValue<string>());

        var misspelt = await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{id}/terminate", Json("""{"reasn":"wrong data"}""")), HttpStatusCode.BadRequest);
        Assert.Contains("did you mean 'reason'?", misspelt["errors"]!["reasn"]![0]!.GetValue<string>());
        await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{id}/terminate?reason=twice", Json("""{"reason":"wrong data"}""")), HttpStatusCode.BadRequest);
        var terminate = await host.Client.PostAsync($"/api/orchestrations/{id}/terminate", Json("""{"reason":"wrong data"}"""));
        Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        var answer = (await terminate.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((id, "wrong data", version, "rejected"),
            (answer["instanceId"]!.GetValue<string>(), answer["reason"]!.GetValue<string>(), answer["version"]!.GetValue<string>(), answer["versionStatus"]!.GetValue<string>()));
        var stopped = await host.WaitForRunAsync(id, Ended, Timeout);

        Assert.Equal("Terminated", stopped["runtimeStatus"]!.GetValue<string>());
        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/stopped"))!;
        Assert.Equal("rejected", model["versions"]!.AsArray().Single()!["status"]!.GetValue<string>());
        Assert.Null(model["aliases"]!["staging"]);
        var withdrawn = model["history"]!.AsArray().Last()!;
        Assert.Equal(("staging", version, "withdraw"), (withdrawn["alias"]!.GetValue<string>(), withdrawn["from"]!.GetValue<string>(), withdrawn["action"]!.GetValue<string>()));
        await ProblemAsync(await host.Client.PostAsync("/api/models/stopped/predict?alias=staging", Json(TestData.TaxiRow)), HttpStatusCode.NotFound);
        var rejected = Assert.Single((await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=stopped&action={Serverless.Core.Tracking.AuditActions.Rejected}"))!["records"]!.AsArray())!;
        Assert.Equal("run terminated: wrong data", rejected["reason"]!.GetValue<string>());
        Assert.Equal(version, rejected["details"]!["version"]!.GetValue<string>());

        // No one can decide on it after: the answer says the run was stopped, and where.
        var late = (await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{id}/approve", null), HttpStatusCode.Conflict))["detail"]!.GetValue<string>();
        Assert.Contains($"terminated during {TrainingStages.AwaitingApproval}", late);
    }

    /// <summary>
    /// The same data uploaded again after its run was terminated starts a new run under its own id, which registers a new
    /// version and takes its own decision; the version the stopped run left rejected stays rejected and off staging. A
    /// purged run's id is not given again: the next upload runs under a new one, and the purged run's candidates stay its own.
    /// </summary>
    [Fact]
    public async Task DataUploadedAgainAfterATerminate_StartsANewRun_WithItsOwnVersionAndDecision()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var data = TestData.TaxiSlice(1200);
        var (first, _) = await RunWaitingForApprovalAsync(host, "again", data);
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{first}/terminate?reason=wrong", null)).StatusCode);
        await host.WaitForRunAsync(first, Ended, Timeout);

        await host.UploadAsync("again", "data-again.csv", data);
        var second = first + "-r2";
        var waiting = await host.WaitForRunAsync(second, r => r["customStatus"]?["stage"]?.GetValue<string>() == TrainingStages.AwaitingApproval, Timeout);
        Assert.Equal("v2", waiting["customStatus"]!["version"]!.GetValue<string>());
        var listed = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models"))!["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == "again")!;
        Assert.Equal(1, listed["pendingApproval"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{second}/approve", Json("""{"reason":"right data"}"""))).StatusCode);
        Assert.Equal("Completed", (await host.WaitForRunAsync(second, Ended, Timeout))["runtimeStatus"]!.GetValue<string>());

        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/again"))!;
        Assert.Equal(["rejected", "approved"], model["versions"]!.AsArray().Select(v => v!["status"]!.GetValue<string>()));
        Assert.Equal(("v2", "v2"), (model["aliases"]!["production"]!.GetValue<string>(), model["aliases"]!["staging"]!.GetValue<string>()));
        var runs = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/again/runs"))!["runs"]!.AsArray();
        Assert.Equal(2, runs.Select(r => r!["runId"]!.GetValue<string>()).Distinct().Count());

        // Purged, a run's id stays taken: the data's next upload runs under the next one (the first stopped, the second
        // purged), and the purged run's candidate is still listed under its own id alone.
        var secondCandidates = runs.Where(r => r!["orchestrationId"]!.GetValue<string>() == second).Select(r => r!["runId"]!.GetValue<string>()).ToList();
        Assert.Single(secondCandidates);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.DeleteAsync($"/api/orchestrations/{second}")).StatusCode);
        await host.UploadAsync("again", "data-third.csv", data);
        var third = first + "-r3";
        waiting = await host.WaitForRunAsync(third, r => r["customStatus"]?["stage"]?.GetValue<string>() == TrainingStages.AwaitingApproval, Timeout);
        Assert.Equal("v3", waiting["customStatus"]!["version"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{third}/reject", Json("""{"reason":"v2 is enough"}"""))).StatusCode);
        await host.WaitForRunAsync(third, Ended, Timeout);
        await ProblemAsync(await host.Client.GetAsync($"/api/orchestrations/{second}"), HttpStatusCode.Gone);
        model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/again"))!;
        Assert.Equal(["rejected", "approved", "rejected"], model["versions"]!.AsArray().Select(v => v!["status"]!.GetValue<string>()));
        Assert.Equal([first, second, third], model["versions"]!.AsArray().Select(v => v!["orchestrationId"]!.GetValue<string>()));
        Assert.Equal("v2", model["aliases"]!["production"]!.GetValue<string>());
        runs = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/again/runs"))!["runs"]!.AsArray();
        Assert.Equal(3, runs.Count);
        Assert.Equal(secondCandidates, runs.Where(r => r!["orchestrationId"]!.GetValue<string>() == second).Select(r => r!["runId"]!.GetValue<string>()));
    }

    /// <summary>
    /// The engine still delivers candidates scheduled before a terminate: none of them is kept as a succeeded run after
    /// the run was stopped. Each is recorded as cancelled, with why, unless it had ended before the terminate.
    /// </summary>
    [Fact]
    public async Task TerminatingARunWhileItTrains_CancelsTheCandidatesStillToTrain()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("halted", "model.json",
            """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastForest","grid":{"numberOfIterations":[300,301,302,303,304,305]}}]}""");
        await host.UploadAsync("halted", "data.csv", TestData.TaxiSlice(3000));
        var id = await WaitForOnlyRunAsync(host, "halted");
        await host.WaitForRunAsync(id, r => r["customStatus"]?["stage"]?.GetValue<string>() == TrainingStages.Training, Timeout);
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{id}/terminate?reason=enough", null)).StatusCode);
        var stoppedAt = DateTimeOffset.UtcNow;

        // Every candidate the engine delivers is recorded; wait until the six are, or nothing more comes.
        JsonArray runs = [];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(90))
        {
            runs = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/halted/runs"))!["runs"]!.AsArray();
            if (runs.Count == 6) break;
            await Task.Delay(500);
        }

        Assert.NotEmpty(runs);
        Assert.Contains(runs, r => r!["status"]!.GetValue<string>() == Serverless.Core.Tracking.RunStatus.Cancelled);
        foreach (var run in runs)
        {
            var status = run!["status"]!.GetValue<string>();
            if (status == Serverless.Core.Tracking.RunStatus.Cancelled)
            {
                Assert.Contains($"run {id} was terminated", run["error"]!.GetValue<string>());
                continue;
            }
            var ended = run["startedAt"]!.GetValue<DateTimeOffset>() + TimeSpan.FromMilliseconds(run["durationMs"]!.GetValue<double>());
            Assert.True(ended <= stoppedAt, $"{run["runId"]} is {status}, ended at {ended:O}, after the terminate at {stoppedAt:O}");
        }
        Assert.Empty((await host.Client.GetFromJsonAsync<JsonObject>("/api/models/halted"))!["versions"]!.AsArray());
    }

    /// <summary>
    /// An approval and a terminate sent together: the approval stands (one <c>approved</c> record), and the version is
    /// either still approved and not promoted by the stopped run, or was promoted before the terminate; the answer's note
    /// says which, and what to do.
    /// </summary>
    [Fact]
    public async Task ApprovalThenTerminate_TheApprovalStands_AndTheAnswerSaysWhereTheVersionIs()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (id, version) = await RunWaitingForApprovalAsync(host, "raced", TestData.TaxiSlice(1200));

        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{id}/approve", Json("""{"reason":"good"}"""))).StatusCode);
        var terminate = await host.Client.PostAsync($"/api/orchestrations/{id}/terminate?reason=changed%20my%20mind", null);
        Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        var answer = (await terminate.Content.ReadFromJsonAsync<JsonObject>())!;
        await host.WaitForRunAsync(id, Ended, Timeout);
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(version, answer["version"]!.GetValue<string>());
        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/raced"))!;
        var production = model["aliases"]!["production"]?.GetValue<string>();
        var note = answer["note"]!.GetValue<string>();
        if (production == version)
        {
            Assert.Contains("roll back", note);
        }
        else
        {
            Assert.Null(production);
            Assert.Equal("approved", answer["versionStatus"]!.GetValue<string>());
            Assert.Contains("promote it by hand", note);
        }
        Assert.Equal("approved", model["versions"]!.AsArray().Single()!["status"]!.GetValue<string>());
        var approved = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=raced&action={Serverless.Core.Tracking.AuditActions.Approved}"))!["records"]!.AsArray();
        Assert.True(approved.Count == 1, approved.ToJsonString());
    }

    [Fact]
    public async Task FailedRun_ReportsItsFailureMessage()
    {
        await using var host = await TestHost.StartAsync(azurite);
        // Too few rows to leave any for the test split: the run fails before it trains (a grid that cannot train is refused with the spec).
        await host.UploadAsync("doomed", "model.json", """{"label":"fare_amount","task":"regression"}""");
        await host.UploadAsync("doomed", "data.csv", TestData.TaxiSlice(8));
        var id = await WaitForOnlyRunAsync(host, "doomed");

        var failed = await host.WaitForRunAsync(id, Ended, Timeout);

        Assert.Equal("Failed", failed["runtimeStatus"]!.GetValue<string>());
        Assert.Contains("test rows", failed["failureDetails"]!["errorMessage"]!.GetValue<string>());
        Assert.Equal("failed", failed["customStatus"]!["stage"]!.GetValue<string>());
    }

    /// <summary>
    /// Files dropped together start runs of one model that overlap. Production moves only by compare-and-swap, so every
    /// move starts from the version the previous move set, and never to a version that lost to the champion it met.
    /// </summary>
    [Fact]
    public async Task OverlappingRunsOfOneModel_MoveProductionAsAChain_AndOnlyToWinners()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("overlap", "model.json", """{"label":"fare_amount","task":"regression","trainers":[{"name":"Sdca"},{"name":"FastTree"}]}""");
        var rows = TestData.TaxiSlice(4000).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (var part = 0; part < 4; part++)
        {
            await host.UploadAsync("overlap", $"part{part}.csv", rows[0] + "\n" + string.Join('\n', rows.Skip(1 + part * 900).Take(900 + part * 200)) + "\n");
        }

        var deadline = DateTime.UtcNow + Timeout;
        JsonArray runs = [];
        while (DateTime.UtcNow < deadline)
        {
            runs = (await host.Client.GetFromJsonAsync<JsonObject>("/api/orchestrations?model=overlap"))!["runs"]!.AsArray();
            if (runs.Count == 4 && runs.All(r => Ended(r!.AsObject()))) break;
            await Task.Delay(500);
        }
        Assert.Equal(4, runs.Count);
        Assert.All(runs, r => Assert.Equal("Completed", r!["runtimeStatus"]!.GetValue<string>()));
        Assert.All(runs, r => Assert.Contains(r!["output"]!["status"]!.GetValue<string>(), new[] { "promoted", "championRetained" }));
        // A run compared again with a champion that moved in meanwhile states each note once.
        Assert.All(runs, r =>
        {
            var notes = r!["output"]!["notes"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
            Assert.Equal(notes.Distinct().ToList(), notes);
        });

        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/overlap"))!;
        var moves = model["history"]!.AsArray().Where(h => h!["alias"]!.GetValue<string>() == "production").ToList();
        string? previous = null;
        foreach (var move in moves)
        {
            Assert.Equal(previous, move!["from"]?.GetValue<string>());
            previous = move["to"]!.GetValue<string>();
        }
        Assert.Equal(previous, model["aliases"]!["production"]!.GetValue<string>());
        var promoted = runs.Where(r => r!["output"]!["status"]!.GetValue<string>() == "promoted").Select(r => r!["output"]!["version"]!.GetValue<string>()).ToHashSet();
        Assert.Equal(promoted, moves.Select(m => m!["to"]!.GetValue<string>()).ToHashSet());
    }

    /// <summary>A model whose spec asks for approval, one upload of <paramref name="data"/>, and its run waiting at the gate: the run's id and version.</summary>
    /// <summary>
    /// Approving a version while production is one registered after it says that the run compares the two again before
    /// anything moves; the run then ends promoted or with the champion kept, never with production moved unchecked.
    /// </summary>
    [Fact]
    public async Task ApprovingAnOlderVersion_WhileANewerOneIsInProduction_SaysItIsComparedAgainFirst()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (id, waiting) = await RunWaitingForApprovalAsync(host, "older", TestData.TaxiSlice(1200));
        var registry = host.Services.GetRequiredService<Serverless.Core.Registry.ModelRegistry>();
        var manifest = (await registry.GetManifestAsync("older", waiting, CancellationToken.None))!;
        var newer = await registry.RegisterAsync(manifest with { RunId = Guid.NewGuid().ToString("N") }, manifest.ModelBlob, _ => "# a copy", CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync("/api/models/older/promote", Json($$"""{"version":"{{newer.Version}}","force":true,"reason":"newer"}"""))).StatusCode);

        var approve = await host.Client.PostAsync($"/api/orchestrations/{id}/approve", Json("""{"reason":"looks fine"}"""));

        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        var note = (await approve.Content.ReadFromJsonAsync<JsonObject>())!["note"]!.GetValue<string>();
        Assert.StartsWith($"Production is {newer.Version}, registered after {waiting}: before {waiting} takes production, the run compares it with {newer.Version}", note);
        var ended = await host.WaitForRunAsync(id, Ended, Timeout);
        Assert.Contains(ended["output"]!["status"]!.GetValue<string>(), new[] { TrainingStatus.Promoted, TrainingStatus.ChampionRetained });
        Assert.Contains(ended["output"]!["notes"]!.AsArray(), n => n!.GetValue<string>().Contains($"compared again with {newer.Version}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Approve_BehindAFrontEnd_AnswersWithTheRunsAbsoluteStatusUrlAsLocation()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (id, _) = await RunWaitingForApprovalAsync(host, "located", TestData.TaxiSlice(1200));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/orchestrations/{id}/approve") { Content = Json("""{"reason":"fine"}""") };
        request.Headers.Add(Serverless.Core.Api.PublicOrigin.ProtoHeader, "https");
        request.Headers.Add(Serverless.Core.Api.PublicOrigin.HostHeader, "mlops.example.net");

        var approve = await host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, approve.StatusCode);
        Assert.Equal("https://mlops.example.net" + Serverless.Core.Api.ApiRoutes.OrchestrationPath(id), approve.Headers.Location?.ToString());
    }

    [Fact]
    public async Task RejectingAVersionForcedIntoProductionWhileItWaited_SaysProductionStaysOnIt()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (id, waiting) = await RunWaitingForApprovalAsync(host, "forcedin", TestData.TaxiSlice(1200));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync("/api/models/forcedin/promote", Json($$"""{"version":"{{waiting}}","force":true,"reason":"urgent"}"""))).StatusCode);

        var reject = await host.Client.PostAsync($"/api/orchestrations/{id}/reject", null);

        Assert.Equal(HttpStatusCode.Accepted, reject.StatusCode);
        var note = (await reject.Content.ReadFromJsonAsync<JsonObject>())!["note"]!.GetValue<string>();
        Assert.Equal($"{waiting} is production already (it was promoted while it waited): rejecting it marks it rejected, and production stays on it. "
                     + "Roll back (mlops rollback forcedin) or promote another version to take it out of service.", note);
        await host.WaitForRunAsync(id, Ended, Timeout);
        var model = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/forcedin"))!;
        Assert.Equal(waiting, model["aliases"]!["production"]!.GetValue<string>());
        // No reason given: none is recorded (not an empty one).
        var rejected = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model=forcedin&action={Serverless.Core.Tracking.AuditActions.Rejected}"))!["records"]!.AsArray();
        Assert.Null(Assert.Single(rejected)!["reason"]);
    }

    [Fact]
    public async Task ApprovingAVersionArchivedWhileItWaited_Answers409_AndTheRunCanStillBeRejected()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var (id, waiting) = await RunWaitingForApprovalAsync(host, "shelved", TestData.TaxiSlice(1200));
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PostAsync($"/api/models/shelved/versions/{waiting}/archive", Json("""{"reason":"not this one"}"""))).StatusCode);

        var approve = await ProblemAsync(await host.Client.PostAsync($"/api/orchestrations/{id}/approve", null), HttpStatusCode.Conflict);

        Assert.Contains($"Version {waiting}, which run '{id}' waits with, was archived", approve["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync($"/api/orchestrations/{id}/reject", Json("""{"reason":"archived"}"""))).StatusCode);
        Assert.Equal("Completed", (await host.WaitForRunAsync(id, Ended, Timeout))["runtimeStatus"]!.GetValue<string>());
    }

    private static async Task<(string Id, string Version)> RunWaitingForApprovalAsync(TestHost host, string model, string data)
    {
        await host.UploadAsync(model, "model.json", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync(model, "data.csv", data);
        var id = await WaitForOnlyRunAsync(host, model);
        var waiting = await host.WaitForRunAsync(id, r => r["customStatus"]?["stage"]?.GetValue<string>() == TrainingStages.AwaitingApproval, Timeout);
        return (id, waiting["customStatus"]!["version"]!.GetValue<string>());
    }

    private static async Task<string> WaitForOnlyRunAsync(TestHost host, string model)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var list = await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations?model={model}");
            if (list?["runs"]?.AsArray().FirstOrDefault() is { } run) return run["instanceId"]!.GetValue<string>();
            await Task.Delay(200);
        }
        throw new TimeoutException($"No run of '{model}' started within 60 s.");
    }
}
