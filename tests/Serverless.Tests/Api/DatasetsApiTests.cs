using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Datasets;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Api;

/// <summary>
/// What became of a model's uploads is visible over HTTP: dataset versions, duplicates and quarantined files with their
/// reasons; and runs are sorted by a metric named in any case, one that fits the model's task.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DatasetsApiTests(AzuriteFixture azurite)
{
    /// <summary>The host's own ingestor, without the blob trigger (and so without training).</summary>
    private static Task<TestHost> StartAsync(AzuriteFixture azurite) =>
        TestHost.StartAsync(azurite, new() { ["Pipeline:BlobTrigger:Enabled"] = "false" });

    private static async Task<IngestionOutcome> IngestAsync(TestHost host, string model, string name, string content)
    {
        await host.UploadAsync(model, name, content);
        return await host.Services.GetRequiredService<DatasetIngestor>().IngestAsync($"{model}/{name}", CancellationToken.None);
    }

    [Fact]
    public async Task ListDatasets_VersionDuplicateAndQuarantinedFile_ListsEachWithItsReason()
    {
        await using var host = await StartAsync(azurite);
        var accepted = await IngestAsync(host, "uploads", "a.csv", TestData.TaxiSlice(200));
        var duplicate = await IngestAsync(host, "uploads", "again.csv", TestData.TaxiSlice(200));
        var quarantined = await IngestAsync(host, "uploads", "empty.csv", "a,b,label\n");

        var answer = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/uploads/datasets"))!;

        Assert.Equal(IngestionStatus.Duplicate, duplicate.Status);
        Assert.Equal(accepted.DatasetVersion, answer["latest"]!.GetValue<string>());
        var version = answer["versions"]!.AsArray().Single()!;
        Assert.Equal(accepted.DatasetVersion, version["version"]!.GetValue<string>());
        Assert.Equal(200, version["lines"]!["accepted"]!.GetValue<long>());
        Assert.Equal("uploads/a.csv", version["sources"]![0]!["blob"]!.GetValue<string>());
        var copy = answer["duplicates"]!.AsArray().Single()!;
        Assert.Equal("uploads/again.csv", copy["blob"]!.GetValue<string>());
        Assert.Equal(accepted.DatasetVersion, copy["datasetVersion"]!.GetValue<string>());
        Assert.Equal(duplicate.Message, copy["message"]!.GetValue<string>());
        var refused = answer["quarantined"]!.AsArray().Single()!;
        Assert.Equal("uploads/empty.csv", refused["blob"]!.GetValue<string>());
        Assert.Equal(ReasonCodes.HeaderOnly, refused["reasonCodes"]![0]!.GetValue<string>());
        Assert.Contains("no data rows", refused["reason"]!.GetValue<string>());
        Assert.Equal(quarantined.Message, refused["summary"]!.GetValue<string>());
        Assert.EndsWith($"{quarantined.QuarantineBlob}original", refused["original"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListDatasets_UploadThatRestoredAnEarlierVersion_IsListedWithRestoredTrue()
    {
        await using var host = await StartAsync(azurite);
        var first = await IngestAsync(host, "restores", "a.csv", TestData.TaxiSlice(200));
        await IngestAsync(host, "restores", "b.csv", TestData.TaxiSlice(300));
        var back = await IngestAsync(host, "restores", "a-again.csv", TestData.TaxiSlice(200));

        var answer = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/restores/datasets"))!;

        Assert.Equal(first.DatasetVersion, answer["latest"]!.GetValue<string>());
        var restored = answer["duplicates"]!.AsArray().Single()!;
        Assert.Equal("restores/a-again.csv", restored["blob"]!.GetValue<string>());
        Assert.True(restored["restored"]!.GetValue<bool>(), restored.ToJsonString());
        Assert.Equal(back.DatasetVersion, restored["datasetVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListDatasets_ModelWithOnlyQuarantinedFiles_AnswersWithThemAndTheModelToo()
    {
        await using var host = await StartAsync(azurite);
        await IngestAsync(host, "refused", "nolabel.csv", "a,b,label\n1,2,\n3,4,\n5,6,\n");

        var datasets = await host.Client.GetAsync("/api/models/refused/datasets");
        var model = await host.Client.GetAsync("/api/models/refused");

        Assert.Equal(HttpStatusCode.OK, datasets.StatusCode);
        var answer = (await datasets.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Empty(answer["versions"]!.AsArray());
        var refused = answer["quarantined"]!.AsArray().Single()!;
        Assert.Equal(ReasonCodes.LabelAllMissing, refused["reasonCodes"]![0]!.GetValue<string>());
        Assert.Contains("'label' is empty in every row", refused["reason"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, model.StatusCode);
        var view = (await model.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(ReasonCodes.LabelAllMissing, view["quarantined"]![0]!["reasonCodes"]![0]!.GetValue<string>());
        Assert.Equal("/api/models/refused/datasets", view["links"]!["datasets"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_ModelWithOnlyDataOrOnlyQuarantinedFiles_Answers409SayingWhyNot404()
    {
        await using var host = await StartAsync(azurite);
        await IngestAsync(host, "dataonly2", "a.csv", TestData.TaxiSlice(100));
        await IngestAsync(host, "refused2", "nolabel.csv", "a,b,label\n1,2,\n3,4,\n5,6,\n");
        const string row = """{"a":1,"b":2}""";

        var dataOnly = await ProblemAsync(await host.Client.PostAsync("/api/models/dataonly2/predict", Json(row)), HttpStatusCode.Conflict);
        var refused = await ProblemAsync(await host.Client.PostAsync("/api/models/refused2/predict", Json(row)), HttpStatusCode.Conflict);
        var nobody = await ProblemAsync(await host.Client.PostAsync("/api/models/nobody2/predict", Json(row)), HttpStatusCode.NotFound);

        Assert.Contains("no registered version yet", dataOnly["detail"]!.GetValue<string>());
        Assert.Contains("dataset version", dataOnly["detail"]!.GetValue<string>());
        var detail = refused["detail"]!.GetValue<string>();
        Assert.Contains("quarantined", detail);
        Assert.Contains("refused2/nolabel.csv", detail);
        Assert.Contains("'label' is empty in every row", detail);
        Assert.Contains("There is no model 'nobody2'", nobody["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task ModelWithOnlyASpec_EveryRouteKnowsIt_PredictTrainAndFeedbackAre409SayingWhatIsMissing()
    {
        await using var host = await StartAsync(azurite);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PutAsync("/api/models/specroutes/spec", Json("""{"label":"y","task":"regression"}"""))).StatusCode);

        foreach (var route in new[] { "datasets", "quarantine", "drift", "spec", "runs" })
        {
            var response = await host.Client.GetAsync($"/api/models/specroutes/{route}");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{route}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        var predict = await ProblemAsync(await host.Client.PostAsync("/api/models/specroutes/predict", Json("""{"x":1}""")), HttpStatusCode.Conflict);
        var pinned = await ProblemAsync(await host.Client.PostAsync("/api/models/specroutes/predict?version=v1", Json("""{"x":1}""")), HttpStatusCode.Conflict);
        var feedback = await ProblemAsync(await host.Client.PostAsync("/api/models/specroutes/feedback", Json("""{"requestId":"a","label":1}""")), HttpStatusCode.Conflict);
        var train = await ProblemAsync(await host.Client.PostAsync("/api/models/specroutes/train", null), HttpStatusCode.Conflict);

        Assert.Contains("has a spec (version 1) but no data yet", predict["detail"]!.GetValue<string>());
        Assert.Contains("has a spec (version 1) but no data yet", pinned["detail"]!.GetValue<string>());
        Assert.Contains("no registered version yet", feedback["detail"]!.GetValue<string>());
        Assert.Contains("has a spec (version 1) but no data yet", train["detail"]!.GetValue<string>());
        foreach (var route in new[] { "datasets", "quarantine", "drift", "spec", "runs", "aliases", "drift/histogram?feature=x" })
        {
            var unknown = await ProblemAsync(await host.Client.GetAsync($"/api/models/nobodyroutes/{route}"), HttpStatusCode.NotFound);
            Assert.Equal(Serverless.Core.Registry.ModelPresence.NotFound("nobodyroutes").Message, unknown["detail"]!.GetValue<string>());
        }
        foreach (var (route, body) in new[] { ("promote", """{"version":"v1"}"""), ("rollback", "{}"), ("versions/v1/archive", "{}") })
        {
            var unknown = await ProblemAsync(await host.Client.PostAsync($"/api/models/nobodyroutes/{route}", Json(body)), HttpStatusCode.NotFound);
            Assert.Equal(Serverless.Core.Registry.ModelPresence.NotFound("nobodyroutes").Message, unknown["detail"]!.GetValue<string>());
            // A model that exists without a registered version says so: a version named is not there (404); there is nothing to roll back from (409).
            var rollback = route == "rollback";
            var early = await ProblemAsync(await host.Client.PostAsync($"/api/models/specroutes/{route}", Json(body)), rollback ? HttpStatusCode.Conflict : HttpStatusCode.NotFound);
            Assert.StartsWith("Model 'specroutes' has no registered version yet", early["detail"]!.GetValue<string>());
            if (rollback) Assert.Contains("no production version to roll back from", early["detail"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task ModelWithOnlyASpec_IsListedAndViewable_AndRunsOfAnUnknownModelAre404()
    {
        await using var host = await StartAsync(azurite);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PutAsync("/api/models/speconly/spec", Json("""{"label":"y","task":"regression"}"""))).StatusCode);

        var list = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models"))!["models"]!.AsArray();
        var view = await host.Client.GetAsync("/api/models/speconly");
        var runs = await host.Client.GetAsync("/api/models/speconly/runs");
        var unknown = await ProblemAsync(await host.Client.GetAsync("/api/models/nosuchmodel/runs?sort=rmse"), HttpStatusCode.NotFound);

        var listed = list.Single(m => m!["model"]!.GetValue<string>() == "speconly")!;
        Assert.Equal(0, listed["versions"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, view.StatusCode);
        Assert.Empty((await view.Content.ReadFromJsonAsync<JsonObject>())!["versions"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
        Assert.Contains("There is no model 'nosuchmodel'", unknown["detail"]!.GetValue<string>());
        var check = await host.Client.PostAsync("/api/models/speconly/drift/check", null);
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
        Assert.Equal("noProductionVersion", (await check.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        // Its aliases, as its view gives them: none (not a 404 that says less than the view does).
        var aliases = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/speconly/aliases"))!;
        Assert.Empty(aliases["aliases"]!.AsArray());
        await ProblemAsync(await host.Client.GetAsync("/api/models/nosuchmodel/aliases"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ModelList_ModelsWithOnlyDataOrOnlyQuarantinedFiles_AreListedWithNoVersion()
    {
        await using var host = await StartAsync(azurite);
        await IngestAsync(host, "dataonly", "a.csv", TestData.TaxiSlice(100));
        await IngestAsync(host, "refusedonly", "empty.csv", "a,b,label\n");

        var list = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models"))!["models"]!.AsArray();

        foreach (var name in new[] { "dataonly", "refusedonly" })
        {
            var model = list.Single(m => m!["model"]!.GetValue<string>() == name)!;
            Assert.Equal(0, model["versions"]!.GetValue<int>());
            Assert.Null(model["production"]);
            // The list names only models the model view answers for.
            Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync($"/api/models/{name}")).StatusCode);
        }
        var names = list.Select(m => m!["model"]!.GetValue<string>()).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(names.Distinct().Count(), names.Count);
    }

    [Fact]
    public async Task ListDatasets_NothingUploaded_Answers404SayingWhereToUpload()
    {
        await using var host = await StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.GetAsync("/api/models/never/datasets"), HttpStatusCode.NotFound);

        Assert.Contains("incoming/never/", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListDatasets_InvalidModelName_Answers400NamingTheModel()
    {
        await using var host = await StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.GetAsync("/api/models/Bad_Name/datasets"), HttpStatusCode.BadRequest);

        Assert.Contains("model", problem["errors"]!.ToJsonString());
    }

    [Fact]
    public async Task ListRuns_MetricInAnyCase_SortsByThatMetric()
    {
        await using var host = await StartAsync(azurite);
        await IngestAsync(host, "sorted", "taxi.csv", TestData.TaxiSlice(100));
        var runs = host.Services.GetRequiredService<ExperimentRuns>();
        foreach (var (id, rmse) in new[] { ("r1", 3.0), ("r2", 1.0), ("r3", 2.0) })
        {
            await runs.RecordAsync(new ExperimentRun("sorted", id, "train-sorted-1", "ds-1", "FastTree", new Dictionary<string, double>(),
                new Dictionary<string, double> { ["rmse"] = rmse }, "succeeded", 1, DateTimeOffset.UtcNow, null), CancellationToken.None);
        }

        var answer = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sorted/runs?sort=RMSE"))!;

        Assert.Equal("rmse", answer["sortedBy"]!.GetValue<string>());
        Assert.Equal(["r2", "r3", "r1"], answer["runs"]!.AsArray().Select(r => r!["runId"]!.GetValue<string>()));

        // Paged, and filtered to one orchestration's candidates; the total counts what matched.
        await runs.RecordAsync(new ExperimentRun("sorted", "r4", "train-sorted-2", "ds-1", "Sdca", new Dictionary<string, double>(),
            new Dictionary<string, double> { ["rmse"] = 0.5 }, "succeeded", 1, DateTimeOffset.UtcNow, null), CancellationToken.None);
        var page = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sorted/runs?sort=rmse&orchestrationId=train-sorted-1&top=2&skip=1"))!;
        Assert.Equal((3, 1, 2), (page["total"]!.GetValue<int>(), page["skip"]!.GetValue<int>(), page["top"]!.GetValue<int>()));
        Assert.Equal(["r3", "r1"], page["runs"]!.AsArray().Select(r => r!["runId"]!.GetValue<string>()));
        var other = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sorted/runs?orchestrationId=train-sorted-2"))!;
        Assert.Equal(["r4"], other["runs"]!.AsArray().Select(r => r!["runId"]!.GetValue<string>()));
        Assert.Equal(4, (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/sorted/runs"))!["total"]!.GetValue<int>());
        await ProblemAsync(await host.Client.GetAsync("/api/models/sorted/runs?top=0"), HttpStatusCode.BadRequest);
        await ProblemAsync(await host.Client.GetAsync("/api/models/sorted/runs?page=2"), HttpStatusCode.BadRequest);
        // An id no run can have is named, as the runs' own routes name it, rather than matching nothing.
        var badId = await ProblemAsync(await host.Client.GetAsync("/api/models/sorted/runs?orchestrationId=bad%24id"), HttpStatusCode.BadRequest);
        Assert.Contains("starting with a letter or digit", badId["errors"]!["orchestrationId"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task ListRuns_MetricOfAnotherTask_Answers400NamingTheMetricsThatFit()
    {
        await using var host = await StartAsync(azurite);
        await IngestAsync(host, "regress", "taxi.csv", TestData.TaxiSlice(100));

        var problem = await ProblemAsync(await host.Client.GetAsync("/api/models/regress/runs?sort=AUC"), HttpStatusCode.BadRequest);

        Assert.Contains("'auc'", problem["detail"]!.GetValue<string>());
        Assert.Contains("rmse, mae, r2", problem["errors"]!["sort"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_CommentOfTwoCharacters_Answers400NamingTheCommentField()
    {
        await using var host = await StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.PutAsync("/api/models/commented/spec", Json("""{"comment":"//"}""")), HttpStatusCode.BadRequest);

        Assert.Contains("one character", problem["errors"]!["comment"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_DecimalSeparatorSemicolon_Answers400NamingTheFieldAndItsValues()
    {
        await using var host = await StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.PutAsync("/api/models/decimals/spec", Json("""{"decimalSeparator":";"}""")), HttpStatusCode.BadRequest);

        Assert.StartsWith("\".\" (numbers written 3.5) or \",\" (numbers written 3,5", problem["errors"]!["decimalSeparator"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_LabelTheLatestDataWasNotIngestedWith_SaysToUploadAgain_AndTrainAnswers409()
    {
        await using var host = await StartAsync(azurite);
        var ingested = await IngestAsync(host, "relabel", "taxi.csv", TestData.TaxiSlice(100));

        var put = await host.Client.PutAsync("/api/models/relabel/spec", Json("""{"label":"trip_distance"}"""));
        var again = await host.Client.PutAsync("/api/models/relabel/spec", Json("""{ "label": "trip_distance" }"""));
        var train = await ProblemAsync(await host.Client.PostAsync("/api/models/relabel/train", null), HttpStatusCode.Conflict);

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var answer = (await put.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, false), (answer["version"]!.GetValue<int>(), answer["unchanged"]!.GetValue<bool>()));
        Assert.Equal("trip_distance", answer["spec"]!["label"]!.GetValue<string>());
        var note = answer["note"]!.GetValue<string>();
        Assert.Contains($"The latest dataset version {ingested.DatasetVersion} was ingested under another spec", note);
        Assert.Contains($"The spec's label is 'trip_distance', but {ingested.DatasetVersion} was ingested with label 'fare_amount'.", note);
        Assert.EndsWith(SpecFit.Remedy, note);
        var same = (await again.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((1, true), (same["version"]!.GetValue<int>(), same["unchanged"]!.GetValue<bool>()));
        var detail = train["detail"]!.GetValue<string>();
        Assert.Contains($"Dataset version {ingested.DatasetVersion} of 'relabel' cannot be trained on under spec version 1", detail);
        Assert.EndsWith(SpecFit.Remedy, detail);
        var audit = await host.Services.GetRequiredService<AuditLog>().ListAsync("relabel", 20, CancellationToken.None);
        Assert.DoesNotContain(audit, a => a.Action == AuditActions.TrainRequested);
    }

    [Fact]
    public async Task PutSpec_ThatFitsTheLatestData_HasNoNote()
    {
        await using var host = await StartAsync(azurite);
        await IngestAsync(host, "fits", "taxi.csv", TestData.TaxiSlice(100));
        var none = (await host.Client.GetFromJsonAsync<JsonObject>("/api/models/fits/spec"))!;

        var answer = (await (await host.Client.PutAsync("/api/models/fits/spec", Json("""{"label":"fare_amount","metric":"mae"}"""))).Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(1, answer["version"]!.GetValue<int>());
        Assert.Null(answer["note"]);
        Assert.Null(none["current"]);
        Assert.Equal("'fits' has no spec: everything is inferred from the data. Set one with PUT /api/models/fits/spec or by dropping incoming/fits/model.json.", none["note"]!.GetValue<string>());
        Assert.Null((await host.Client.GetFromJsonAsync<JsonObject>("/api/models/fits/spec"))!["note"]);
    }

    [Fact]
    public async Task PutSpec_KindTheLatestDataWasNotIngestedWith_SaysToUploadAgain_AndTheUploadIsANewVersion()
    {
        await using var host = await StartAsync(azurite);
        var first = await IngestAsync(host, "rekind", "taxi.csv", TestData.TaxiSlice(100));

        var put = await host.Client.PutAsync("/api/models/rekind/spec", Json("""{"label":"fare_amount","columns":{"rate_code":"categorical"}}"""));
        var note = (await put.Content.ReadFromJsonAsync<JsonObject>())!["note"]!.GetValue<string>();
        var again = await IngestAsync(host, "rekind", "taxi-again.csv", TestData.TaxiSlice(100));

        Assert.Contains($"Column 'rate_code' is categorical in the spec, but {first.DatasetVersion} was ingested with it as numeric.", note);
        Assert.Equal(IngestionStatus.Accepted, again.Status);
        Assert.NotEqual(first.DatasetVersion, again.DatasetVersion);
        Assert.Equal(HttpStatusCode.Accepted, (await host.Client.PostAsync("/api/models/rekind/train", null)).StatusCode);
    }
}
