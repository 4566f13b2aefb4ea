using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Serverless.Core.Registry;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Serving;

/// <summary>The answer of predict per task, its version and request id, which version answers, and scores that do not depend on how rows are sent.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PredictAnswerTests(ShopModels shop) : IClassFixture<ShopModels>
{
    private TestHost Host => shop.Host;

    /// <summary>Rows with every spelling of missing and boolean values, and the same rows as the canonical data file would hold them.</summary>
    private static readonly (string Json, string Csv)[] Rows =
    [
        ("""{"distance":7.5,"member":true,"city":"east"}""", "7.5,true,east"),
        ("""{"distance":"12.25","member":"no","city":"north"}""", "12.25,false,north"),
        ("""{"distance":null,"member":"yes","city":"west"}""", ",true,west"),
        ("""{"distance":"NA","member":"f","city":""}""", ",false,"),
        ("""{"distance":0.5,"member":1,"city":"NaN"}""", "0.5,true,"),
        ("""{"distance":19,"member":"N","city":"nowhere"}""", "19,false,nowhere"),
        ("""{"member":"True","city":"south","email":"x@example.com"}""", ",true,south"),
    ];

    [Fact]
    public async Task Predict_RegressionModel_AnswersScoreOnly()
    {
        var answer = await PredictAsync(Host, ShopData.Spend, ShopData.Row);

        var prediction = answer["predictions"]!.AsArray().Single()!.AsObject();
        Assert.Equal(["score"], prediction.Select(p => p.Key));
        Assert.InRange(Score(prediction), 20, 80);
    }

    [Fact]
    public async Task Predict_Answer_CarriesModelVersionAndRequestId()
    {
        var response = await PostAsync(Host, ShopData.Spend, ShopData.Row);

        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal(["model", "modelVersion", "requestId", "predictions"], answer.Select(p => p.Key));
        Assert.Equal(ShopData.Spend, answer["model"]!.GetValue<string>());
        Assert.Equal("v1", answer["modelVersion"]!.GetValue<string>());
        Assert.Equal(response.Headers.GetValues("x-request-id").Single(), answer["requestId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_BinaryModel_AnswersLabelProbabilityAndScore()
    {
        var prediction = await SingleAsync(Host, ShopData.Churn, """{"distance":3,"member":false,"city":"west"}""");

        Assert.Equal(["label", "probability", "score"], prediction.Select(p => p.Key));
        Assert.Equal("leave", prediction["label"]!.GetValue<string>());
        // The probability is of the positive class, the second of the schema's classes (leave, stay): here, of staying.
        Assert.InRange(prediction["probability"]!.GetValue<double>(), 0.0, 0.5);
        Assert.True(prediction["score"]!.GetValue<double>() < 0);
    }

    [Fact]
    public async Task Predict_MulticlassModel_AnswersLabelAndPerClassProbabilities()
    {
        var prediction = await SingleAsync(Host, ShopData.Tier, """{"distance":19,"member":true,"city":"west"}""");

        Assert.Equal(["label", "probabilities"], prediction.Select(p => p.Key));
        Assert.Equal("gold", prediction["label"]!.GetValue<string>());
        var probabilities = prediction["probabilities"]!.AsObject();
        Assert.Equal(["bronze", "gold", "silver"], probabilities.Select(p => p.Key).Order());
        Assert.Equal(1.0, probabilities.Sum(p => p.Value!.GetValue<double>()), 3);
    }

    [Fact]
    public async Task Predict_RowsOneByOne_ScoreAsTheSameRowsInOneBatch()
    {
        var batch = await PredictAsync(Host, ShopData.Spend, $"{{\"rows\":[{string.Join(',', Rows.Select(r => r.Json))}]}}");

        var batchScores = batch["predictions"]!.AsArray().Select(p => Score(p!.AsObject())).ToArray();
        for (var i = 0; i < Rows.Length; i++)
        {
            Assert.Equal(batchScores[i], Score(await SingleAsync(Host, ShopData.Spend, Rows[i].Json)), tolerance: 1e-5);
        }
    }

    [Fact]
    public async Task Predict_RowsOneByOneAfterRefusedRows_AnswerAsTheSameRowsInOneBatch()
    {
        // A single row is read into a pooled scorer's own one-row input: neither the row before it nor a refused row
        // half read into that input (a valid distance, then an invalid member) may show in its answer.
        var batch = await PredictAsync(Host, ShopData.Spend, $"{{\"rows\":[{string.Join(',', Rows.Select(r => r.Json))}]}}");

        var expected = batch["predictions"]!.AsArray();
        for (var i = 0; i < Rows.Length; i++)
        {
            using var refused = await PostAsync(Host, ShopData.Spend, """{"distance":99,"member":"maybe","city":"east"}""");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var single = await SingleAsync(Host, ShopData.Spend, Rows[i].Json);
            Assert.Equal(Score(expected[i]!.AsObject()), Score(single), tolerance: 1e-5);
            Assert.Equal(expected[i]!["imputed"]?.ToJsonString(), single["imputed"]?.ToJsonString());
            Assert.Equal(expected[i]!["unseenCategories"]?.ToJsonString(), single["unseenCategories"]?.ToJsonString());
        }
    }

    [Fact]
    public async Task Predict_Rows_ScoreAsTheTrainingLoaderReadsTheSameRows() => await AssertScoredAsTheLoaderReadsAsync(Rows);

    [Fact]
    public async Task Predict_BatchLargeEnoughToSplitAcrossCores_KeepsEachRowsScoreInOrder()
    {
        string[] cities = ["east", "west", "north", "south"];
        var rows = Enumerable.Range(0, Core.Serving.LoadedModel.ParallelRows * 2 + 7)
            .Select(i => (Json: $$"""{"distance":{{i * 0.07:0.00}},"member":{{(i % 3 == 0 ? "true" : "false")}},"city":"{{cities[i % 4]}}"}""",
                          Csv: $"{i * 0.07:0.00},{(i % 3 == 0 ? "true" : "false")},{cities[i % 4]}"))
            .ToArray();

        await AssertScoredAsTheLoaderReadsAsync(rows);
    }

    /// <summary>One batch request of the rows answers, row by row in order, what ML.NET's transform gives the same rows read by the training loader.</summary>
    private async Task AssertScoredAsTheLoaderReadsAsync(IReadOnlyList<(string Json, string Csv)> rows)
    {
        var (manifest, bytes) = await shop.Registry.LoadVerifiedAsync(ShopData.Spend, "v1", CancellationToken.None);
        var ml = FeaturePipeline.Context(1);
        var model = ml.Model.Load(new MemoryStream(bytes), out _);
        var header = string.Join(',', manifest.Schema.Columns.Select(c => c.Name));
        var csv = new StringBuilder(header + "\n");
        foreach (var (_, row) in rows) csv.Append(CsvRow(manifest, row)).Append('\n');
        var path = Path.Combine(Path.GetTempPath(), $"serving-parity-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(path, csv.ToString());
        float[] expected;
        try
        {
            expected = [.. model.Transform(FeaturePipeline.Loader(ml, manifest.Schema, withLabel: false).Load(path)).GetColumn<float>("Score")];
        }
        finally
        {
            File.Delete(path);
        }

        var answer = await PredictAsync(Host, ShopData.Spend, $"{{\"rows\":[{string.Join(',', rows.Select(r => r.Json))}]}}");

        var served = answer["predictions"]!.AsArray().Select(p => Score(p!.AsObject())).ToArray();
        Assert.Equal(expected.Length, served.Length);
        Assert.True(expected.Distinct().Count() > 1, "the rows should not all score alike");
        for (var i = 0; i < served.Length; i++) Assert.Equal(expected[i], served[i], tolerance: 1e-5);
    }

    [Fact]
    public async Task Predict_SafeIncomingRequestId_IsEchoedInHeaderAndBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{ShopData.Spend}/predict") { Content = ApiAssert.Json(ShopData.Row) };
        request.Headers.Add("x-request-id", "trace-42.abc:7");

        var response = await Host.Client.SendAsync(request);

        Assert.Equal("trace-42.abc:7", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal("trace-42.abc:7", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["requestId"]!.GetValue<string>());
        Assert.False(response.Headers.Contains("x-request-id-replaced"));
    }

    /// <summary>Every problem predict answers names the request in its body, as the header does and as feedback's problems do.</summary>
    [Theory]
    [InlineData("shop-spend", "{\"rows\": 5}", 400)]
    [InlineData("no-such-model", "{}", 404)]
    [InlineData("shop-spend", "{not json", 400)]
    public async Task Predict_Problem_CarriesTheRequestIdInItsBody(string model, string body, int status)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{model}/predict") { Content = ApiAssert.Json(body) };
        request.Headers.Add("x-request-id", "problem-7");

        var problem = await ApiAssert.ProblemAsync(await Host.Client.SendAsync(request), (HttpStatusCode)status);

        Assert.Equal("problem-7", problem["requestId"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_UnsafeIncomingRequestId_IsReplacedByANewOne()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{ShopData.Spend}/predict") { Content = ApiAssert.Json(ShopData.Row) };
        request.Headers.TryAddWithoutValidation("x-request-id", "<script>alert(1)</script>");

        var response = await Host.Client.SendAsync(request);

        var id = response.Headers.GetValues("x-request-id").Single();
        Assert.Matches("^[0-9a-f]{32}$", id);
        Assert.Equal(id, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["requestId"]!.GetValue<string>());
        Assert.Contains("1 to 128 characters", response.Headers.GetValues("x-request-id-replaced").Single());
    }

    [Fact]
    public async Task Predict_RequestIdHeaderSentTwice_NeitherIsTaken_AndTheAnswerSaysWhy()
    {
        // Two header lines, as curl -H twice sends them (HttpClient would fold them into one value).
        var body = System.Text.Encoding.UTF8.GetBytes(ShopData.Row);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(Host.Client.BaseAddress!.Host, Host.Client.BaseAddress.Port);
        await using var stream = tcp.GetStream();
        var head = $"POST /api/models/{ShopData.Spend}/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
                   $"x-request-id: first-id\r\nx-request-id: second-id\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        await stream.WriteAsync(body);

        var answer = await new StreamReader(stream).ReadToEndAsync();

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Contains("x-request-id-replaced: x-request-id was sent 2 times, so this request has a new id", answer, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("first-id", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("second-id", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_ErrorAnswer_CarriesTheRequestIdHeader()
    {
        var response = await PostAsync(Host, ShopData.Spend, """{"distance":"far"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Matches("^[0-9a-f]{32}$", response.Headers.GetValues("x-request-id").Single());
    }

    [Fact]
    public async Task Predict_VersionQuery_PinsThatVersion()
    {
        var model = await PinnableModelAsync();

        var production = await PredictAsync(Host, model, ShopData.Row);
        var pinned = await PredictAsync(Host, model, ShopData.Row, "?version=v2");

        Assert.Equal("v1", production["modelVersion"]!.GetValue<string>());
        Assert.Equal("v2", pinned["modelVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_AliasQuery_IsAnsweredByTheVersionTheAliasNames()
    {
        var model = await PinnableModelAsync();

        var staging = await PredictAsync(Host, model, ShopData.Row, "?alias=staging");

        Assert.Equal("v2", staging["modelVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_VersionAndAliasTogether_Answers400()
    {
        var errors = await BadRequestErrorsAsync(await PostAsync(Host, ShopData.Spend, ShopData.Row, "?version=v1&alias=staging"));

        Assert.Contains("alias", errors.Keys);
    }

    [Fact]
    public async Task Predict_MalformedVersion_Answers400()
    {
        var errors = await BadRequestErrorsAsync(await PostAsync(Host, ShopData.Spend, ShopData.Row, "?version=latest"));

        Assert.Contains("version", errors.Keys);
    }

    [Fact]
    public async Task Predict_UnknownVersion_Answers404ListingTheVersions()
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, ShopData.Spend, ShopData.Row, "?version=v9"), HttpStatusCode.NotFound);

        Assert.Contains("no version 'v9' (versions: v1)", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_UnknownAlias_Answers404()
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, ShopData.Spend, ShopData.Row, "?alias=canary"), HttpStatusCode.NotFound);

        Assert.Contains("no alias 'canary'", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_ModelWithoutProductionVersion_Answers409SayingWhatToDo()
    {
        var model = "unpromoted-" + Guid.NewGuid().ToString("N")[..8];
        await shop.RegisterCopyAsync(model);

        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, model, ShopData.Row), HttpStatusCode.Conflict);

        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains("no production version", detail);
        Assert.Contains($"POST /api/models/{model}/promote", detail);
    }

    /// <summary>A model of the test's own with v1 in production and v2 under the staging alias.</summary>
    private async Task<string> PinnableModelAsync()
    {
        var model = "pinned-" + Guid.NewGuid().ToString("N")[..8];
        await shop.RegisterCopyAsync(model);
        await shop.RegisterCopyAsync(model);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "pinning", CancellationToken.None);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, "v2", "test", "pinning", CancellationToken.None);
        return model;
    }

    /// <summary>A request row as the canonical data file holds it, in the schema's column order (label and ignored columns empty).</summary>
    private static string CsvRow(ModelManifest manifest, string features)
    {
        var values = features.Split(',');
        var byName = new Dictionary<string, string> { ["distance"] = values[0], ["member"] = values[1], ["city"] = values[2] };
        return string.Join(',', manifest.Schema.Columns.Select(c => byName.GetValueOrDefault(c.Name, "")));
    }
}
