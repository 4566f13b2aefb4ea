using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;

namespace Serverless.Tests.Monitoring;

/// <summary>Predicting with a request id of the test's own, writing the host's prediction log now, and reading it back.</summary>
public static class MonitoringClient
{
    public static string NewRequestId() => "t-" + Guid.NewGuid().ToString("N");

    /// <summary>Posts rows (one JSON object or <c>{"rows": [...]}</c>) with the given request id; asserts a 200 and returns the answer.</summary>
    public static async Task<JsonObject> PredictWithIdAsync(TestHost host, string model, string body, string requestId, string query = "")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{model}/predict{query}") { Content = ApiAssert.Json(body) };
        request.Headers.Add("x-request-id", requestId);
        using var response = await host.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Writes what the host's prediction log holds, then reads the model's entries of the last hour.</summary>
    public static async Task<List<PredictionLogEntry>> LoggedAsync(TestHost host, string model)
    {
        await host.Services.GetRequiredService<PredictionLogWriter>().FlushAsync(CancellationToken.None);
        var reader = host.Services.GetRequiredService<PredictionLogReader>();
        var now = DateTimeOffset.UtcNow;
        var entries = new List<PredictionLogEntry>();
        await foreach (var entry in reader.ReadAsync(model, now.AddHours(-1), now.AddMinutes(1))) entries.Add(entry);
        return entries;
    }

    public static Task<HttpResponseMessage> FeedbackAsync(TestHost host, string model, string body) =>
        host.Client.PostAsync($"/api/models/{model}/feedback", ApiAssert.Json(body));

    public static async Task<JsonObject> ModelAsync(TestHost host, string model) =>
        (await host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}"))!;

    /// <summary>A model of the test's own: a copy of a shop model's v1, in production, trained on nothing new.</summary>
    public static async Task<string> CopyIntoProductionAsync(ShopModels shop, string prefix, string source)
    {
        var model = $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
        var manifest = await shop.RegisterCopyAsync(model, source);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, manifest.Version, "test", "copy", CancellationToken.None);
        return model;
    }
}
