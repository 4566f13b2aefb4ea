using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Monitoring;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;
using static Serverless.Tests.Monitoring.MonitoringClient;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Monitoring;

/// <summary>Feedback joined with logged predictions: live metrics per version in the model's view, labelled rows, and the 400s that name bad items.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class FeedbackTests(ShopModels shop) : IClassFixture<ShopModels>
{
    private TestHost Host => shop.Host;

    private const string ThreeRows = """{"rows":[{"distance":2,"member":false,"city":"west"},{"distance":9,"member":true,"city":"north"},{"distance":17,"member":"no","city":"east"}]}""";

    [Fact]
    public async Task Feedback_RegressionBatch_ShowsRmseAndMaeOfTheLabelledRowsInTheModelView()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-spend", ShopData.Spend);
        var requestId = NewRequestId();
        var scores = (await PredictWithIdAsync(Host, model, ThreeRows, requestId))["predictions"]!.AsArray().Select(p => p!["score"]!.GetValue<double>()).ToArray();
        double[] labels = [20, 40, 70];

        var response = await FeedbackAsync(Host, model, $$"""{"items":[{"requestId":"{{requestId}}","row":0,"label":20},{"requestId":"{{requestId}}","row":1,"label":40},{"requestId":"{{requestId}}","row":2,"label":70}]}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["blob"]!.GetValue<string>();
        Assert.StartsWith(Host.Storage.Monitoring.Name + "/", stored, StringComparison.Ordinal);
        Assert.True(await Host.Storage.Monitoring.GetBlobClient(stored[(Host.Storage.Monitoring.Name.Length + 1)..]).ExistsAsync(), stored);
        var live = (await ModelAsync(Host, model))["live"]!["versions"]!.AsArray().Single()!;
        Assert.Equal("v1", live["version"]!.GetValue<string>());
        Assert.Equal(3, live["labelled"]!.GetValue<int>());
        var errors = scores.Zip(labels, (s, l) => (float)s - l).ToArray();
        Assert.Equal(Math.Sqrt(errors.Average(e => e * e)), live["metrics"]!["rmse"]!.GetValue<double>(), 3);
        Assert.Equal(errors.Average(Math.Abs), live["metrics"]!["mae"]!.GetValue<double>(), 3);
    }

    [Fact]
    public async Task Feedback_BinaryBothClasses_ShowsAccuracyAndAuc()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-churn", ShopData.Churn);
        var requestId = NewRequestId();
        var predicted = (await PredictWithIdAsync(Host, model, ThreeRows, requestId))["predictions"]!.AsArray().Select(p => p!["label"]!.GetValue<string>()).ToArray();
        string[] labels = ["leave", "stay", "stay"];

        await FeedbackAsync(Host, model, $$"""{"items":[{"requestId":"{{requestId}}","row":0,"label":"leave"},{"requestId":"{{requestId}}","row":1,"label":"stay"},{"requestId":"{{requestId}}","row":2,"label":"stay"}]}""");

        var metrics = (await ModelAsync(Host, model))["live"]!["versions"]![0]!["metrics"]!.AsObject();
        Assert.Equal(predicted.Zip(labels).Count(p => p.First == p.Second) / 3.0, metrics["accuracy"]!.GetValue<double>(), 6);
        Assert.InRange(metrics["auc"]!.GetValue<double>(), 0, 1);
    }

    [Fact]
    public async Task Feedback_BinaryOneClassSoFar_ShowsAccuracyWithoutAuc()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-churn1", ShopData.Churn);
        var requestId = NewRequestId();
        var predicted = (await PredictWithIdAsync(Host, model, ShopData.Row, requestId))["predictions"]!.AsArray().Single()!["label"]!.GetValue<string>();

        await FeedbackAsync(Host, model, $$"""{"requestId":"{{requestId}}","label":"stay"}""");

        var response = await Host.Client.GetAsync($"/api/models/{model}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var metrics = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["live"]!["versions"]![0]!["metrics"]!.AsObject();
        Assert.Equal(predicted == "stay" ? 1.0 : 0.0, metrics["accuracy"]!.GetValue<double>());
        Assert.False(metrics.ContainsKey("auc"));
    }

    [Fact]
    public async Task Feedback_Multiclass_ShowsMicroAccuracy()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-tier", ShopData.Tier);
        var requestId = NewRequestId();
        var predicted = (await PredictWithIdAsync(Host, model, ThreeRows, requestId))["predictions"]!.AsArray().Select(p => p!["label"]!.GetValue<string>()).ToArray();

        await FeedbackAsync(Host, model, $$"""{"items":[{"requestId":"{{requestId}}","row":0,"label":"{{predicted[0]}}"},{"requestId":"{{requestId}}","row":1,"label":"{{(predicted[1] == "gold" ? "bronze" : "gold")}}"}]}""");

        var live = (await ModelAsync(Host, model))["live"]!["versions"]![0]!;
        Assert.Equal(3, live["predictions"]!.GetValue<int>());
        Assert.Equal(2, live["labelled"]!.GetValue<int>());
        Assert.Equal(0.5, live["metrics"]!["microAccuracy"]!.GetValue<double>(), 6);
    }

    [Fact]
    public async Task Feedback_SingleItem_IsReadBackAsALabelledRowWithTheLoggedInputs()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var response = await FeedbackAsync(Host, ShopData.Spend, $$"""{"requestId":"{{requestId}}","label":33.5}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reader = Host.Services.GetRequiredService<LabelledRowsReader>();
        var rows = new List<LabelledRow>();
        await foreach (var row in reader.ReadAsync(ShopData.Spend, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1))) rows.Add(row);
        var labelled = Assert.Single(rows, r => r.Prediction.RequestId == requestId);
        Assert.Equal(33.5, labelled.Label.GetDouble());
        Assert.Equal(7.5, labelled.Inputs["distance"].GetDouble());
        Assert.DoesNotContain("email", labelled.Inputs.Keys);
    }

    [Fact]
    public async Task Feedback_SameLabelAgain_IsNotStoredTwice_AndADifferentOneReplacesIt()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-again", ShopData.Spend);
        var requestId = NewRequestId();
        var score = (await PredictWithIdAsync(Host, model, ShopData.Row, requestId))["predictions"]![0]!["score"]!.GetValue<double>();
        var body = $$"""{"requestId":"{{requestId}}","label":20}""";

        var first = JsonNode.Parse(await (await FeedbackAsync(Host, model, body)).Content.ReadAsStringAsync())!;
        var again = JsonNode.Parse(await (await FeedbackAsync(Host, model, body)).Content.ReadAsStringAsync())!;
        var changed = JsonNode.Parse(await (await FeedbackAsync(Host, model, $$"""{"requestId":"{{requestId}}","label":25}""")).Content.ReadAsStringAsync())!;

        Assert.Equal((1, 0, 0), (first["accepted"]!.GetValue<int>(), first["relabelled"]!.GetValue<int>(), first["alreadyLabelled"]!.GetValue<int>()));
        Assert.Equal((0, 0, 1), (again["accepted"]!.GetValue<int>(), again["relabelled"]!.GetValue<int>(), again["alreadyLabelled"]!.GetValue<int>()));
        Assert.Null(again["blob"]);
        Assert.Equal((1, 1, 0), (changed["accepted"]!.GetValue<int>(), changed["relabelled"]!.GetValue<int>(), changed["alreadyLabelled"]!.GetValue<int>()));
        var stored = new List<string>();
        await foreach (var blob in Host.Storage.Monitoring.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, MonitoringPaths.FeedbackPrefix(model), CancellationToken.None)) stored.Add(blob.Name);
        Assert.Equal(2, stored.Count);
        var live = (await ModelAsync(Host, model))["live"]!["versions"]!.AsArray().Single()!;
        Assert.Equal(1, live["labelled"]!.GetValue<int>());
        Assert.Equal(Math.Abs((float)score - 25), live["metrics"]!["mae"]!.GetValue<double>(), 3);
    }

    [Fact]
    public async Task Feedback_UnknownRequestId_Is400NamingTheItem()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var response = await FeedbackAsync(Host, ShopData.Spend, $$"""{"items":[{"requestId":"{{requestId}}","label":30},{"requestId":"never-seen-{{requestId}}","label":30}]}""");

        var errors = await BadRequestErrorsAsync(response);
        Assert.Equal(["items[1].requestId"], errors.Keys);
        Assert.Contains("no logged prediction", errors["items[1].requestId"], StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty(Assert.Single(response.Headers.GetValues(Serverless.Core.Serving.RequestId.Header))));
    }

    [Fact]
    public async Task Feedback_Answer_CarriesTheFeedbackRequestsOwnId()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{ShopData.Spend}/feedback")
        {
            Content = Serverless.Tests.Infrastructure.ApiAssert.Json($$"""{"requestId":"{{requestId}}","label":30}"""),
        };
        request.Headers.Add(Serverless.Core.Serving.RequestId.Header, "feedback-" + requestId);

        var response = await Host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("feedback-" + requestId, Assert.Single(response.Headers.GetValues(Serverless.Core.Serving.RequestId.Header)));
    }

    [Fact]
    public async Task Feedback_RefusedQueryParameter_AnswerStillCarriesTheRequestId()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{ShopData.Spend}/feedback?x=1")
        {
            Content = Serverless.Tests.Infrastructure.ApiAssert.Json("""{"requestId":"a","label":30}"""),
        };
        request.Headers.Add(Serverless.Core.Serving.RequestId.Header, "feedback-query-1");

        var response = await Host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("feedback-query-1", Assert.Single(response.Headers.GetValues(Serverless.Core.Serving.RequestId.Header)));
    }

    [Fact]
    public async Task Feedback_RowBeyondTheRequest_Is400NamingTheRow()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, ShopData.Spend, $$"""{"requestId":"{{requestId}}","row":1,"label":30}"""));

        Assert.Equal(["row"], errors.Keys);
    }

    [Fact]
    public async Task Feedback_RowBeyondTheRequestAndWrongLabel_AreNamedInOneAnswer()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, ShopData.Spend,
            $$"""{"items":[{"requestId":"{{requestId}}","row":5,"label":"x"}]}"""));

        Assert.Equal(["items[0].label", "items[0].row"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("expected a number", errors["items[0].label"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ShopData.Spend, "\"thirty\"", "expected a number")]
    [InlineData(ShopData.Spend, "true", "expected a number")]
    [InlineData(ShopData.Churn, "\"maybe\"", "leave, stay")]
    [InlineData(ShopData.Tier, "3", "bronze, gold, silver")]
    [InlineData(ShopData.Tier, "\"Gold\"", "did you mean 'gold'? (classes match case)")]
    public async Task Feedback_WrongLabelType_Is400NamingTheLabel(string model, string label, string hint)
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, model, ShopData.Row, requestId);

        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, model, $$"""{"requestId":"{{requestId}}","label":{{label}}}"""));

        Assert.Equal(["label"], errors.Keys);
        Assert.Contains(hint, errors["label"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"label":30}""", "requestId")]
    [InlineData("""{"requestId":"a","label":30,"colour":1}""", "colour")]
    [InlineData("""{"items":[]}""", "items")]
    [InlineData("""{"items":[{"requestId":"a","label":null}]}""", "items[0].label")]
    [InlineData("""{"items":[{"requestId":"a","row":-1,"label":1}]}""", "items[0].row")]
    [InlineData("""{"requestId":"a","row":0,"label":1,"row":1}""", "row")]
    [InlineData("""{"items":[{"requestId":"a","label":1,"label":2}]}""", "items[0].label")]
    [InlineData("""{"items":[{"requestId":"a","row":1,"label":1}],"items":[{"requestId":"a","label":2}]}""", "items")]
    [InlineData("""{"requestId":"\ud83d","label":1}""", "body")]
    [InlineData("""{"\ud83d":1}""", "body")]
    public async Task Feedback_BadShape_Is400NamingTheField(string body, string field)
    {
        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, ShopData.Spend, body));

        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public async Task Feedback_ShapeAndValueProblems_AreNamedInOneAnswer()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, ShopData.Spend,
            $$"""{"items":[{"requestId":"{{requestId}}","label":"lots","colour":1},{"requestId":"{{NewRequestId()}}","label":2},{"label":3}]}"""));

        Assert.Equal(["items[0].colour", "items[0].label", "items[1].requestId", "items[2].requestId"], errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("expected a number", errors["items[0].label"], StringComparison.Ordinal);
        Assert.Contains("no logged prediction", errors["items[1].requestId"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feedback_TwoItemsForOneRow_Is400NamingTheSecondAndStoresNothing()
    {
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, ShopData.Spend, ShopData.Row, requestId);

        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, ShopData.Spend,
            $$"""{"items":[{"requestId":"{{requestId}}","label":20},{"requestId":"{{requestId}}","row":0,"label":30}]}"""));

        Assert.Equal(["items[1].requestId"], errors.Keys);
        Assert.Contains("same row as items[0]", errors["items[1].requestId"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feedback_RequestIdSentWithTwoRequests_Is400SayingWhichCannotBeTold()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-dupid", ShopData.Spend);
        var requestId = NewRequestId();
        await PredictWithIdAsync(Host, model, """{"distance":2,"member":false,"city":"west"}""", requestId);
        await PredictWithIdAsync(Host, model, """{"distance":17,"member":true,"city":"east"}""", requestId);

        var errors = await BadRequestErrorsAsync(await FeedbackAsync(Host, model, $$"""{"requestId":"{{requestId}}","label":20}"""));

        Assert.Contains("request id of 2 logged predictions", errors["requestId"], StringComparison.Ordinal);
        Assert.Equal(0, (await ModelAsync(Host, model))["live"]!["versions"]![0]!["labelled"]!.GetValue<int>());
    }

    [Fact]
    public async Task Feedback_RequestIdReusedAfterTheLabel_TheLaterPredictionIsNotLabelled()
    {
        var model = await CopyIntoProductionAsync(shop, "fb-reuse", ShopData.Spend);
        var requestId = NewRequestId();
        var first = (await PredictWithIdAsync(Host, model, """{"distance":2,"member":false,"city":"west"}""", requestId))["predictions"]![0]!["score"]!.GetValue<double>();
        Assert.Equal(HttpStatusCode.OK, (await FeedbackAsync(Host, model, $$"""{"requestId":"{{requestId}}","label":20}""")).StatusCode);

        await PredictWithIdAsync(Host, model, """{"distance":17,"member":true,"city":"east"}""", requestId);
        Assert.Equal(2, (await LoggedAsync(Host, model)).Count(e => e.RequestId == requestId));

        var live = (await ModelAsync(Host, model))["live"]!["versions"]![0]!;
        Assert.Equal(2, live["predictions"]!.GetValue<int>());
        Assert.Equal(1, live["labelled"]!.GetValue<int>());
        Assert.Equal(Math.Abs((float)first - 20), live["metrics"]!["mae"]!.GetValue<double>(), 3);
        var rows = new List<LabelledRow>();
        await foreach (var row in Host.Services.GetRequiredService<LabelledRowsReader>().ReadAsync(model, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(1))) rows.Add(row);
        Assert.Equal(2.0, Assert.Single(rows).Inputs["distance"].GetDouble());
    }

    [Fact]
    public async Task Feedback_UnknownModel_Is404()
    {
        var response = await FeedbackAsync(Host, "no-such-model", """{"requestId":"a","label":1}""");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.NotFound);
    }
}
