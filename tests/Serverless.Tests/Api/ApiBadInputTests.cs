using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Api;

/// <summary>Bad requests get 4xx problem details that name the problem; admin routes need the key.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ApiBadInputTests(AzuriteFixture azurite)
{
    private const string Key = "test-admin-key";

    [Fact]
    public async Task AdminRoute_WithoutKey_Answers401_WithWrongKey403_WithKeyPasses()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Api:AdminKey"] = Key });

        await ProblemAsync(await host.Client.PutAsync("/api/models/keyed/spec", Json("{}")), HttpStatusCode.Unauthorized);
        var wrong = new HttpRequestMessage(HttpMethod.Put, "/api/models/keyed/spec") { Content = Json("{}") };
        wrong.Headers.Add("x-functions-key", "nope");
        await ProblemAsync(await host.Client.SendAsync(wrong), HttpStatusCode.Forbidden);
        var right = new HttpRequestMessage(HttpMethod.Put, "/api/models/keyed/spec") { Content = Json("""{"label":"y"}""") };
        right.Headers.Add("x-functions-key", Key);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.SendAsync(right)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/health")).StatusCode);
    }

    [Fact]
    public async Task PutSpec_UnknownFieldAndBadValues_Answers400NamingEachField()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var unknown = await ProblemAsync(await host.Client.PutAsync("/api/models/specs/spec", Json("""{"lable":"y"}""")), HttpStatusCode.BadRequest);
        Assert.Contains("lable", unknown.ToJsonString());

        var bad = await ProblemAsync(await host.Client.PutAsync("/api/models/specs/spec",
            Json("""{"metric":"accuracy","task":"regression","championTolerance":3,"drift":{"retrainSchedule":"every day"}}""")), HttpStatusCode.BadRequest);
        var errors = bad["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("metric"));
        Assert.True(errors.ContainsKey("championTolerance"));
        Assert.True(errors.ContainsKey("drift.retrainSchedule"));

        var wrongType = await ProblemAsync(await host.Client.PutAsync("/api/models/specs/spec", Json("""{"task":"clustering"}""")), HttpStatusCode.BadRequest);
        Assert.Contains("task", wrongType["errors"]!.ToJsonString());
    }

    [Fact]
    public async Task ModelRoutes_InvalidOrUnknownNames_Answer400And404()
    {
        await using var host = await TestHost.StartAsync(azurite);

        await ProblemAsync(await host.Client.GetAsync("/api/models/Bad_Name"), HttpStatusCode.BadRequest);
        await ProblemAsync(await host.Client.GetAsync("/api/models/ghost"), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.GetAsync("/api/models/ghost/versions/v1"), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/models/ghost/train", null), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/models/ghost/promote", Json("""{"version":"v1"}""")), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/models/ghost/rollback", null), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.GetAsync("/api/orchestrations/nope"), HttpStatusCode.NotFound);
        await ProblemAsync(await host.Client.PostAsync("/api/orchestrations/nope/approve", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task QueryParameters_OutOfRange_Answer400()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var sort = await ProblemAsync(await host.Client.GetAsync("/api/models/any/runs?sort=speed"), HttpStatusCode.BadRequest);
        Assert.Contains("sort", sort["errors"]!.ToJsonString());
        var max = await ProblemAsync(await host.Client.GetAsync("/api/audit?max=-4"), HttpStatusCode.BadRequest);
        Assert.Contains("max", max["errors"]!.ToJsonString());
        await ProblemAsync(await host.Client.PostAsync("/api/models/any/promote", Json("""{"reason":"no version"}""")), HttpStatusCode.BadRequest);
        await ProblemAsync(await host.Client.PostAsync("/api/models/any/predict", Json("")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Predict_BodyOverLimit_Answers413()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var huge = "{\"rows\":[" + string.Join(',', Enumerable.Repeat(TestData.TaxiRow, 50_000)) + "]}";

        var response = await host.Client.PostAsync("/api/models/any/predict", Json(huge));

        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }
}
