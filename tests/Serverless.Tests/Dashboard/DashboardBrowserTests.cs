using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Serverless.Core.Monitoring;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Monitoring;

namespace Serverless.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's Chromium driven by Playwright, against the local host on loopback with a
/// trained model. The screenshot is kept under TestResults/dashboard/.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardBrowserTests(AzuriteFixture azurite)
{
    private const string AdminKey = "dashboard-test-key";
    private const string Model = "cabs";
    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(4);
    // Drift checks of this model never start retraining: the test checks twice and wants its two versions to stay.
    // Three candidates of one trainer: the candidates table must mark the one that won, not every candidate of its trainer.
    private static readonly string Spec = """{"label":"fare_amount","task":"regression","trainers":[{"name":"FastTree","grid":{"numberOfIterations":[10,40,100]}}],"drift":{"retrain":false}}""";

    [Fact]
    public async Task Dashboard_TrainedModel_ShowsModelVersionsChartAndRollsBackWithTheKey()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Api:AdminKey"] = AdminKey, ["Pipeline:Drift:Timer"] = "false" });
        await TrainTwoVersionsAsync(host);
        await host.UploadAsync(Model, "header-only.csv", "vendor_id,fare_amount\n");
        await host.WaitForBlobsAsync(host.Storage.Quarantine, Model + "/", TimeSpan.FromSeconds(60), "report.json");
        await SendTrafficWithFeedbackAsync(host, count: 300, labelled: 50);
        await CheckDriftAsync(host);
        await CheckDriftAsync(host);

        await using var dashboard = await DashboardPage.OpenAsync(host, Model);
        var page = dashboard.Page;

        var row = page.Locator($"#models tbody tr[data-model='{Model}']");
        await Assertions.Expect(row).ToBeVisibleAsync();
        await Assertions.Expect(row).ToContainTextAsync("v2");
        await Assertions.Expect(page.Locator("#model-title")).ToHaveTextAsync(Model);
        await Assertions.Expect(page.Locator("#versions tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#versions tbody tr[data-version='v1']")).ToBeVisibleAsync();
        // Small data: each version was chosen by 5-fold cross-validation, shown with the folds' spread.
        await Assertions.Expect(page.Locator("#versions tbody tr[data-version='v1'] td.selection")).ToContainTextAsync(new Regex(@"^cv5 [\d.]+ ± [\d.]+$"));
        // The test rmse with its 95% bootstrap interval.
        await Assertions.Expect(page.Locator("#versions tbody tr[data-version='v1'] td.test")).ToHaveTextAsync(new Regex(@"^[\d.]+ \[[\d.]+, [\d.]+\]$"));
        await Assertions.Expect(page.Locator("#metric-chart svg circle.point")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#metric-chart svg path.line")).ToHaveCountAsync(1);
        // The run's candidates, drawn as bars once the run's view has loaded.
        await Assertions.Expect(page.Locator("#candidates tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#candidate-chart svg rect.bar")).ToHaveCountAsync(3);
        // One green bar, the winner's, as the table's pill (not the best validation value: a cheaper one may win).
        await Assertions.Expect(page.Locator("#candidate-chart svg rect.bar.best")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("#candidates tbody tr:has-text('winner')")).ToHaveCountAsync(1);
        var winners = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations?model={Model}"))!["runs"]!.AsArray()
            .Select(r => r!["output"]?["winnerRunId"]?.GetValue<string>()).OfType<string>().ToList();
        Assert.Contains(await page.Locator("#candidates tbody tr:has-text('winner')").GetAttributeAsync("data-run"), winners);
        // Runs are named without the model's common prefix, on one line; the whole id is the cell's title.
        var firstRun = page.Locator("#runs tbody tr").First;
        var runId = await firstRun.GetAttributeAsync("data-run");
        await Assertions.Expect(firstRun.Locator("td").First).ToHaveTextAsync(runId![$"train-{Model}-".Length..]);
        await Assertions.Expect(firstRun.Locator("td").First).ToHaveAttributeAsync("title", runId);
        Assert.Equal("nowrap", await firstRun.Locator("td").First.EvaluateAsync<string>("td => getComputedStyle(td).whiteSpace"));
        // The version the winner became, from the runs list; the other candidates became none.
        await Assertions.Expect(page.Locator("#candidates tbody tr:has-text('winner')")).ToContainTextAsync(new Regex(@"registered as v\d"));
        await Assertions.Expect(page.Locator("#candidates tbody tr:has-text('registered as')")).ToHaveCountAsync(1);
        // Each candidate's scoring cost, in tree splits a row.
        await Assertions.Expect(page.Locator("#candidates tbody td.cost").Filter(new() { HasTextRegex = new Regex(@"^\d[\d,]*$") })).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#quarantine")).ToContainTextAsync("header-only.csv");
        await Assertions.Expect(page.Locator("#drift")).ToContainTextAsync("drift");
        Assert.True(await page.Locator("#drift-features tbody tr").CountAsync() >= 6, "every feature of the check and the prediction are listed");
        // passenger_count was left out of every other request: its share of missing values, training's against live's.
        await Assertions.Expect(page.Locator("#drift-features tbody tr[data-feature='passenger_count'] td.missing-drifted")).ToHaveTextAsync("0.0% → 50.0%");
        await Assertions.Expect(page.Locator("#drift-features tbody tr[data-feature='trip_distance'] td").Nth(5)).ToHaveTextAsync("–");
        await Assertions.Expect(page.Locator("#drift-chart svg circle.point")).ToHaveCountAsync(2);
        await Assertions.Expect(page.Locator("#drift-chart svg line.threshold")).ToHaveCountAsync(1);
        await page.SelectOptionAsync("#drift-feature", "trip_distance");
        await Assertions.Expect(page.Locator("#drift-histogram svg rect.hist-ref").First).ToBeVisibleAsync();
        Assert.True(await page.Locator("#drift-histogram svg rect.hist-cur").CountAsync() > 1, "the live inputs are drawn over the reference");

        await Assertions.Expect(page.Locator("#live-metrics tbody tr").First).ToContainTextAsync("v2");
        await Assertions.Expect(page.Locator("#live-metrics thead")).ToContainTextAsync("rmse");

        await Assertions.Expect(page.Locator("#model-dataset")).Not.ToContainTextAsync("was trained on");
        await page.ClickAsync("#rollback");
        await Assertions.Expect(page.Locator("#action-dialog")).ToBeVisibleAsync();
        await page.FillAsync("#action-reason", "browser test");
        await page.ClickAsync("#action-confirm");
        await Assertions.Expect(page.Locator("#key-dialog")).ToBeVisibleAsync();
        await page.FillAsync("#admin-key", AdminKey);
        await page.ClickAsync("#key-confirm");
        await Assertions.Expect(page.Locator("#model-aliases")).ToContainTextAsync("production: v1");
        // v1 was trained on the first slice; the latest data is the second.
        await Assertions.Expect(page.Locator("#model-dataset")).ToContainTextAsync(new Regex(@"production v1 was trained on ds-[0-9a-f]{16}$"));
        await Assertions.Expect(page.Locator("#audit tbody")).ToContainTextAsync("rollback");
        // Each audit row gives its reason in a column of its own.
        await Assertions.Expect(page.Locator("#audit tbody tr", new() { HasText = "rollback" }).First.Locator("td").Nth(4)).ToContainTextAsync("browser test");

        // A check without a verdict (v1 answered none of the logged traffic) keeps the last verdict's features in view.
        await CheckDriftAsync(host);
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#drift-last-verdict")).ToContainTextAsync("Last verdict:");
        await Assertions.Expect(page.Locator("#drift")).ToContainTextAsync("noTraffic");
        Assert.True(await page.Locator("#drift-features tbody tr").CountAsync() >= 6, "the last verdict's features stay listed");
        // Distances cannot be negative: the axis starts at 0.
        var axis = await page.Locator("#drift-chart svg text").AllTextContentsAsync();
        Assert.DoesNotContain(axis, t => t.TrimStart().StartsWith('-'));

        var screenshot = Path.Combine(RepositoryPaths.Root, "TestResults", "dashboard", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new() { Path = screenshot, FullPage = true });

        var model = await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}");
        Assert.Equal("v1", model!["aliases"]!["production"]!.GetValue<string>());
        Assert.Contains("browser test", model["history"]!.AsArray().Last()!["reason"]!.GetValue<string>());
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot holds the page");
        var unknown = await ApiAssert.ProblemAsync(await host.Client.GetAsync($"/api/models/{Model}/drift/histogram?feature=nosuch"), HttpStatusCode.BadRequest);
        Assert.Contains("trip_distance", unknown["detail"]!.GetValue<string>());
        Assert.Empty(dashboard.Errors);
    }

    /// <summary>
    /// A run waiting at its approval gate while production is a newer version: the run's Approve button sends the
    /// decision with its reason, and the answer's note (the run compares the two again first) is shown to the person.
    /// </summary>
    [Fact]
    public async Task Dashboard_ApprovingAnOlderVersion_ShowsTheHostsNote()
    {
        const string model = "gated";
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Drift:Timer"] = "false" });
        await host.UploadAsync(model, "model.json", """{"label":"fare_amount","task":"regression","approval":"manual","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync(model, "data.csv", TestData.TaxiSlice(600));
        var waiting = await host.WaitForModelAsync(model, m => m["versions"]?.AsArray().Count == 1, TrainingTimeout);
        var run = waiting["versions"]![0]!["orchestrationId"]!.GetValue<string>();
        await host.WaitForRunAsync(run, r => r["customStatus"]?["stage"]?.GetValue<string>() == "awaitingApproval", TrainingTimeout);
        var registry = host.Services.GetRequiredService<Serverless.Core.Registry.ModelRegistry>();
        var manifest = (await registry.GetManifestAsync(model, "v1", CancellationToken.None))!;
        var newer = await registry.RegisterAsync(manifest with { RunId = Guid.NewGuid().ToString("N") }, manifest.ModelBlob, _ => "# a copy", CancellationToken.None);
        var promoted = await host.Client.PostAsync($"/api/models/{model}/promote", ApiAssert.Json($$"""{"version":"{{newer.Version}}","force":true,"reason":"newer"}"""));
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);

        await using var dashboard = await DashboardPage.OpenAsync(host, model);
        var page = dashboard.Page;
        await Assertions.Expect(page.Locator("#approve")).ToBeVisibleAsync();
        // At the gate the run is nearly done, as the host's share of the whole says (it showed 5%: no counts at that stage).
        await Assertions.Expect(page.Locator("#run-progress .bar")).ToHaveAttributeAsync("style", new System.Text.RegularExpressions.Regex("width: 95%"));
        await page.ClickAsync("#approve");
        await page.FillAsync("#action-reason", "reviewed in the browser");
        await page.ClickAsync("#action-confirm");

        await Assertions.Expect(page.Locator("#toast")).ToContainTextAsync($"approved. Production is {newer.Version}, registered after v1");
        var approvals = (await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}&action={Serverless.Core.Tracking.AuditActions.Approve}"))!["records"]!.AsArray();
        Assert.Equal("reviewed in the browser", Assert.Single(approvals)!["reason"]!.GetValue<string>());
        await host.WaitForRunAsync(run, ApiAssert.Ended, TrainingTimeout);
        Assert.Empty(dashboard.Errors);
    }

    /// <summary>v1 from a first slice, v2 from a larger one, and production on v2 with v1 before it in the alias history.</summary>
    private static async Task TrainTwoVersionsAsync(TestHost host)
    {
        await host.UploadAsync(Model, "model.json", Spec);
        await host.UploadAsync(Model, "first.csv", TestData.TaxiSlice(800));
        await host.WaitForModelAsync(Model, m => m["aliases"]?["production"] is not null, TrainingTimeout);
        await host.UploadAsync(Model, "second.csv", TestData.TaxiSlice(1600));
        await host.WaitForModelAsync(Model, m => m["versions"]!.AsArray().Count == 2, TrainingTimeout);
        await WaitForNoRunningRunAsync(host);
        var model = await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}");
        if (model!["aliases"]!["production"]!.GetValue<string>() != "v2")
        {
            using var promote = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{Model}/promote")
            {
                Content = new StringContent("""{"version":"v2","reason":"arrange"}""", Encoding.UTF8, "application/json"),
            };
            promote.Headers.Add("x-functions-key", AdminKey);
            var answer = await host.Client.SendAsync(promote);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        }
    }

    /// <summary>
    /// Sends the taxi rows after the training slices, shifted and with passenger_count left out of every other one, to the
    /// predict route, waits until the prediction log holds them, and posts the true fares of the first
    /// <paramref name="labelled"/> of them as feedback.
    /// </summary>
    private static async Task SendTrafficWithFeedbackAsync(TestHost host, int count, int labelled)
    {
        var rows = TaxiDriftModel.ShiftedRows(count);
        for (var i = 0; i < rows.Count; i += 2) rows[i].Remove("passenger_count");
        var body = new JsonObject { ["rows"] = new JsonArray([.. rows.Select(r => r.DeepClone())]) };
        var response = await host.Client.PostAsync($"/api/models/{Model}/predict", ApiAssert.Json(body.ToJsonString()));
        response.EnsureSuccessStatusCode();
        var requestId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["requestId"]!.GetValue<string>();
        await host.WaitForBlobsAsync(host.Storage.Monitoring, MonitoringPaths.PredictionLogPrefix(Model), TimeSpan.FromSeconds(30));

        var lines = File.ReadLines(RepositoryPaths.Dataset("taxi", "taxi-fare-train.csv")).ToList();
        var fare = Array.IndexOf(lines[0].Split(','), "fare_amount");
        var items = new JsonArray([.. lines.Skip(1 + TaxiDriftModel.TrainingRows).Take(labelled).Select((line, i) => (JsonNode)new JsonObject
        {
            ["requestId"] = requestId,
            ["row"] = i,
            ["label"] = double.Parse(line.Split(',')[fare], System.Globalization.CultureInfo.InvariantCulture),
        })]);
        var feedback = await host.Client.PostAsync($"/api/models/{Model}/feedback", ApiAssert.Json(new JsonObject { ["items"] = items }.ToJsonString()));
        Assert.True(feedback.IsSuccessStatusCode, await feedback.Content.ReadAsStringAsync());
    }

    private static async Task CheckDriftAsync(TestHost host)
    {
        using var check = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{Model}/drift/check");
        check.Headers.Add("x-functions-key", AdminKey);
        var answer = await host.Client.SendAsync(check);
        Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
    }

    private static async Task WaitForNoRunningRunAsync(TestHost host)
    {
        var deadline = DateTime.UtcNow + TrainingTimeout;
        while (DateTime.UtcNow < deadline)
        {
            var running = await host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations?model={Model}&status=Running,Pending");
            if (running!["total"]!.GetValue<int>() == 0) return;
            await Task.Delay(250);
        }
        throw new TimeoutException($"A training run of '{Model}' was still running after {TrainingTimeout}.");
    }
}
