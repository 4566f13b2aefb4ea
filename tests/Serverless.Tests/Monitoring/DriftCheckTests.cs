using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs.Models;
using Microsoft.DurableTask.Client;
using Serverless.Core.Monitoring;
using Serverless.Core.Tracking;
using Serverless.Orchestrations;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Monitoring;

/// <summary>
/// Drift checks end to end on the local host: the taxi model in production, traffic sent to its predict route and
/// logged, <c>POST /api/models/taxi/drift/check</c> against the training data, reports listed by <c>GET .../drift</c>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DriftCheckTests(TaxiDriftModel taxi) : IClassFixture<TaxiDriftModel>
{
    private const string Model = TaxiDriftModel.Model;

    [Fact]
    public async Task Check_TrafficResampledFromTrainingData_ReportsNoDrift()
    {
        await taxi.ResetAsync();
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(1000));

        var report = await taxi.CheckAsync();

        Assert.Equal("noDrift", report["status"]!.GetValue<string>());
        Assert.Equal(6, report["dataset"]!["features"]!.GetValue<int>());
        Assert.True(report["dataset"]!["share"]!.GetValue<double>() < 0.5, report.ToJsonString());
        Assert.Equal(1000, report["currentRows"]!.GetValue<int>());
        Assert.Equal(TaxiDriftModel.TrainingRows, report["referenceDatasetRows"]!.GetValue<long>());
        Assert.False(report["prediction"]!["drifted"]!.GetValue<bool>(), report["prediction"]!.ToJsonString());
    }

    [Fact]
    public async Task Check_ShiftedTaxiTraffic_ReportsDriftOnTheShiftedFeatures()
    {
        await taxi.ResetAsync("""{"retrain":false}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(1000));

        var report = await taxi.CheckAsync();

        Assert.Equal("drift", report["status"]!.GetValue<string>());
        var drifted = report["features"]!.AsArray().Where(f => f!["drifted"]!.GetValue<bool>()).Select(f => f!["name"]!.GetValue<string>()).ToHashSet();
        Assert.Superset(new HashSet<string> { "trip_distance", "trip_time_in_secs", "vendor_id", "payment_type" }, drifted);
        var distance = report["features"]!.AsArray().Single(f => f!["name"]!.GetValue<string>() == "trip_distance")!;
        // 3,000 reference rows: Evidently's rule for a reference over 1,000 rows is the normalized Wasserstein distance at 0.1.
        Assert.Equal("wasserstein", distance["method"]!.GetValue<string>());
        Assert.Equal(0.1, distance["threshold"]!.GetValue<double>());
        Assert.True(distance["statistics"]!["ksPValue"]!.GetValue<double>() < 1e-6);
        Assert.True(report["prediction"]!["drifted"]!.GetValue<bool>(), report["prediction"]!.ToJsonString());
        Assert.False(report["retraining"]!["started"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Check_FieldsLiveTrafficLeavesOut_DriftByTheirMissingValues_TheOthersStayStable()
    {
        await taxi.ResetAsync("""{"retrain":false}""");
        // Rows as training had them, but payment_type is never sent and passenger_count is left out of every other row:
        // predict imputes both (and says so); the values that are sent look like training's.
        var rows = TaxiDriftModel.ResampledTrainingRows(1000);
        for (var i = 0; i < rows.Count; i++)
        {
            rows[i].Remove("payment_type");
            if (i % 2 == 0) rows[i].Remove("passenger_count");
        }
        await taxi.LogTrafficAsync(rows);

        var report = await taxi.CheckAsync();

        var features = report["features"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!);
        var drifted = features.Where(f => f.Value["drifted"]!.GetValue<bool>()).Select(f => f.Key).Order().ToList();
        Assert.Equal(["passenger_count", "payment_type"], drifted);
        var payment = features["payment_type"];
        Assert.Equal(1000, payment["currentMissing"]!.GetValue<int>());
        Assert.Equal(1.0, payment["missing"]!["currentShare"]!.GetValue<double>());
        Assert.StartsWith("payment_type: no value in the window", payment["note"]!.GetValue<string>());
        Assert.Equal(0.5, features["passenger_count"]["missing"]!["currentShare"]!.GetValue<double>());
        Assert.Contains("missing in 50.0% of the window's rows against 0.0% of the reference's", features["passenger_count"]["note"]!.GetValue<string>());
        Assert.Null(features["trip_distance"]["missing"]);
        Assert.Equal(6, report["dataset"]!["features"]!.GetValue<int>());
        Assert.Equal("noDrift", report["status"]!.GetValue<string>());
        Assert.Contains("2 of 6 features drifted", report["message"]!.GetValue<string>());
        // The command line prints why each drifted feature drifted, under the verdict.
        var (exit, output) = await Serverless.Tests.Cli.CliRunner.RunAsync("drift", Model, "--host", taxi.Host.Client.BaseAddress!.ToString());
        Assert.Equal(0, exit);
        Assert.Contains("  passenger_count: missing in 50.0% of the window's rows against 0.0% of the reference's", output);
        Assert.Contains("  payment_type: no value in the window", output);
    }

    [Fact]
    public async Task Check_AColumnMadeSensitiveAfterTraining_IsNotCompared_AndTheReportSaysWhy()
    {
        await taxi.ResetAsync("""{"retrain":false}""", sensitive: ["payment_type"]);
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(1000));

        var report = await taxi.CheckAsync();

        Assert.Equal("drift", report["status"]!.GetValue<string>());
        Assert.DoesNotContain(report["features"]!.AsArray(), f => f!["name"]!.GetValue<string>() == "payment_type");
        Assert.Equal(5, report["dataset"]!["features"]!.GetValue<int>());
        Assert.Contains(report["notes"]!.AsArray(), n => n!.GetValue<string>() == "payment_type: sensitive in the spec in force, so its live values are not logged; not compared.");
    }

    [Fact]
    public async Task Check_NoFeatureComparable_TheAnswersDecide_NeverNotEnoughData()
    {
        string[] everyFeature = ["vendor_id", "rate_code", "passenger_count", "trip_time_in_secs", "trip_distance", "payment_type"];
        await taxi.ResetAsync("""{"retrain":false}""", sensitive: everyFeature);
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(1000));

        var steady = await taxi.CheckAsync();

        Assert.Equal("noComparableFeatures", steady["status"]!.GetValue<string>());
        Assert.StartsWith("No drift verdict on the data: no feature could be compared (vendor_id: sensitive in the spec in force", steady["message"]!.GetValue<string>());
        Assert.EndsWith("did not move.", steady["message"]!.GetValue<string>());

        await taxi.ResetAsync("""{"retrain":false}""", sensitive: everyFeature);
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(1000));

        var moved = await taxi.CheckAsync();

        Assert.Equal("drift", moved["status"]!.GetValue<string>());
        Assert.StartsWith("Prediction drift: no feature could be compared (", moved["message"]!.GetValue<string>());
        Assert.True(moved["prediction"]!["drifted"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Check_OneDriftedCheckWhenTwoConfirm_DoesNotRetrain()
    {
        await taxi.ResetAsync("""{"consecutive":2}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        var runsBefore = await RunIdsAsync();

        var report = await taxi.CheckAsync();

        Assert.Equal("drift", report["status"]!.GetValue<string>());
        Assert.Equal(1, report["consecutive"]!.GetValue<int>());
        Assert.False(report["retraining"]!["started"]!.GetValue<bool>());
        Assert.Contains("1 of the 2", report["retraining"]!["reason"]!.GetValue<string>());
        Assert.Equal(runsBefore, await RunIdsAsync());
    }

    /// <summary>
    /// Drift counts once per scheduled interval (a check asked again at once looks at the same rows), the second counted
    /// check starts one audited run, no second run starts while it is under way, and a terminated run holds no cooldown.
    /// </summary>
    [Fact]
    public async Task Check_DriftConfirmedOncePerInterval_StartsOneAuditedRunAtATime_AndATerminatedRunHoldsNoCooldown()
    {
        await taxi.ResetAsync("""{"consecutive":2,"cooldown":"01:00:00"}""");
        var ids = await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        await taxi.SendFeedbackAsync(ids, TaxiDriftModel.Fares(TaxiDriftModel.TrainingRows, 600));
        var first = await taxi.CheckAsync();

        var again = await taxi.CheckAsync();

        Assert.Equal((1, 1), (first["consecutive"]!.GetValue<int>(), again["consecutive"]!.GetValue<int>()));
        Assert.False(again["retraining"]!["started"]!.GetValue<bool>());
        Assert.Contains("counted once", again["retraining"]!["reason"]!.GetValue<string>());

        await taxi.AsIfTheCheckScheduleCameDueAsync();
        var second = await taxi.CheckAsync();

        Assert.Equal(2, second["consecutive"]!.GetValue<int>());
        Assert.True(second["retraining"]!["started"]!.GetValue<bool>(), second["retraining"]!.ToJsonString());
        var instanceId = second["retraining"]!["instanceId"]!.GetValue<string>();
        var run = await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations/{instanceId}");
        Assert.Equal("drift", run!["input"]!["trigger"]!.GetValue<string>());

        // Its run under way, drift confirmed again starts no second run.
        await taxi.AsIfTheCheckScheduleCameDueAsync();
        var third = await taxi.CheckAsync();
        Assert.False(third["retraining"]!["started"]!.GetValue<bool>());
        Assert.Contains($"({instanceId}) is still", third["retraining"]!["reason"]!.GetValue<string>());

        // Terminated, the run trained nothing: no cooldown holds the next confirmed drift back.
        Assert.Equal(HttpStatusCode.Accepted, (await taxi.Host.Client.PostAsync($"/api/orchestrations/{instanceId}/terminate?reason=test", null)).StatusCode);
        await taxi.Host.WaitForRunAsync(instanceId, ApiAssert.Ended, TimeSpan.FromMinutes(2));
        await taxi.AsIfTheCheckScheduleCameDueAsync();
        var fourth = await taxi.CheckAsync();
        Assert.True(fourth["retraining"]!["started"]!.GetValue<bool>(), fourth["retraining"]!.ToJsonString());
        var next = fourth["retraining"]!["instanceId"]!.GetValue<string>();
        Assert.NotEqual(instanceId, next);
        Assert.Equal(HttpStatusCode.Accepted, (await taxi.Host.Client.PostAsync($"/api/orchestrations/{next}/terminate?reason=test", null)).StatusCode);

        var audit = await taxi.Host.Services.GetRequiredService<AuditLog>().ListAsync(Model, 50, CancellationToken.None);
        var retrain = Assert.Single(audit, a => a.Action == AuditActions.DriftRetrain && a.Details is { } details && details.GetRawText().Contains(instanceId, StringComparison.Ordinal));
        Assert.StartsWith("Drift confirmed by 2 consecutive checks", retrain.Reason);
        var checks = audit.Where(a => a.Action == AuditActions.DriftCheck).ToList();
        Assert.True(checks.Count >= 5);
        Assert.Contains(checks, c => c.Reason == second["message"]!.GetValue<string>());
        await taxi.Host.WaitForRunAsync(next, ApiAssert.Ended, TimeSpan.FromMinutes(2));
    }

    /// <summary>
    /// Production trained on the latest data under training settings still in force, and no labelled live rows: a run
    /// would register the same model again, so confirmed drift starts none and says what would give it something new.
    /// </summary>
    [Fact]
    public async Task Check_ConfirmedDriftWithNothingNewToTrainOn_StartsNoRun_AndSaysWhatWouldHelp()
    {
        await taxi.ResetAsync("""{"consecutive":1,"cooldown":"00:00:00"}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        var runsBefore = await RunIdsAsync();

        var report = await taxi.CheckAsync();

        Assert.Equal("drift", report["status"]!.GetValue<string>());
        Assert.False(report["retraining"]!["started"]!.GetValue<bool>(), report["retraining"]!.ToJsonString());
        var reason = report["retraining"]!["reason"]!.GetValue<string>();
        Assert.Contains("nothing new to train on", reason);
        Assert.Contains("POST feedback", reason);
        Assert.Equal(runsBefore, await RunIdsAsync());
    }

    /// <summary>
    /// A spec that no longer describes the latest data (a feature made sensitive): a run would fail at its dataset check,
    /// and a failed run holds no cooldown, so confirmed drift starts none and says why and what to do, as POST /train does.
    /// </summary>
    [Fact]
    public async Task Check_ConfirmedDriftWhenTheSpecNoLongerFitsTheData_StartsNoRun_AsTrainRefusesOne()
    {
        await taxi.ResetAsync("""{"consecutive":1,"cooldown":"00:00:00"}""", sensitive: ["vendor_id"]);
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        var runsBefore = await RunIdsAsync();

        var report = await taxi.CheckAsync();
        var train = await ApiAssert.ProblemAsync(await taxi.Host.Client.PostAsync($"/api/models/{Model}/train", ApiAssert.Json("{}")), HttpStatusCode.Conflict);

        Assert.Equal("drift", report["status"]!.GetValue<string>());
        Assert.False(report["retraining"]!["started"]!.GetValue<bool>(), report["retraining"]!.ToJsonString());
        var reason = report["retraining"]!["reason"]!.GetValue<string>();
        Assert.Contains("Column 'vendor_id' is sensitive in the spec", reason);
        Assert.EndsWith(train["detail"]!.GetValue<string>(), reason);
        Assert.Equal(runsBefore, await RunIdsAsync());
    }

    [Fact]
    public async Task Check_DriftAfterTheProductionVersionChanged_CountsFromOneAgain()
    {
        await taxi.ResetAsync("""{"consecutive":2,"cooldown":"01:00:00"}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        var onFirst = await taxi.CheckAsync();
        var production = onFirst["productionVersion"]!.GetValue<string>();
        var manifest = (await taxi.Registry.GetManifestAsync(Model, production, CancellationToken.None))!;
        var copy = await taxi.Registry.RegisterAsync(manifest with { RunId = Guid.NewGuid().ToString("N") }, manifest.ModelBlob, _ => "# copy", CancellationToken.None);
        var promoted = await taxi.Host.Client.PostAsync($"/api/models/{Model}/promote", ApiAssert.Json($$"""{"version":"{{copy.Version}}","force":true,"reason":"a copy of production"}"""));
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        try
        {
            // The drifted traffic so far was answered by the version before: the new one has none of its own yet.
            var onNone = await taxi.CheckAsync();
            Assert.Equal((copy.Version, "noTraffic"), (onNone["productionVersion"]!.GetValue<string>(), onNone["status"]!.GetValue<string>()));
            Assert.Contains($"answered by {copy.Version}", onNone["message"]!.GetValue<string>());

            await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));

            var onSecond = await taxi.CheckAsync();

            Assert.Equal(1, onFirst["consecutive"]!.GetValue<int>());
            Assert.Equal("drift", onSecond["status"]!.GetValue<string>());
            Assert.Equal((copy.Version, 1), (onSecond["productionVersion"]!.GetValue<string>(), onSecond["consecutive"]!.GetValue<int>()));
            Assert.False(onSecond["retraining"]!["started"]!.GetValue<bool>(), onSecond["retraining"]!.ToJsonString());
        }
        finally
        {
            var back = await taxi.Host.Client.PostAsync($"/api/models/{Model}/rollback", ApiAssert.Json("{}"));
            Assert.Equal(HttpStatusCode.OK, back.StatusCode);
        }
    }

    private Task<List<string>> RunIdsAsync() => taxi.Host.RunIdsAsync(Model);

    [Fact]
    public async Task Check_FeedbackOnShiftedTraffic_ReportsConceptDriftAgainstTheValidationMetric()
    {
        await taxi.ResetAsync("""{"retrain":false}""");
        var ids = await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(400));
        await taxi.SendFeedbackAsync(ids, [.. TaxiDriftModel.Fares(TaxiDriftModel.TrainingRows, 400).Select(f => f * 3)]);

        var report = await taxi.CheckAsync();

        var concept = report["concept"]!;
        Assert.Equal("rmse", concept["metric"]!.GetValue<string>());
        Assert.Equal(400, concept["rows"]!.GetValue<int>());
        Assert.True(concept["liveValue"]!.GetValue<double>() > concept["validationValue"]!.GetValue<double>(), concept.ToJsonString());
        Assert.True(concept["drifted"]!.GetValue<bool>(), concept.ToJsonString());
    }

    [Fact]
    public async Task Check_ConfirmedDriftWithFeedback_RetrainsOnDataPlusFeedbackAndComparesOnRecentRows()
    {
        await taxi.ResetAsync("""{"consecutive":1,"cooldown":"00:00:00"}""");
        var ids = await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        await taxi.SendFeedbackAsync(ids, [.. TaxiDriftModel.Fares(TaxiDriftModel.TrainingRows, 600).Select(f => f * 3)]);

        var report = await taxi.CheckAsync();

        Assert.True(report["retraining"]!["started"]!.GetValue<bool>(), report["retraining"]!.ToJsonString());
        var instanceId = report["retraining"]!["instanceId"]!.GetValue<string>();
        var run = await taxi.Host.WaitForRunAsync(instanceId, ApiAssert.Ended, TimeSpan.FromMinutes(5));
        Assert.Equal("Completed", run["runtimeStatus"]!.GetValue<string>());
        var feedback = run["input"]!["feedback"]!;
        Assert.Equal(600, feedback["trainRows"]!.GetValue<long>() + feedback["recentRows"]!.GetValue<long>());
        var notes = run["output"]!["notes"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains(notes, n => n.Contains("labelled live rows (feedback) added to the train split"));
        Assert.Contains(notes, n => n.Contains($"on {feedback["recentRows"]} recent labelled rows") && n.EndsWith("this comparison decides promotion, not the one on the test split.", StringComparison.Ordinal));
        if (run["output"]!["status"]!.GetValue<string>() == Serverless.Orchestrations.TrainingStatus.ChampionRetained)
        {
            // The champion kept on the recent rows is recorded with that comparison, not only the test split's.
            var records = (await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={Model}&action={Serverless.Core.Tracking.AuditActions.ChampionRetained}"))!["records"]!.AsArray();
            Assert.Contains(records, r => r!["reason"]!.GetValue<string>().Contains($"on {feedback["recentRows"]} recent labelled rows", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Check_NoLoggedTraffic_ReportsNoTrafficNotAnError()
    {
        await taxi.ResetAsync();

        var report = await taxi.CheckAsync();

        Assert.Equal("noTraffic", report["status"]!.GetValue<string>());
        Assert.Contains("No predictions", report["message"]!.GetValue<string>());

        // A check takes a reason for its audit record, and refuses a body it cannot read.
        var misspelt = await ApiAssert.ProblemAsync(await taxi.Host.Client.PostAsync($"/api/models/{Model}/drift/check", ApiAssert.Json("""{"reasn":"after the release"}""")), HttpStatusCode.BadRequest);
        Assert.Contains("reasn", misspelt["errors"]!.ToJsonString());
        var asked = await taxi.Host.Client.PostAsync($"/api/models/{Model}/drift/check", ApiAssert.Json("""{"reason":"after the release"}"""));
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        var records = await taxi.Host.Services.GetRequiredService<AuditLog>().ListAsync(Model, 5, CancellationToken.None);
        Assert.StartsWith("after the release: No predictions", records.First(r => r.Action == AuditActions.DriftCheck).Reason);
    }

    [Fact]
    public async Task Check_FewerRowsThanTheMinimum_ReportsNotEnoughData()
    {
        await taxi.ResetAsync("""{"minRows":100}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(40));

        var report = await taxi.CheckAsync();

        Assert.Equal("notEnoughData", report["status"]!.GetValue<string>());
        Assert.Equal(40, report["loggedRows"]!.GetValue<int>());
        Assert.Empty(report["features"]!.AsArray());
        // The reference was not read: left out, not reported as an empty reference of 0 rows.
        Assert.Null(report["referenceRows"]);
        Assert.Null(report["referenceDatasetRows"]);
    }

    [Fact]
    public async Task Check_LargerWindowThanTheCap_ComparesADeterministicSample()
    {
        await taxi.ResetAsync("""{"maxRows":300,"minRows":50}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(800));

        var first = await taxi.CheckAsync();
        var second = await taxi.CheckAsync();

        Assert.Equal(800, first["loggedRows"]!.GetValue<int>());
        Assert.Equal(300, first["currentRows"]!.GetValue<int>());
        Assert.Equal(first["features"]!.ToJsonString(), second["features"]!.ToJsonString());
    }

    [Fact]
    public async Task Check_AgainOnTheSameProductionVersion_ReusesTheReferenceUntilItsSizeChanges()
    {
        await taxi.ResetAsync("""{"minRows":50}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(400));
        var inputs = taxi.Host.Services.GetRequiredService<DriftInputs>();

        var first = await taxi.CheckAsync();
        var readsAfterFirst = inputs.ReferenceReads;
        var second = await taxi.CheckAsync();

        Assert.Equal(readsAfterFirst, inputs.ReferenceReads);
        Assert.Equal(first["referenceRows"]!.GetValue<int>(), second["referenceRows"]!.GetValue<int>());
        Assert.Equal(first["features"]!.ToJsonString(), second["features"]!.ToJsonString());
        Assert.Equal(first["prediction"]!.ToJsonString(), second["prediction"]!.ToJsonString());

        await taxi.ResetAsync("""{"minRows":50,"maxReferenceRows":500}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(400));
        var smaller = await taxi.CheckAsync();

        Assert.Equal(readsAfterFirst + 1, inputs.ReferenceReads);
        Assert.Equal(500, smaller["referenceRows"]!.GetValue<int>());
    }

    [Fact]
    public async Task Histogram_AfterACheckWithoutVerdict_DrawsTheNewestCheckThatComparedFeatures()
    {
        await taxi.ResetAsync();
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(1000));
        var compared = await taxi.CheckAsync();
        await foreach (var blob in taxi.Host.Storage.Monitoring.GetBlobsAsync(BlobTraits.None, BlobStates.None, MonitoringPaths.PredictionLogPrefix(Model), CancellationToken.None))
        {
            await taxi.Host.Storage.Monitoring.DeleteBlobIfExistsAsync(blob.Name);
        }
        var empty = await taxi.CheckAsync();

        var histogram = await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift/histogram?feature=trip_distance");

        Assert.Equal("noTraffic", empty["status"]!.GetValue<string>());
        Assert.Equal(compared["checkId"]!.GetValue<string>(), histogram!["checkId"]!.GetValue<string>());
        Assert.NotEmpty(histogram["bins"]!.AsArray());
    }

    [Fact]
    public async Task Histogram_TrafficBeyondTheReferenceRange_SaysHowManyValuesLieBeyondTheEdges()
    {
        await taxi.ResetAsync("""{"retrain":false}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(300));
        await taxi.CheckAsync();
        var within = (await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift/histogram?feature=trip_distance"))!;

        await taxi.ResetAsync("""{"retrain":false}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ShiftedRows(600));
        await taxi.CheckAsync();
        var shifted = (await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift/histogram?feature=trip_distance"))!;

        Assert.Equal((0, 0), (within["currentBelow"]!.GetValue<long>(), within["currentAbove"]!.GetValue<long>()));
        var above = shifted["currentAbove"]!.GetValue<long>();
        Assert.InRange(above, 1, shifted["current"]!.AsArray()[^1]!.GetValue<long>());
        Assert.Equal(0, shifted["currentBelow"]!.GetValue<long>());
    }

    /// <summary>
    /// "Beyond the reference" is beyond the smallest and largest values training saw, not beyond the bins' round edges,
    /// which lie further out: a live value just past the training maximum is counted above, though inside the last bin.
    /// </summary>
    [Fact]
    public async Task Histogram_TrafficJustBeyondTheTrainingMaximum_IsCountedAboveThoughInsideTheLastBin()
    {
        var lines = TestData.TaxiSlice(TaxiDriftModel.TrainingRows).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var column = Array.IndexOf(lines[0].Split(','), "trip_distance");
        var largest = lines.Skip(1).Max(l => double.Parse(l.Split(',')[column], System.Globalization.CultureInfo.InvariantCulture));
        await taxi.ResetAsync("""{"retrain":false}""");
        var rows = TaxiDriftModel.ResampledTrainingRows(300);
        foreach (var row in rows.Take(10)) row["trip_distance"] = largest + 0.001;
        await taxi.LogTrafficAsync(rows);
        await taxi.CheckAsync();

        var histogram = (await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift/histogram?feature=trip_distance"))!;

        var edges = histogram["bins"]!.AsArray()[^1]!.GetValue<string>();
        Assert.True(histogram["currentAbove"]!.GetValue<long>() >= 10, $"currentAbove {histogram["currentAbove"]}, last bin {edges}, training maximum {largest}");
    }

    [Fact]
    public async Task GetDrift_AfterThreeChecks_ListsThemNewestFirstPaged()
    {
        await taxi.ResetAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add((await taxi.CheckAsync())["checkId"]!.GetValue<string>());

        var page = await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift?top=2&skip=0");
        var rest = await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift?top=2&skip=2");

        Assert.Equal(3, page!["total"]!.GetValue<int>());
        Assert.Equal([ids[2], ids[1]], page["reports"]!.AsArray().Select(r => r!["checkId"]!.GetValue<string>()));
        Assert.Equal([ids[0]], rest!["reports"]!.AsArray().Select(r => r!["checkId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Check_UnknownModel_Answers404()
    {
        var response = await taxi.Host.Client.PostAsync("/api/models/nosuchmodel/drift/check", null);

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("nosuchmodel", problem["detail"]!.GetValue<string>());
        await ApiAssert.ProblemAsync(await taxi.Host.Client.GetAsync("/api/models/nosuchmodel/drift"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Check_ModelWithoutProductionVersion_ReportsSoNotAnError()
    {
        var manifest = await taxi.Registry.GetManifestAsync(Model, "v1", CancellationToken.None);
        await taxi.Registry.RegisterAsync(manifest! with { Model = "taxi-noprod", RunId = Guid.NewGuid().ToString("N") }, manifest.ModelBlob, m => "# copy", CancellationToken.None);

        var response = await taxi.Host.Client.PostAsync("/api/models/taxi-noprod/drift/check", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("noProductionVersion", report["status"]!.GetValue<string>());
        Assert.Contains("no production version", report["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task TimerTick_ModelNeverChecked_ChecksItOnceUntilItsScheduleComesDue()
    {
        await taxi.ResetAsync("""{"schedule":"0 0 1 1 *"}""");
        await taxi.LogTrafficAsync(TaxiDriftModel.ResampledTrainingRows(300));
        var timer = taxi.Host.Services.GetRequiredService<DriftTimer>();
        var client = taxi.Host.Services.GetRequiredService<DurableTaskClient>();

        var first = await timer.TickAsync(DateTimeOffset.UtcNow, client, CancellationToken.None);
        var second = await timer.TickAsync(DateTimeOffset.UtcNow, client, CancellationToken.None);

        var report = Assert.Single(first, r => r.Model == Model);
        Assert.Equal("timer", report.Trigger);
        Assert.Equal("noDrift", report.Status);
        Assert.DoesNotContain(first, r => r.Model == "taxi-noprod");
        Assert.DoesNotContain(second, r => r.Model == Model);
    }

    [Fact]
    public async Task TimerTick_RetrainScheduleCameDue_StartsOneAuditedScheduledRun()
    {
        // Another seed trains another model than production's: the schedule has something new to run.
        await taxi.ResetAsync("""{"schedule":"0 0 1 1 *","retrainSchedule":"0 3 * * 0"}""", seed: 7);
        var timer = taxi.Host.Services.GetRequiredService<DriftTimer>();
        var client = taxi.Host.Services.GetRequiredService<DurableTaskClient>();
        var now = DateTimeOffset.UtcNow;
        var runsBefore = await RunIdsAsync();

        await timer.TickAsync(now, client, CancellationToken.None);
        var afterFirst = await RunIdsAsync();
        await timer.TickAsync(now.AddDays(8), client, CancellationToken.None);
        await timer.TickAsync(now.AddDays(8), client, CancellationToken.None);

        Assert.Equal(runsBefore, afterFirst);
        var started = Assert.Single((await RunIdsAsync()).Except(runsBefore));
        var run = await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/orchestrations/{started}");
        Assert.Equal("schedule", run!["input"]!["trigger"]!.GetValue<string>());
        var audit = await taxi.Host.Services.GetRequiredService<AuditLog>().ListAsync(Model, 20, CancellationToken.None);
        Assert.Contains(audit, a => a.Action == AuditActions.ScheduledRetrain && a.Details is { } details && details.GetRawText().Contains(started, StringComparison.Ordinal));
        await taxi.Host.Client.PostAsync($"/api/orchestrations/{started}/terminate", null);
    }

    [Fact]
    public async Task LocalCronTimer_EverySecond_ChecksTheModelOnItsOwn()
    {
        await taxi.ResetAsync("""{"schedule":"0 0 1 1 *"}""");
        var settings = Serverless.Testing.IsolatedLayout.Settings(taxi.Azurite.ConnectionString, taxi.Host.Suffix);
        settings["Pipeline:Drift:Timer"] = "true";
        settings["Pipeline:Drift:TimerSchedule"] = "* * * * * *";

        await using var second = await TestHost.StartAsync(taxi.Azurite, settings);
        var reports = await second.WaitForBlobsAsync(second.Storage.Monitoring, $"{Model}/drift/", TimeSpan.FromSeconds(60), ".json");

        var page = await taxi.Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{Model}/drift");
        Assert.Equal("timer", page!["reports"]![0]!["trigger"]!.GetValue<string>());
        Assert.NotEmpty(reports);
    }

    [Theory]
    [InlineData("""{"method":"kolmogorov"}""", "drift.method", "kolmogorov")]
    [InlineData("""{"pValueThreshold":1.5}""", "drift.pValueThreshold", "p-value")]
    [InlineData("""{"distanceThreshold":-0.1}""", "drift.distanceThreshold", "positive")]
    [InlineData("""{"retrainShare":0}""", "drift.retrainShare", "fraction")]
    [InlineData("""{"columns":{"trip_distance":{"method":"magic"}}}""", "drift.columns.trip_distance.method", "magic")]
    [InlineData("""{"columns":{"trip_distance":{"method":"ks","threshold":2}}}""", "drift.columns.trip_distance.threshold", "p-value")]
    [InlineData("""{"consecutive":0}""", "drift.consecutive", "at least 1")]
    [InlineData("""{"schedule":"every hour"}""", "drift.schedule", "not a cron expression of 5 fields")]
    [InlineData("""{"schedule":"61 * * * *"}""", "drift.schedule", "between 0 and 59 (all inclusive).\"")]
    public async Task PutSpec_BadDriftSection_Answers400NamingTheField(string drift, string field, string problem)
    {
        var body = $$"""{"label":"fare_amount","drift":{{drift}}}""";

        var response = await taxi.Host.Client.PutAsync("/api/models/taxi-badspec/spec", ApiAssert.Json(body));

        var details = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = details["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), details.ToJsonString());
        Assert.Contains(problem, errors[field]!.ToJsonString());
    }
}
