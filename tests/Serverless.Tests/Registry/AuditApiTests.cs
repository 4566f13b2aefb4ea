using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Core.Tracking;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Registry;

/// <summary><c>GET /api/audit</c> filters by model, action and time range, and pages; bad parameters are named in a 400.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AuditApiTests(AzuriteFixture azurite)
{
    private static string NewModel(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];

    private static async Task<JsonObject> GetAsync(TestHost host, string path) => (await host.Client.GetFromJsonAsync<JsonObject>(path))!;

    private static string[] Actions(JsonObject page) => [.. page["records"]!.AsArray().Select(r => r!["action"]!.GetValue<string>())];

    [Fact]
    public async Task Audit_FilteredByModelAndAction_ListsOnlyThoseNewestFirst()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var audit = new AuditLog(host.Storage);
        var (a, b) = (NewModel("one"), NewModel("two"));
        await audit.RecordAsync(AuditActions.Promote, a, "ann", "first", null, CancellationToken.None);
        await audit.RecordAsync(AuditActions.Rollback, a, "bob", "bad", null, CancellationToken.None);
        await audit.RecordAsync(AuditActions.Promote, b, "ann", "other", null, CancellationToken.None);
        await audit.RecordAsync(AuditActions.Promote, a, "cid", "second", null, CancellationToken.None);

        var promotes = await GetAsync(host, $"/api/audit?model={a}&action=promote");

        var records = promotes["records"]!.AsArray();
        Assert.Equal(["second", "first"], records.Select(r => r!["reason"]!.GetValue<string>()).ToArray());
        Assert.All(records, r => Assert.Equal(a, r!["model"]!.GetValue<string>()));
        Assert.Null(promotes["next"]);
    }

    [Fact]
    public async Task Audit_TimeRange_ListsTheRecordsWithinIt()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var audit = new AuditLog(host.Storage);
        var model = NewModel("range");
        await audit.RecordAsync(AuditActions.Archive, model, "t", "before", null, CancellationToken.None);
        await Task.Delay(1100);
        var from = DateTimeOffset.UtcNow;
        await audit.RecordAsync(AuditActions.Archive, model, "t", "inside", null, CancellationToken.None);
        var to = DateTimeOffset.UtcNow;
        await Task.Delay(1100);
        await audit.RecordAsync(AuditActions.Archive, model, "t", "after", null, CancellationToken.None);

        var page = await GetAsync(host, $"/api/audit?model={model}&from={Uri.EscapeDataString(from.ToString("o"))}&to={Uri.EscapeDataString(to.ToString("o"))}");
        var since = await GetAsync(host, $"/api/audit?model={model}&from={Uri.EscapeDataString(from.ToString("o"))}");

        Assert.Equal(["inside"], page["records"]!.AsArray().Select(r => r!["reason"]!.GetValue<string>()).ToArray());
        Assert.Equal(["after", "inside"], since["records"]!.AsArray().Select(r => r!["reason"]!.GetValue<string>()).ToArray());
    }

    [Fact]
    public async Task Audit_MoreRecordsThanAPage_PagesThroughAllOfThemOnce()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var audit = new AuditLog(host.Storage);
        var model = NewModel("pages");
        for (var i = 0; i < 7; i++) await audit.RecordAsync(AuditActions.Register, model, "t", $"r{i}", null, CancellationToken.None);

        var seen = new List<string>();
        var path = $"/api/audit?model={model}&max=3";
        var pages = 0;
        while (path is not null && pages++ < 10)
        {
            var page = await GetAsync(host, path);
            Assert.True(page["records"]!.AsArray().Count <= 3);
            seen.AddRange(page["records"]!.AsArray().Select(r => r!["reason"]!.GetValue<string>()));
            path = page["next"]?.GetValue<string>()!;
        }

        Assert.Equal(Enumerable.Range(0, 7).Reverse().Select(i => $"r{i}").ToArray(), seen.ToArray());
        Assert.Equal(3, pages);

        // A page belongs to its filters: taken to another model's listing, it would start in the middle of that one.
        var first = await GetAsync(host, $"/api/audit?model={model}&max=3");
        var token = first["next"]!.GetValue<string>().Split("page=")[1];
        var problem = await ProblemAsync(await host.Client.GetAsync($"/api/audit?model={NewModel("other")}&max=3&page={token}"), HttpStatusCode.BadRequest);
        Assert.Contains("for these filters", problem["errors"]!["page"]![0]!.GetValue<string>());
        // A well-formed page of the old kind (the mark and a table position, no filters) is not one this API gives.
        var forged = Convert.ToBase64String("audit-page:garbage"u8.ToArray()).TrimEnd('=');
        await ProblemAsync(await host.Client.GetAsync($"/api/audit?model={model}&page={forged}"), HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("action=promoted", "action")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    [InlineData("max=0", "max")]
    [InlineData("max=abc", "max")]
    [InlineData("model=Bad_Name", "model")]
    [InlineData("page=garbage", "page")]
    [InlineData("page=", "page")]
    [InlineData("modle=taxi", "modle")]
    public async Task Audit_BadParameter_Answers400NamingIt(string query, string field)
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.GetAsync($"/api/audit?{query}"), HttpStatusCode.BadRequest);

        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task Audit_UnknownAction_ListsTheValidOnes()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.GetAsync("/api/audit?action=promoted&from=soon"), HttpStatusCode.BadRequest);

        var errors = problem["errors"]!.AsObject();
        Assert.Contains("did you mean 'promote'", errors["action"]![0]!.GetValue<string>());
        Assert.Contains(AuditActions.ForcedPromote, errors["action"]![0]!.GetValue<string>());
        Assert.True(errors.ContainsKey("from"));
    }

    [Fact]
    public async Task Audit_TimeWithAnUnescapedPlus_SaysToWriteItPercent2B()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var problem = await ProblemAsync(await host.Client.GetAsync("/api/audit?from=2026-11-28T15:50:00+01:00"), HttpStatusCode.BadRequest);
        var escaped = await host.Client.GetAsync("/api/audit?from=2026-11-28T15:50:00%2B01:00");

        Assert.Contains("write it %2B", problem["errors"]!["from"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, escaped.StatusCode);
    }
}
