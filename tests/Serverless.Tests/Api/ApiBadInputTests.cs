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

        var none = await host.Client.PutAsync("/api/models/keyed/spec", Json("{}"));
        await ProblemAsync(none, HttpStatusCode.Unauthorized);
        // The 401 says how to authenticate.
        Assert.Equal("ApiKey", Assert.Single(none.Headers.WwwAuthenticate).Scheme);
        var wrong = new HttpRequestMessage(HttpMethod.Put, "/api/models/keyed/spec") { Content = Json("{}") };
        wrong.Headers.Add("x-functions-key", "nope");
        await ProblemAsync(await host.Client.SendAsync(wrong), HttpStatusCode.Forbidden);
        var right = new HttpRequestMessage(HttpMethod.Put, "/api/models/keyed/spec") { Content = Json("""{"label":"y"}""") };
        right.Headers.Add("x-functions-key", Key);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.SendAsync(right)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/health")).StatusCode);
        // The key as the code query parameter, on a route that checks its other parameters.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.PutAsync($"/api/models/keyed/spec?reason=again&code={Key}", Json("""{"label":"z"}"""))).StatusCode);
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
    public async Task QueryParameters_MisspeltOnEveryRouteThatTakesSome_Answer400SuggestingTheName()
    {
        await using var host = await TestHost.StartAsync(azurite);
        (HttpMethod Method, string Path, string Misspelt, string Meant)[] cases =
        [
            (HttpMethod.Get, "/api/models/ghost/runs?srot=rmse", "srot", "sort"),
            (HttpMethod.Get, "/api/models/ghost/quarantine?mx=5", "mx", "max"),
            (HttpMethod.Get, "/api/models/ghost/drift?tpo=5", "tpo", "top"),
            (HttpMethod.Get, "/api/models/ghost/drift/histogram?featur=x", "featur", "feature"),
            (HttpMethod.Get, "/api/orchestrations?modle=ghost", "modle", "model"),
            (HttpMethod.Post, "/api/orchestrations/train-ghost-1/terminate?reson=x", "reson", "reason"),
            (HttpMethod.Put, "/api/models/ghost/spec?resaon=x", "resaon", "reason"),
            (HttpMethod.Post, "/api/models/ghost/predict?alais=staging", "alais", "alias"),
            (HttpMethod.Get, "/api/audit?acton=promote", "acton", "action"),
        ];
        foreach (var (method, path, misspelt, meant) in cases)
        {
            var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : Json("""{"label":"y"}""") };

            var problem = await ProblemAsync(await host.Client.SendAsync(request), HttpStatusCode.BadRequest);

            Assert.True(problem["errors"]?[misspelt] is not null, $"{path}: {problem.ToJsonString()}");
            Assert.Contains($"did you mean '{meant}'?", problem["errors"]![misspelt]![0]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task QueryParameters_GivenTwiceOnEveryRouteThatTakesSome_Answer400_ButRunStatusesMayBeListed()
    {
        await using var host = await TestHost.StartAsync(azurite);
        (HttpMethod Method, string Path, string Twice)[] cases =
        [
            (HttpMethod.Get, "/api/models/ghost/runs?sort=rmse&sort=r2", "sort"),
            (HttpMethod.Get, "/api/models/ghost/quarantine?max=5&max=6", "max"),
            (HttpMethod.Get, "/api/models/ghost/drift?top=5&skip=0&top=6", "top"),
            (HttpMethod.Get, "/api/models/ghost/drift/histogram?feature=x&feature=y", "feature"),
            (HttpMethod.Get, "/api/orchestrations?model=ghost&model=other", "model"),
            (HttpMethod.Post, "/api/orchestrations/train-ghost-1/terminate?reason=x&reason=y", "reason"),
            (HttpMethod.Put, "/api/models/ghost/spec?reason=a&reason=b", "reason"),
            (HttpMethod.Post, "/api/models/ghost/predict?version=v1&version=v2", "version"),
            (HttpMethod.Get, "/api/audit?model=taxi&model=wine", "model"),
            (HttpMethod.Get, "/api/audit?action=spec&action=promote", "action"),
            (HttpMethod.Get, "/api/audit?max=1&max=2", "max"),
            // The admin key's parameter, taken on every route, is taken once too.
            (HttpMethod.Get, "/api/models/ghost/versions/v2/card.md?code=a&code=b", "code"),
            (HttpMethod.Get, "/api/models?code=a&code=a", "code"),
        ];
        foreach (var (method, path, twice) in cases)
        {
            var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : Json("""{"label":"y"}""") };

            var problem = await ProblemAsync(await host.Client.SendAsync(request), HttpStatusCode.BadRequest);

            Assert.True(problem["errors"]?[twice] is not null, $"{path}: {problem.ToJsonString()}");
            Assert.Equal("given 2 times; give it once", problem["errors"]![twice]![0]!.GetValue<string>());
        }
        // Statuses are a list: each one given is taken.
        Assert.Equal(HttpStatusCode.OK, (await host.Client.GetAsync("/api/orchestrations?status=Running&status=Completed")).StatusCode);
    }

    [Fact]
    public async Task QueryParameters_OnEveryRouteThatTakesNone_Answer400NamingThem_ButTheKeyParameterIsTaken()
    {
        await using var host = await TestHost.StartAsync(azurite);
        (HttpMethod Method, string Path)[] routes =
        [
            (HttpMethod.Get, "/api/health"), (HttpMethod.Get, "/api/models"), (HttpMethod.Get, "/api/models/ghost"),
            (HttpMethod.Get, "/api/models/ghost/versions/v1"), (HttpMethod.Get, "/api/models/ghost/spec"), (HttpMethod.Get, "/api/models/ghost/aliases"),
            (HttpMethod.Get, "/api/models/ghost/versions/v1/card.md"), (HttpMethod.Get, "/api/models/ghost/versions/v1/card.html"),
            (HttpMethod.Get, "/api/models/ghost/versions/v1/model.zip"), (HttpMethod.Get, "/api/models/ghost/datasets"),
            (HttpMethod.Get, "/api/models/ghost/datasets/ds-0123456789abcdef/profile"), (HttpMethod.Get, "/api/orchestrations/train-ghost-1"),
            (HttpMethod.Post, "/api/models/ghost/promote"), (HttpMethod.Post, "/api/models/ghost/rollback"), (HttpMethod.Post, "/api/models/ghost/versions/v1/archive"),
            (HttpMethod.Post, "/api/models/ghost/train"), (HttpMethod.Post, "/api/models/ghost/feedback"), (HttpMethod.Post, "/api/models/ghost/drift/check"),
            (HttpMethod.Post, "/api/models/ghost/runs/r1/register"), (HttpMethod.Post, "/api/orchestrations/train-ghost-1/approve"),
            (HttpMethod.Post, "/api/orchestrations/train-ghost-1/reject"), (HttpMethod.Post, "/api/orchestrations/train-ghost-1/raiseEvent/poke"),
            (HttpMethod.Delete, "/api/orchestrations/train-ghost-1"),
        ];
        foreach (var (method, path) in routes)
        {
            var problem = await ProblemAsync(await host.Client.SendAsync(new HttpRequestMessage(method, path + "?version=v2")), HttpStatusCode.BadRequest);
            Assert.True(problem["errors"]?["version"] is not null, $"{method} {path}: {problem.ToJsonString()}");
            Assert.Contains("takes none", problem["errors"]!["version"]![0]!.GetValue<string>());

            var keyed = await host.Client.SendAsync(new HttpRequestMessage(method, path + "?code=k"));
            Assert.True(keyed.StatusCode != HttpStatusCode.BadRequest || !(await keyed.Content.ReadAsStringAsync()).Contains("query parameter", StringComparison.Ordinal), $"{method} {path}?code=");
        }
    }

    [Fact]
    public async Task NoRouteOrAnotherMethod_AnswersAProblemThatSaysWhereTheRoutesAreListed()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var none = await ProblemAsync(await host.Client.GetAsync("/api/nosuch"), HttpStatusCode.NotFound);
        var method = await ProblemAsync(await host.Client.GetAsync("/api/models/ghost/predict"), HttpStatusCode.MethodNotAllowed);

        Assert.Equal("There is no route GET /api/nosuch. GET /api/openapi.json lists every route and its methods.", none["detail"]!.GetValue<string>());
        Assert.StartsWith("/api/models/ghost/predict does not take GET.", method["detail"]!.GetValue<string>(), StringComparison.Ordinal);
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
        // What a model that does not exist has not is never the answer: every route says the model is not there, in one wording.
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/api/models/ghost/versions/v1"), (HttpMethod.Get, "/api/models/ghost/versions/v1/card.md"),
            (HttpMethod.Get, "/api/models/ghost/versions/v1/card.html"), (HttpMethod.Get, "/api/models/ghost/versions/v1/model.zip"),
            (HttpMethod.Get, "/api/models/ghost/datasets/ds-0123456789abcdef/profile"), (HttpMethod.Post, "/api/models/ghost/runs/r1/register"),
        })
        {
            var problem = await ProblemAsync(await host.Client.SendAsync(new HttpRequestMessage(method, path)), HttpStatusCode.NotFound);
            Assert.StartsWith("There is no model 'ghost'", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
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

    [Fact]
    public async Task Predict_BodyWithoutLength_IsReadWhole_AndOverLimitAnswers413()
    {
        await using var host = await TestHost.StartAsync(azurite);

        // Chunked (no Content-Length): read to its end, so an unknown model is what the answer names.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(TestData.TaxiRow)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var unknown = await ProblemAsync(await host.Client.PostAsync("/api/models/ghost/predict", chunked), HttpStatusCode.NotFound);
        Assert.Contains("ghost", unknown["detail"]!.GetValue<string>());

        var broken = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"vendor_id\": ")));
        var invalid = await ProblemAsync(await host.Client.PostAsync("/api/models/ghost/predict", broken), HttpStatusCode.BadRequest);
        Assert.Contains("body", invalid["errors"]!.AsObject().Select(e => e.Key));

        var huge = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"rows\":[" + string.Join(',', Enumerable.Repeat(TestData.TaxiRow, 50_000)) + "]}")));
        await ProblemAsync(await host.Client.PostAsync("/api/models/ghost/predict", huge), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Predict_BodyLargerThanTheServersBuffer_IsReadWhole()
    {
        await using var host = await TestHost.StartAsync(azurite);
        // 3 MB of white space around one row: more than Kestrel buffers unread (1 MB), less than the API's limit (4 MB).
        var padded = "{" + new string(' ', 3 * 1024 * 1024) + TestData.TaxiRow[1..];

        var response = await host.Client.PostAsync("/api/models/ghost/predict", Json(padded));

        var problem = await ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("ghost", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Body_ShorterThanItsContentLength_IsABadRequestNamingBoth()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        var sent = Encoding.UTF8.GetBytes("{\"vendor_id\":");
        context.Request.ContentLength = 100;
        context.Request.Body = new MemoryStream(sent);

        var error = await Assert.ThrowsAsync<Serverless.Core.Api.BadRequestException>(() => Serverless.Core.Api.ApiResults.ReadDocumentAsync(context.Request, CancellationToken.None).AsTask());

        Assert.Contains($"after {sent.Length} of the 100 bytes", error.Message);
    }
}
