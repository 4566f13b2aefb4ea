using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Serving;

/// <summary>Posting to the predict route of a test host, and reading the answer.</summary>
public static class PredictClient
{
    public static Task<HttpResponseMessage> PostAsync(TestHost host, string model, string body, string query = "") =>
        host.Client.PostAsync($"/api/models/{model}/predict{query}", ApiAssert.Json(body));

    /// <summary>Posts and asserts a 200; returns the answer.</summary>
    public static async Task<JsonObject> PredictAsync(TestHost host, string model, string body, string query = "")
    {
        var response = await PostAsync(host, model, body, query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> SingleAsync(TestHost host, string model, string body, string query = "") =>
        (await PredictAsync(host, model, body, query))["predictions"]!.AsArray().Single()!.AsObject();

    public static double Score(JsonObject prediction) => prediction["score"]!.GetValue<double>();

    public static string[] Imputed(JsonObject prediction) => prediction["imputed"]?.AsArray().Select(i => i!.GetValue<string>()).ToArray() ?? [];

    /// <summary>The errors of a 400 problem, as field → first message.</summary>
    public static async Task<Dictionary<string, string>> BadRequestErrorsAsync(HttpResponseMessage response)
    {
        var problem = await ApiAssert.ProblemAsync(response, System.Net.HttpStatusCode.BadRequest);
        return problem["errors"]!.AsObject().ToDictionary(e => e.Key, e => e.Value!.AsArray()[0]!.GetValue<string>());
    }
}
