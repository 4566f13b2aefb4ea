using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>
/// Classes written as decimals ("0.0"/"1.0", as a data frame writes a float column): a class is named by its number's
/// shortest text, as ingestion counts it, and the canonical data file spells each label so, so training finds every
/// class, the answers name "1", and feedback may give 1.0 or "1.0".
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class NumericClassLabelTests(AzuriteFixture azurite)
{
    private const string Trainer = """[{"name":"FastTree","grid":{"numberOfLeaves":[8],"numberOfIterations":[40]}}]""";

    private static string Csv(int classes)
    {
        var random = new Random(3);
        var csv = new StringBuilder("x,y,label\n");
        for (var i = 0; i < 400; i++)
        {
            var x = random.NextDouble() * classes;
            csv.Append(CultureInfo.InvariantCulture, $"{x:F3},{random.NextDouble():F3},{Math.Floor(x):F1}\n");
        }
        return csv.ToString();
    }

    /// <summary>Uploads the spec and <see cref="Csv"/> rows of <paramref name="classes"/> classes and waits for the served model.</summary>
    private static async Task<JsonNode> TrainAsync(TestHost host, string model, string task, int classes)
    {
        await host.UploadAsync(model, "model.json", $$"""{"label":"label","task":"{{task}}","trainers":{{Trainer}}}""");
        await host.UploadAsync(model, "rows.csv", Csv(classes));
        return await host.WaitForModelAsync(model, m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(3));
    }

    [Fact]
    public async Task BinaryLabelOfDecimals_TrainsAndServesTheClasses_AndTakesFeedbackInEitherSpelling()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var model = await TrainAsync(host, "decimal-binary", "binary", 2);

        var auc = model["versions"]!.AsArray().Single()!["testMetrics"]!["auc"]!.GetValue<double>();
        Assert.True(auc > 0.95, $"auc {auc}");
        var answer = await host.Client.PostAsync("/api/models/decimal-binary/predict",
            new StringContent("""{"rows":[{"x":1.8,"y":0.5},{"x":0.2,"y":0.5}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var id = answer.Headers.GetValues("x-request-id").Single();
        var labels = (await answer.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray().Select(p => p!["label"]!.GetValue<string>());
        Assert.Equal(["1", "0"], labels);

        var feedback = await host.Client.PostAsync("/api/models/decimal-binary/feedback", new StringContent(
            $$"""{"items":[{"requestId":"{{id}}","row":0,"label":1.0},{"requestId":"{{id}}","row":1,"label":"0.0"}]}""", Encoding.UTF8, "application/json"));
        Assert.True(feedback.StatusCode == HttpStatusCode.OK, await feedback.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MulticlassLabelOfDecimals_TrainsEveryClass()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var model = await TrainAsync(host, "decimal-classes", "multiclass", 3);

        var accuracy = model["versions"]!.AsArray().Single()!["testMetrics"]!["macroAccuracy"]!.GetValue<double>();
        Assert.True(accuracy > 0.9, $"macroAccuracy {accuracy}");
        var answer = await host.Client.PostAsync("/api/models/decimal-classes/predict",
            new StringContent("""{"rows":[{"x":2.5,"y":0.5}]}""", Encoding.UTF8, "application/json"));
        var prediction = (await answer.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray().Single()!;
        Assert.Equal("2", prediction["label"]!.GetValue<string>());
        Assert.Equal(["0", "1", "2"], prediction["probabilities"]!.AsObject().Select(p => p.Key).Order());
    }
}
