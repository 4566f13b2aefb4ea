using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Api;

/// <summary>The local host's answers when the storage account cannot be reached: a 503 that says so and when to retry.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class StorageUnreachableTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Audit_StorageUnreachable_Answers503SayingStorageCannotBeReachedWithRetryAfter()
    {
        var unreachable = azurite.CreateUnreachableStorage();
        await using var host = await TestHost.StartAsync(azurite, configure: b => b.Services.AddSingleton(new AuditLog(unreachable)));

        var response = await host.Client.GetAsync("/api/audit");

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal((HttpStatusCode.ServiceUnavailable, "application/problem+json"), (response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        Assert.Equal((503, UnhandledFault.StorageUnreachableTitle), ((int?)body["status"], (string?)body["title"]));
        Assert.Contains("storage account cannot be reached", (string?)body["detail"]);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {response.Headers.RetryAfter}");
    }

    [Fact]
    public async Task Health_StorageUnreachable_Answers503WithinItsStorageBudget()
    {
        var unreachable = azurite.CreateUnreachableStorage();
        await using var host = await TestHost.StartAsync(azurite,
            configure: b => b.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ModelRegistry>(sp, unreachable)));
        var clock = Stopwatch.StartNew();

        var response = await host.Client.GetAsync("/api/health");

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal((HttpStatusCode.ServiceUnavailable, UnhandledFault.StorageUnreachableTitle), (response.StatusCode, (string?)body["title"]));
        Assert.True(clock.Elapsed < PipelineApi.HealthStorageBudget + TimeSpan.FromSeconds(3), $"/api/health answered after {clock.Elapsed}");
    }
}
