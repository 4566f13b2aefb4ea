using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Serverless.Core.Api;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Api;

/// <summary>
/// What a person reads in the API's answers, on a trained model: one version form (<c>v1</c>; a bare 1 is read as v1),
/// a view that says how to call the model (input signature and an example request), one name for what was trained
/// (<c>trainer</c>), runs' metrics named as validation metrics, audit details as objects, no null fields, no escaped
/// characters, and numbers of at most six significant digits.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class ApiAnswerShapeTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    private const string Model = ShopData.Spend;

    private TestHost Host => shop.Host;

    [Fact]
    public async Task ModelList_LatestVersion_IsInTheVForm()
    {
        var list = await GetAsync("/api/models");

        var model = list["models"]!.AsArray().Single(m => m!["model"]!.GetValue<string>() == Model)!;
        Assert.Equal("v1", model["latestVersion"]!.GetValue<string>());
        Assert.Equal("v1", model["production"]!.GetValue<string>());
    }

    [Fact]
    public async Task ModelView_TrainedModel_GivesLatestVersionAndInputSignature()
    {
        var view = await GetAsync($"/api/models/{Model}");

        Assert.Equal("v1", view["latestVersion"]!.GetValue<string>());
        var signature = view["inputSignature"]!;
        Assert.Equal("v1", signature["version"]!.GetValue<string>());
        var fields = signature["fields"]!.AsArray().ToDictionary(f => f!["name"]!.GetValue<string>(), f => f!.AsObject());
        Assert.Equal(["distance", "member", "city"], fields.Keys);
        Assert.Equal("number", fields["distance"]["type"]!.GetValue<string>());
        Assert.Equal("imputed: the training mean", fields["distance"]["whenMissing"]!.GetValue<string>());
        Assert.Equal("boolean", fields["member"]["type"]!.GetValue<string>());
        Assert.Equal("imputed: false (as training read a missing boolean)", fields["member"]["whenMissing"]!.GetValue<string>());
        Assert.Equal("string", fields["city"]["type"]!.GetValue<string>());
        Assert.Equal("categorical", fields["city"]["kind"]!.GetValue<string>());
        var ignored = signature["ignored"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
        Assert.Contains("spend", ignored);
        Assert.Contains("email", ignored);
        Assert.Equal($"/api/models/{Model}/predict", view["links"]!["predict"]!.GetValue<string>());
    }

    [Fact]
    public async Task ModelView_ExampleRequest_IsAnsweredAsItIs()
    {
        var view = await GetAsync($"/api/models/{Model}");
        var example = view["exampleRequest"]!.AsObject();

        var prediction = await PredictClient.SingleAsync(Host, Model, example.ToJsonString());

        Assert.Equal(["distance", "member", "city"], example.Select(p => p.Key));
        Assert.Contains(example["city"]!.GetValue<string>(), ShopData.Cities);
        Assert.InRange(example["distance"]!.GetValue<double>(), 0.5, 20);
        Assert.Empty(PredictClient.Imputed(prediction));
        Assert.True(double.IsFinite(PredictClient.Score(prediction)));
    }

    [Fact]
    public async Task GetVersion_BareNumber_AnswersThatVersion()
    {
        var version = await GetAsync($"/api/models/{Model}/versions/1");

        Assert.Equal("v1", version["manifest"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetVersion_NotAVersion_Answers400NamingTheForm()
    {
        var problem = await ProblemAsync(await Host.Client.GetAsync($"/api/models/{Model}/versions/latest"), HttpStatusCode.BadRequest);

        Assert.Contains("v1, v2", problem["detail"]!.GetValue<string>());
        Assert.NotNull(problem["errors"]!["version"]);
    }

    [Fact]
    public async Task Predict_VersionQueryBareNumber_IsAnsweredByThatVersion()
    {
        var answer = await PredictClient.PredictAsync(Host, Model, ShopData.Row, "?version=1");

        Assert.Equal("v1", answer["modelVersion"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"2\"", "text")]
    [InlineData("2", "number")]
    public async Task Promote_BareNumber_MovesProductionToThatVersion(string version, string kind)
    {
        var model = $"shape-promote-{kind}-" + Host.Suffix;
        await shop.RegisterCopyAsync(model);
        await shop.RegisterCopyAsync(model);

        var response = await Host.Client.PostAsync($"/api/models/{model}/promote", Json($$"""{"version":{{version}},"reason":"bare number"}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("v2", answer["aliases"]!["production"]!.GetValue<string>());
        // A number that names no version, or no number at all, is a 400 naming the field and the form.
        foreach (var wrong in new[] { "2.5", "-1", "true", "[2]" })
        {
            var problem = await ApiAssert.ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/promote", Json($$"""{"version":{{wrong}}}""")), HttpStatusCode.BadRequest);
            Assert.Contains("a whole number such as 2", problem["errors"]!["version"]![0]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task GetVersion_Manifest_NamesTrainerAndParametersNotCandidate()
    {
        var manifest = (await GetAsync($"/api/models/{Model}/versions/v1"))["manifest"]!.AsObject();

        Assert.Equal("FastTree", manifest["trainer"]!.GetValue<string>());
        Assert.Equal(8, manifest["parameters"]!["numberOfLeaves"]!.GetValue<int>());
        Assert.False(manifest.ContainsKey("candidate"));
    }

    [Fact]
    public async Task ModelViewAndRunOutput_Candidates_NameTrainerAndParameters()
    {
        var version = (await GetAsync($"/api/models/{Model}"))["versions"]!.AsArray().Single()!;

        Assert.Equal("FastTree", version["trainer"]!.GetValue<string>());
        Assert.Equal(40, version["parameters"]!["numberOfIterations"]!.GetValue<int>());
        var run = await GetAsync(version["run"]!.GetValue<string>());
        var candidate = run["output"]!["candidates"]!.AsArray().Single()!.AsObject();
        Assert.Equal("FastTree", candidate["trainer"]!.GetValue<string>());
        Assert.Equal(8, candidate["parameters"]!["numberOfLeaves"]!.GetValue<int>());
        Assert.False(candidate.ContainsKey("candidate"));
    }

    [Fact]
    public async Task ListRuns_Runs_NameTheirMetricsValidationMetrics()
    {
        var runs = (await GetAsync($"/api/models/{Model}/runs"))["runs"]!.AsArray();

        var run = Assert.Single(runs)!.AsObject();
        Assert.Equal("FastTree", run["trainer"]!.GetValue<string>());
        Assert.True(run["validationMetrics"]!["rmse"]!.GetValue<double>() > 0);
        Assert.False(run.ContainsKey("metrics"));
    }

    [Theory]
    [InlineData("/api/models")]
    [InlineData("/api/models/" + Model)]
    [InlineData("/api/models/" + Model + "/versions/v1")]
    [InlineData("/api/models/" + Model + "/runs")]
    [InlineData("/api/audit?model=" + Model)]
    public async Task Answers_OfATrainedModel_HaveNoNullFieldsAndNoNumberOfMoreThanSixSignificantDigits(string path)
    {
        var text = await Host.Client.GetStringAsync(path);

        Assert.DoesNotMatch(NullField(), text);
        var numbers = Numbers(JsonNode.Parse(text)).ToList();
        Assert.NotEmpty(numbers);
        Assert.All(numbers, n => Assert.True(SignificantDigits(n) <= ApiJson.SignificantDigits, $"{path}: {n}"));
    }

    [Fact]
    public async Task Audit_SpecWithPlusBackquoteApostrophe_IsAnObjectWrittenWithoutEscapes()
    {
        var model = "shape-audit-" + Host.Suffix;
        var label = "price+tax `gross` it's";
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.PutAsync($"/api/models/{model}/spec", Json($$"""{"label":"{{label}}"}"""))).StatusCode);

        var text = await Host.Client.GetStringAsync($"/api/audit?model={model}");

        Assert.Contains(label, text);
        Assert.DoesNotContain("\\u", text);
        var record = JsonNode.Parse(text)!["records"]!.AsArray().Single()!;
        Assert.Equal(label, record["details"]!["spec"]!["label"]!.GetValue<string>());
    }

    [Fact]
    public async Task Audit_RowsWrittenBeforeDetailsWereObjects_AreReadAsJson()
    {
        var model = "shape-legacy-" + Host.Suffix;
        var table = Host.Storage.Table("audit");
        await table.CreateIfNotExistsAsync();
        await table.AddEntityAsync(LegacyRow(model, 1, "{\n  \"from\": null,\n  \"to\": \"v2\"\n}"));
        await table.AddEntityAsync(LegacyRow(model, 2, "promoted by hand"));

        var records = (await GetAsync($"/api/audit?model={model}"))["records"]!.AsArray();

        Assert.Equal(2, records.Count);
        Assert.Contains(records, r => r!["details"] is JsonObject details && details["to"]!.GetValue<string>() == "v2" && !details.ContainsKey("from"));
        Assert.Contains(records, r => r!["details"] is JsonValue text && text.GetValue<string>() == "promoted by hand");
    }

    [Fact]
    public async Task Problem_UnknownModel_IsWrittenWithoutEscapesOrNulls()
    {
        var response = await Host.Client.GetAsync("/api/models/nobody-here");

        await ProblemAsync(response, HttpStatusCode.NotFound);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("There is no model 'nobody-here'", text);
        Assert.DoesNotContain("\\u", text);
        Assert.DoesNotMatch(NullField(), text);
    }

    private async Task<JsonObject> GetAsync(string path)
    {
        var response = await Host.Client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    private static TableEntity LegacyRow(string model, int n, string details) =>
        new("audit", $"{DateTimeOffset.MaxValue.Ticks - DateTimeOffset.UtcNow.Ticks:D19}-legacy{n}")
        {
            ["At"] = DateTimeOffset.UtcNow,
            ["Action"] = "promote",
            ["Model"] = model,
            ["Actor"] = "api",
            ["Details"] = details,
        };

    [GeneratedRegex(@":\s*null\b")]
    private static partial Regex NullField();

    /// <summary>Every number in the document, as its JSON text.</summary>
    private static IEnumerable<string> Numbers(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Numbers(p.Value)),
        JsonArray a => a.SelectMany(Numbers),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => [v.ToJsonString()],
        _ => [],
    };

    /// <summary>The significant digits of a number's fraction-bearing form; integers count as none.</summary>
    private static int SignificantDigits(string number)
    {
        var mantissa = number.TrimStart('-').Split('e', 'E')[0];
        if (!mantissa.Contains('.') && !number.Contains('e', StringComparison.OrdinalIgnoreCase)) return 0;
        return mantissa.Replace(".", "").TrimStart('0').Length;
    }
}
