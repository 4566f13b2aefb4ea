using Serverless.Core.Datasets;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Dashboard;

/// <summary>The routes behind the dashboard: the page itself, the quarantine listing and the drift histograms, over real HTTP.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DashboardRoutesTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Root_ServesTheWholePageWithAPolicyThatAllowsOnlyItsOwnScript()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var response = await host.Client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("<title>MLOps dashboard</title>", html);
        Assert.DoesNotContain("src=\"dashboard.js\"", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal));
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Matches("script-src 'sha256-[A-Za-z0-9+/=]+'", policy);
        Assert.Contains("connect-src 'self'", policy);
    }

    [Fact]
    public async Task DashboardRoute_ServesTheSamePageAsTheRoot_And304WhenUnchanged()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var root = await host.Client.GetAsync("/");

        var page = await host.Client.GetAsync("/api/dashboard");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/api/dashboard");
        again.Headers.IfNoneMatch.Add(page.Headers.ETag!);
        var unchanged = await host.Client.SendAsync(again);

        Assert.Equal(await root.Content.ReadAsByteArrayAsync(), await page.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
    }

    [Fact]
    public async Task Quarantine_AfterARejectedUpload_ListsTheFileWithItsReason()
    {
        await using var host = await TestHost.StartAsync(azurite);
        await host.UploadAsync("rejects", "only-header.csv", "a,b\n");
        await host.WaitForBlobsAsync(host.Storage.Quarantine, "rejects/", TimeSpan.FromSeconds(60), "report.json");

        var answer = await host.Client.GetFromJsonAsync<JsonObject>("/api/models/rejects/quarantine");

        var file = answer!["files"]!.AsArray().Single()!;
        Assert.Equal("rejects/only-header.csv", file["blob"]!.GetValue<string>());
        Assert.Equal(ReasonCodes.HeaderOnly, file["reasonCodes"]![0]!.GetValue<string>());
        Assert.Contains("no data rows", file["reason"]!.GetValue<string>());
        // Named as the datasets route names it: container, then path.
        Assert.Equal($"{host.Storage.Quarantine.Name}/{file["location"]!.GetValue<string>()}original", file["original"]!.GetValue<string>());
    }

    [Fact]
    public async Task Quarantine_UnknownModel_Answers404()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ApiAssert.ProblemAsync(await host.Client.GetAsync("/api/models/nosuchmodel/quarantine"), HttpStatusCode.NotFound);

        Assert.Contains("nosuchmodel", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("0")]
    [InlineData("many")]
    [InlineData("501")]
    public async Task Quarantine_MaxOutOfRange_Answers400NamingIt(string max)
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ApiAssert.ProblemAsync(await host.Client.GetAsync($"/api/models/rejects/quarantine?max={max}"), HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]!["max"]);
    }

    [Fact]
    public async Task Quarantine_InvalidModelName_Answers400()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ApiAssert.ProblemAsync(await host.Client.GetAsync("/api/models/Bad..Name/quarantine"), HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]!["model"]);
    }

    [Fact]
    public async Task DriftHistogram_WithoutAFeature_Answers400()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ApiAssert.ProblemAsync(await host.Client.GetAsync("/api/models/cabs/drift/histogram"), HttpStatusCode.BadRequest);

        Assert.NotNull(problem["errors"]!["feature"]);
    }

    [Fact]
    public async Task DriftHistogram_UnknownModel_Answers404()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ApiAssert.ProblemAsync(await host.Client.GetAsync("/api/models/nosuchmodel/drift/histogram?feature=x"), HttpStatusCode.NotFound);

        Assert.Contains("nosuchmodel", problem["detail"]!.GetValue<string>());
    }
}
