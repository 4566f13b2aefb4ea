using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.EndToEnd;

/// <summary>
/// A category with a line break inside its quoted cell, in a file with CR LF line ends: ML.NET's loader joins the lines
/// of a quoted field with LF, so the cell is "multi\nline" in training, and must be the same category in the profile and
/// at predict, whether the caller sends the value as the file writes it or with LF.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class QuotedLineBreakTests(AzuriteFixture azurite)
{
    private static readonly string[] Notes = ["plain", "\"multi\r\nline\"", "\"has \"\"q\"\", x\"", "\"  padded  \""];

    /// <summary>400 rows, CR LF line ends; the target is income plus 0, 20, 40 or 60 by note.</summary>
    private static string Csv()
    {
        var random = new Random(7);
        var csv = new StringBuilder("note,income,target\r\n");
        for (var i = 0; i < 400; i++)
        {
            var note = i % Notes.Length;
            var income = random.Next(20, 100);
            csv.Append(CultureInfo.InvariantCulture, $"{Notes[note]},{income},{income + 20 * note}\r\n");
        }
        return csv.ToString();
    }

    [Fact]
    public async Task Predict_CategoryWithACrLfInsideItsCell_IsTheCategoryTrainedOn()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("crlf-cells", "model.json", """{"label":"target","task":"regression","trainers":[{"name":"Sdca"}]}""");
        await host.UploadAsync("crlf-cells", "rows.csv", Csv());
        var model = await host.WaitForModelAsync("crlf-cells", m => m["aliases"]?["production"] is not null, TimeSpan.FromMinutes(3));

        var predictions = await PredictAsync(host, """{"rows":[{"note":"multi\r\nline","income":50},{"note":"multi\nline","income":50}]}""");

        Assert.All(predictions, p => Assert.Null(p!["unseenCategories"]));
        Assert.Equal(predictions[1]!["score"]!.GetValue<double>(), predictions[0]!["score"]!.GetValue<double>(), tolerance: 1e-6);
        Assert.Equal(70.0, predictions[1]!["score"]!.GetValue<double>(), tolerance: 1.0);
        var datasetVersion = model["versions"]!.AsArray().Single()!["datasetVersion"]!.GetValue<string>();
        var profile = await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/crlf-cells/datasets/{datasetVersion}/profile");
        var categories = profile!["columns"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "note")!["topValues"]!.AsArray()
            .Select(v => v!["value"]!.GetValue<string>());
        Assert.Contains("multi\nline", categories);
    }

    private static async Task<JsonArray> PredictAsync(TestHost host, string body)
    {
        var answer = await host.Client.PostAsync("/api/models/crlf-cells/predict", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(answer.StatusCode == HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        return (await answer.Content.ReadFromJsonAsync<JsonObject>())!["predictions"]!.AsArray();
    }
}
