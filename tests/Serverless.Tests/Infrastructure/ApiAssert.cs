using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Serverless.Tests.Infrastructure;

/// <summary>What tests of the HTTP API share: JSON bodies, and the problem-details shape of every error.</summary>
public static class ApiAssert
{
    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>Asserts the status and that the body is problem details; returns the body.</summary>
    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    /// <summary>A run has ended: completed, failed or terminated.</summary>
    public static bool Ended(JsonObject run) => run["runtimeStatus"]!.GetValue<string>() is "Completed" or "Failed" or "Terminated";
}
