using System.Net;
using System.Text.Json.Nodes;
using Serverless.Core.Specs;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Serving.PredictClient;

namespace Serverless.Tests.Serving;

/// <summary>
/// Request rows checked against the model's schema (the regression model of <see cref="ShopData"/>: numeric distance,
/// boolean member, categorical city; note excluded, email sensitive, day a date), and the predict side of
/// <see cref="CellValueTable"/>.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PredictInputTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    private const string Model = ShopData.Spend;
    private const string Complete = """{"distance":7.5,"member":true,"city":"east"}""";

    private TestHost Host => shop.Host;

    private static readonly Dictionary<ColumnKind, string> Fields = new() { [ColumnKind.Numeric] = "distance", [ColumnKind.Boolean] = "member", [ColumnKind.Categorical] = "city" };

    [Theory]
    [MemberData(nameof(CellValueTable.Rows), MemberType = typeof(CellValueTable))]
    public async Task Predict_CellValueTable_ReadsEachCellAsIngestionDoes(CellCase cell)
    {
        var field = Fields[cell.Kind];
        var row = JsonNode.Parse(Complete)!.AsObject();
        row[field] = cell.Cell;

        var response = await PostAsync(Host, Model, row.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["predictions"]![0]!.AsObject();
        var reference = JsonNode.Parse(Complete)!.AsObject();
        if (cell.Value is null) reference.Remove(field);
        else reference[field] = cell.Kind switch
        {
            ColumnKind.Numeric => JsonValue.Create(double.Parse(cell.Value, System.Globalization.CultureInfo.InvariantCulture)),
            ColumnKind.Boolean => JsonValue.Create(cell.Value == "true"),
            _ => JsonValue.Create(cell.Value),
        };
        var expected = await SingleAsync(Host, Model, reference.ToJsonString());
        Assert.Equal(Score(expected), Score(prediction), tolerance: 1e-6);
        Assert.Equal(cell.Value is null ? new[] { field } : [], Imputed(prediction));
    }

    [Fact]
    public async Task Predict_UnknownField_Answers400NamingFieldAndRow()
    {
        var response = await PostAsync(Host, Model, $$"""{"rows":[{{Complete}},{"distance":3,"member":false,"city":"north","colour":"red"}]}""");

        var errors = await BadRequestErrorsAsync(response);
        Assert.Equal(["rows[1].colour"], errors.Keys);
        Assert.Contains("unknown field", errors["rows[1].colour"]);
    }

    [Fact]
    public async Task Predict_UnknownFieldDifferingInCase_Answers400SuggestingTheName()
    {
        var errors = await BadRequestErrorsAsync(await PostAsync(Host, Model, """{"Distance":7.5,"member":true,"city":"east"}"""));

        Assert.Contains("did you mean 'distance'", errors["rows[0].Distance"]);
    }

    [Fact]
    public async Task Predict_ExcludedSensitiveLabelAndDateFields_AreAcceptedAndIgnored()
    {
        var plain = await SingleAsync(Host, Model, Complete);

        var withAll = await SingleAsync(Host, Model,
            """{"distance":7.5,"member":true,"city":"east","note":"anything","email":"someone@example.com","day":"not even a date","spend":1e9,"churn":"leave","tier":"gold"}""");

        Assert.Equal(Score(plain), Score(withAll));
        Assert.Empty(Imputed(withAll));
    }

    [Fact]
    public async Task Predict_CompleteRow_ListsNoImputedField()
    {
        var prediction = await SingleAsync(Host, Model, Complete);

        Assert.Null(prediction["imputed"]);
    }

    [Fact]
    public async Task Predict_AbsentNumericField_IsImputedAndListed()
    {
        var prediction = await SingleAsync(Host, Model, """{"member":true,"city":"east"}""");

        Assert.Equal(["distance"], Imputed(prediction));
    }

    [Fact]
    public async Task Predict_NullAndNaFields_AreImputedAndListedPerRow()
    {
        var answer = await PredictAsync(Host, Model, $$"""{"rows":[{{Complete}},{"distance":null,"member":"no","city":"NA"},{"distance":"","member":"yes","city":"west"}]}""");

        var rows = answer["predictions"]!.AsArray().Select(p => string.Join(',', Imputed(p!.AsObject())));
        Assert.Equal(["", "distance,city", "distance"], rows);
    }

    /// <summary>
    /// A category the model never saw in training is scored as no category, the model's own encoding of it, exactly as a
    /// missing one is; the answer names it, so a typo or a new value is not scored in silence.
    /// </summary>
    [Fact]
    public async Task Predict_UnseenCategory_IsScoredAsNoCategoryAndListed()
    {
        var answer = await PredictAsync(Host, Model,
            """{"rows":[{"distance":7.5,"member":true,"city":"atlantis"},{"distance":7.5,"member":true,"city":true},{"distance":7.5,"member":true},{"distance":7.5,"member":true,"city":"east"}]}""");

        var rows = answer["predictions"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.Equal(["city", "city", null, null], rows.Select(r => r["unseenCategories"]?.AsArray().Single()!.GetValue<string>()));
        Assert.Equal(Score(rows[2]), Score(rows[0]), tolerance: 1e-6);
        Assert.Equal(Score(rows[2]), Score(rows[1]), tolerance: 1e-6);
        Assert.NotEqual(Score(rows[2]), Score(rows[3]));
        Assert.Equal(["", "", "city", ""], rows.Select(r => string.Join(',', Imputed(r))));
    }

    /// <summary>
    /// A missing boolean (absent, null, "", NA) is scored as false, as training read the data file's missing boolean
    /// (ML.NET's loader reads an empty one as false), and listed in <c>imputed</c>: the same reading on both paths.
    /// </summary>
    [Fact]
    public async Task Predict_MissingBoolean_IsScoredAsFalseAsTrainingReadIt_AndListedAsImputed()
    {
        var answer = await PredictAsync(Host, Model, """
            {"rows":[{"distance":2,"city":"east"},{"distance":2,"member":null,"city":"east"},{"distance":2,"member":"","city":"east"},
                     {"distance":2,"member":"NA","city":"east"},{"distance":2,"member":false,"city":"east"},{"distance":2,"member":true,"city":"east"}]}
            """);

        var rows = answer["predictions"]!.AsArray().Select(p => p!.AsObject()).ToList();
        Assert.All(rows.Take(4), r => Assert.Equal(Score(rows[4]), Score(r), tolerance: 1e-6));
        Assert.NotEqual(Score(rows[4]), Score(rows[5]));
        Assert.Equal(["member", "member", "member", "member", "", ""], rows.Select(r => string.Join(',', Imputed(r))));
    }

    [Fact]
    public async Task Predict_EmptyObject_IsScoredWithEveryFieldImputedAndListed()
    {
        var answer = await PredictAsync(Host, Model, "{}");

        Assert.Equal(["city", "distance", "member"], Imputed(answer["predictions"]![0]!.AsObject()).Order());
    }

    [Fact]
    public async Task Predict_WrongTypes_Answer400NamingEachFieldAndRow()
    {
        var response = await PostAsync(Host, Model, $$"""{"rows":[{{Complete}},{"distance":"far","member":"maybe","city":["east"]}]}""");

        var errors = await BadRequestErrorsAsync(response);
        Assert.Equal(["rows[1].city", "rows[1].distance", "rows[1].member"], errors.Keys.Order());
        Assert.Contains("expected a number", errors["rows[1].distance"]);
        Assert.Contains("expected true or false", errors["rows[1].member"]);
        Assert.Contains("expected a string", errors["rows[1].city"]);
    }

    [Fact]
    public async Task Predict_EightyBadFields_DetailCountsThemAndSaysHowManyErrorsHolds()
    {
        var rows = string.Join(',', Enumerable.Range(0, 80).Select(_ => """{"distance":"far","member":true,"city":"east"}"""));

        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, $$"""{"rows":[{{rows}}]}"""), HttpStatusCode.BadRequest);

        var detail = problem["detail"]!.GetValue<string>();
        Assert.StartsWith("80 field(s) of the request do not fit the model: rows[0].distance", detail, StringComparison.Ordinal);
        Assert.EndsWith("; and 75 more (50 of the 80 in 'errors').", detail, StringComparison.Ordinal);
        Assert.Equal(50, problem["errors"]!.AsObject().Count);
    }

    [Fact]
    public async Task Predict_NumberOutOfRange_Answers400NamingFieldAndRow()
    {
        var errors = await BadRequestErrorsAsync(await PostAsync(Host, Model, """{"distance":1e300,"member":true,"city":"east"}"""));

        Assert.Equal("expected a number of magnitude at most 3.4e+38 (models read 32-bit numbers), got 1e300", errors["rows[0].distance"]);
    }

    [Fact]
    public async Task Predict_RowThatIsNotAnObject_Answers400NamingTheRow()
    {
        var errors = await BadRequestErrorsAsync(await PostAsync(Host, Model, $$"""{"rows":[{{Complete}},42]}"""));

        Assert.Equal(["rows[1]"], errors.Keys);
    }

    [Fact]
    public async Task Predict_MoreRowsThanTheLimit_Answers413StatingTheLimit()
    {
        var body = "{\"rows\":[" + string.Join(',', Enumerable.Repeat(Complete, 1001)) + "]}";

        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, body), HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains("limit is 1000 rows", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_RowsAtTheLimit_AnswersEveryRow()
    {
        var body = "{\"rows\":[" + string.Join(',', Enumerable.Repeat(Complete, 1000)) + "]}";

        var answer = await PredictAsync(Host, Model, body);

        Assert.Equal(1000, answer["predictions"]!.AsArray().Count);
    }

    [Fact]
    public async Task Predict_InvalidJson_Answers400()
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, """{"distance": 7.5,"""), HttpStatusCode.BadRequest);

        Assert.Contains("not valid JSON at line 1, byte", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain("LineNumber", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain("BytePositionInLine", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{\"distance\":7.5,\"member\":true,\"city\":\"e\xFFst\"}", "line 1, byte 40")]
    [InlineData("{\"distance\":7.5,\n\"\xC3\":true}", "line 2, byte 2")]
    public async Task Predict_BytesThatAreNotUtf8_Answers400NamingWhere(string latin1, string at)
    {
        // The test's bytes, one per character: \xFF and a lone \xC3 are not UTF-8.
        var content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(latin1));
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{Model}/predict") { Content = content };
        request.Headers.Add("x-request-id", "not-utf8-1");

        var response = await Host.Client.SendAsync(request);

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal($"not UTF-8 at {at}", problem["errors"]!["body"]![0]!.GetValue<string>());
        Assert.Equal("not-utf8-1", response.Headers.GetValues("x-request-id").Single());
    }

    [Theory]
    [InlineData("""{"distance":7.5,"member":true,"city":"\ud83d"}""", "line 1, byte 38")]
    [InlineData("""{"distance":7.5,"member":true,"city":"a\udc00b"}""", "line 1, byte 38")]
    [InlineData("""{"rows":[{"distance":7.5,"\ud83d":1}]}""", "line 1, byte 26")]
    public async Task Predict_EscapeOfHalfACharacter_Answers400NamingWhere(string body, string at)
    {
        // The parser takes such an escape and throws only when the string is read: it was a 500, and an ignored field
        // (the label, an excluded column) was answered 200 and then could not be logged.
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, body), HttpStatusCode.BadRequest);

        Assert.Equal($"half a character at {at}", problem["errors"]!["body"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_EscapedPairAndEscapedBackslash_AreRead()
    {
        var answer = await PredictAsync(Host, Model, """{"rows":[{"distance":7.5,"member":true,"city":"\ud83d\ude00"},{"distance":7.5,"member":true,"city":"\\ud83d"}]}""");

        Assert.Equal(2, answer["predictions"]!.AsArray().Count);
    }

    [Fact]
    public async Task Predict_RowsGivenTwice_Answers400()
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, $$"""{"rows":[{{Complete}}],"rows":[{{Complete}},{{Complete}}]}"""), HttpStatusCode.BadRequest);

        Assert.Equal("given twice; give it once", problem["errors"]!["rows"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_CompressedBody_Answers415NamingTheEncoding()
    {
        var content = ApiAssert.Json(Complete);
        content.Headers.ContentEncoding.Add("gzip");

        var problem = await ApiAssert.ProblemAsync(await Host.Client.PostAsync($"/api/models/{Model}/predict", content), HttpStatusCode.UnsupportedMediaType);

        Assert.Contains("Content-Encoding 'gzip'", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("   ", "isFinalBlock")]
    [InlineData("""{"distance":7.5,}""", "reader options")]
    public async Task Predict_InvalidJson_SaysSoWithoutTheParsersSettings(string body, string parserTerm)
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, body), HttpStatusCode.BadRequest);

        Assert.Contains("not valid JSON at line 1", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain(parserTerm, problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_BodyThatStopsShortOfItsContentLength_Answers400SayingSo()
    {
        // A raw socket: an HTTP client will not send fewer bytes than it announces.
        var address = Host.Client.BaseAddress!;
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        var stream = socket.GetStream();
        var head = $"POST /api/models/{Model}/predict HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\nContent-Length: 80\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head + """{"distance":7.5,"""));

        // The connection stays open and the rest never comes: the server gives up on the body after its grace period (5 s).
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        var answer = System.Text.Encoding.UTF8.GetString(buffer, 0, read);

        Assert.StartsWith("HTTP/1.1 400", answer);
        Assert.Contains("The body stopped arriving before the 80 bytes its Content-Length announced", answer);
        Assert.DoesNotContain("MinRequestBodyDataRate", answer);
    }

    [Fact]
    public async Task Promote_ReasonWithHalfACharacter_Answers400WithoutATypeName()
    {
        var response = await Host.Client.PostAsync($"/api/models/{Model}/promote", ApiAssert.Json("""{"version":"v1","reason":"\ud83d"}"""));

        var problem = await ApiAssert.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.DoesNotContain("System.", problem["detail"]!.GetValue<string>());
        Assert.Contains("body", problem["errors"]!.AsObject().Select(e => e.Key));
    }

    [Theory]
    [InlineData("GET", "predict")]
    [InlineData("PUT", "predict")]
    [InlineData("DELETE", "predict")]
    [InlineData("HEAD", "predict")]
    [InlineData("OPTIONS", "predict")]
    [InlineData("GET", "feedback")]
    [InlineData("PATCH", "feedback")]
    public async Task PredictAndFeedback_OtherMethod_Answers405WithAllowAndTheRequestId(string method, string route)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), $"/api/models/{Model}/{route}");
        request.Headers.Add("x-request-id", "wrong-method-1");

        var response = await Host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("wrong-method-1", response.Headers.GetValues("x-request-id").Single());
        Assert.Equal(["POST"], response.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("/api/health", HttpStatusCode.OK)]
    [InlineData($"/api/models/{Model}", HttpStatusCode.OK)]
    [InlineData("/api/models/no-such-shop", HttpStatusCode.NotFound)]
    public async Task Head_OfAGetRoute_AnswersAsTheGetWouldWithoutItsBody(string path, HttpStatusCode status)
    {
        var response = await Host.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(status, response.StatusCode);
        Assert.StartsWith("application/", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Predict_BodyAfterAUtf8ByteOrderMark_IsRead()
    {
        var content = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(Complete)]);

        var response = await Host.Client.PostAsync($"/api/models/{Model}/predict", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Predict_EmptyBody_Answers400NamingTheBody()
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, ""), HttpStatusCode.BadRequest);

        Assert.Equal("empty", problem["errors"]!["body"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_FaultReadingTheRegistry_Answers500WithTheRequestId()
    {
        var model = $"fault-{Guid.NewGuid():N}"[..14];
        await shop.RegisterCopyAsync(model);
        await Host.Storage.Models.GetBlobClient(Core.Registry.ModelRegistry.RegistryBlob(model)).UploadAsync(BinaryData.FromString("{not json"), overwrite: true);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{model}/predict") { Content = ApiAssert.Json(Complete) };
        request.Headers.Add("x-request-id", "fault-1");

        var response = await Host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("fault-1", response.Headers.GetValues("x-request-id").Single());
        var problem = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("fault-1", problem["requestId"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    [InlineData(null)]
    public async Task Predict_JsonSentWithAnotherOrNoContentType_IsReadAsJson(string? contentType)
    {
        // curl -d sends application/x-www-form-urlencoded unless told otherwise.
        var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(Complete));
        if (contentType is not null) content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{Model}/predict") { Content = content };
        request.Headers.Add("x-request-id", "curl-like-1");

        var response = await Host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("curl-like-1", response.Headers.GetValues("x-request-id").Single());
    }

    [Fact]
    public async Task PutSpec_JsonSentAsCurlDashDSendsIt_IsReadAsJson()
    {
        var model = $"curl-{Guid.NewGuid():N}"[..13];
        var content = new StringContent("""{"label":"spend","task":"regression"}""", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded");

        var response = await Host.Client.PutAsync($"/api/models/{model}/spec", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("?version=v1&version=v2", "version")]
    [InlineData("?alias=staging&alias=production", "alias")]
    public async Task Predict_SelectorGivenTwice_Answers400NamingIt(string query, string field)
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, Model, Complete, query), HttpStatusCode.BadRequest);

        Assert.Contains("give it once", problem["errors"]![field]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Predict_MisspeltQueryParameter_Answers400SuggestingTheName()
    {
        var errors = await BadRequestErrorsAsync(await PostAsync(Host, Model, Complete, "?versoin=v1"));

        Assert.Equal(["versoin"], errors.Keys);
        Assert.Contains("did you mean 'version'?", errors["versoin"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_BodyOverTheSizeLimit_Answers413()
    {
        var body = "{\"rows\":[" + string.Join(',', Enumerable.Repeat(ShopData.Row, 40_000)) + "]}";

        await ApiAssert.ProblemAsync(await PostAsync(Host, Model, body), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Predict_UnknownModel_Answers404()
    {
        var problem = await ApiAssert.ProblemAsync(await PostAsync(Host, "no-such-shop", Complete), HttpStatusCode.NotFound);

        Assert.Contains("no-such-shop", problem["detail"]!.GetValue<string>());
    }
}
