using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Serverless.Tests.Infrastructure;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Api;

/// <summary>
/// The local host signs in the caller of an admin route by its key: the key's name is the audit's actor, a wrong key is
/// refused, and a configured role limits who may call.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CallerIdentityTests(AzuriteFixture azurite)
{
    private static readonly Dictionary<string, string> NamedKeys = new()
    {
        ["Pipeline:Api:AdminKeys:alice"] = "alice-key",
        ["Pipeline:Api:AdminKeys:bob"] = "bob-key",
        ["Pipeline:Api:KeyRoles:alice"] = "reader, approver",
        ["Pipeline:Api:KeyRoles:bob"] = "reader",
    };

    [Fact]
    public async Task PutSpec_WithANamedKey_AuditsTheKeysName()
    {
        await using var host = await TestHost.StartAsync(azurite, NamedKeys);

        var answer = await PutSpecAsync(host, "named", "bob-key");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("bob", await LastActorAsync(host, "named"));
    }

    [Fact]
    public async Task PutSpec_WithTheSingleAdminKey_AuditsAdmin()
    {
        await using var host = await TestHost.StartAsync(azurite, new(NamedKeys) { ["Pipeline:Api:AdminKey"] = "old-key" });

        var answer = await PutSpecAsync(host, "single", "old-key");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("admin", await LastActorAsync(host, "single"));
    }

    [Fact]
    public async Task PutSpec_WithNoKeyConfigured_AuditsAnonymous()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var answer = await PutSpecAsync(host, "open", key: null);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("anonymous", await LastActorAsync(host, "open"));
    }

    [Fact]
    public async Task PutSpec_WithAWrongKey_Answers403ProblemDetails()
    {
        await using var host = await TestHost.StartAsync(azurite, NamedKeys);

        var problem = await ProblemAsync(await PutSpecAsync(host, "wrong", "carol-key"), HttpStatusCode.Forbidden);

        Assert.Contains("key is wrong", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_WithTheKeyParameterGivenTwice_Answers400AndTriesNeither()
    {
        await using var host = await TestHost.StartAsync(azurite, NamedKeys);

        var problem = await ProblemAsync(await host.Client.PutAsync("/api/models/twokeys/spec?code=alice-key&code=bob-key", Json("""{"label":"y"}""")), HttpStatusCode.BadRequest);

        Assert.Contains("'code' is given 2 times; give it once", problem["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await host.Client.GetAsync("/api/models/twokeys/spec")).StatusCode);
    }

    [Fact]
    public async Task PutSpec_WithoutAKey_Answers401ProblemDetails()
    {
        await using var host = await TestHost.StartAsync(azurite, NamedKeys);

        var problem = await ProblemAsync(await PutSpecAsync(host, "nokey", key: null), HttpStatusCode.Unauthorized);

        Assert.Contains("x-functions-key", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_KeyOutsideTheAdminRole_Answers403NamingCallerAndRole()
    {
        await using var host = await TestHost.StartAsync(azurite, new(NamedKeys) { ["Pipeline:Api:AdminRole"] = "approver" });

        var problem = await ProblemAsync(await PutSpecAsync(host, "roles", "bob-key"), HttpStatusCode.Forbidden);

        Assert.Contains("'bob' is not in the role 'approver'", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutSpec_KeyInTheAdminRole_IsAllowed()
    {
        await using var host = await TestHost.StartAsync(azurite, new(NamedKeys) { ["Pipeline:Api:AdminRole"] = "approver" });

        var answer = await PutSpecAsync(host, "roles", "alice-key");

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("alice", await LastActorAsync(host, "roles"));
    }

    [Fact]
    public async Task PutSpec_AdminRoleWithNoKeyConfigured_Answers401()
    {
        await using var host = await TestHost.StartAsync(azurite, new() { ["Pipeline:Api:AdminRole"] = "approver" });

        var problem = await ProblemAsync(await PutSpecAsync(host, "nobody", key: null), HttpStatusCode.Unauthorized);

        Assert.Contains("approver", problem["detail"]!.GetValue<string>());
    }

    private static Task<HttpResponseMessage> PutSpecAsync(TestHost host, string model, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/models/{model}/spec") { Content = Json("""{"label":"y"}""") };
        if (key is not null) request.Headers.Add("x-functions-key", key);
        return host.Client.SendAsync(request);
    }

    private static async Task<string> LastActorAsync(TestHost host, string model)
    {
        var audit = await host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}&max=1");
        return audit!["records"]!.AsArray().Single()!["actor"]!.GetValue<string>();
    }
}
