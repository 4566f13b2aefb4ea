using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Api;
using Serverless.Core.Registry;
using Serverless.Core.Serving;
using Serverless.Core.Tracking;
using Serverless.Core.Training;
using Serverless.Tests.Infrastructure;
using Serverless.Tests.Serving;
using static Serverless.Tests.Infrastructure.ApiAssert;

namespace Serverless.Tests.Registry;

/// <summary>
/// The registry's governance over HTTP: forced promotion, archive, the alias history and rollback by it, concurrent moves,
/// and downloads. Versions are copies of one trained model, so no test here trains.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RegistryGovernanceTests(ShopSpendModel shop) : IClassFixture<ShopSpendModel>
{
    private TestHost Host => shop.Host;

    private async Task<string> ModelWithVersionsAsync(string prefix, int versions)
    {
        var model = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        for (var i = 0; i < versions; i++) await shop.RegisterCopyAsync(model);
        return model;
    }

    private Task<HttpResponseMessage> PromoteAsync(string model, string body) =>
        Host.Client.PostAsync($"/api/models/{model}/promote", Json(body));

    private Task<HttpResponseMessage> RollbackAsync(string model) =>
        Host.Client.PostAsync($"/api/models/{model}/rollback", Json("""{"reason":"test rollback"}"""));

    private async Task<string?> ProductionAsync(string model) =>
        (await shop.Registry.GetAsync(model, CancellationToken.None))!.Aliases.GetValueOrDefault(ModelRegistry.Production);

    private async Task<List<JsonObject>> AuditAsync(string model, string action) =>
        [.. (await Host.Client.GetFromJsonAsync<JsonObject>($"/api/audit?model={model}&action={action}"))!["records"]!.AsArray().Select(r => r!.AsObject())];

    [Fact]
    public async Task Promote_VersionPendingApproval_Answers409WithoutForceAndIsAuditedAsForcedWithIt()
    {
        var model = await ModelWithVersionsAsync("pending", 1);
        await shop.Registry.SetStatusAsync(model, "v1", VersionStatus.PendingApproval, CancellationToken.None);

        var refused = await ProblemAsync(await PromoteAsync(model, """{"version":"v1","reason":"try"}"""), HttpStatusCode.Conflict);
        var forced = await PromoteAsync(model, """{"version":"v1","reason":"incident fix","force":true}""");

        Assert.Contains("waiting for approval", refused["detail"]!.GetValue<string>());
        Assert.Contains("\"force\": true", refused["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.True((await forced.Content.ReadFromJsonAsync<JsonObject>())!["forced"]!.GetValue<bool>());
        var record = Assert.Single(await AuditAsync(model, AuditActions.ForcedPromote));
        Assert.Equal("incident fix", record["reason"]!.GetValue<string>());
        Assert.Contains("waiting for approval", record["details"]!.ToJsonString());
        Assert.True((await shop.Registry.GetAsync(model, CancellationToken.None))!.History.Single(h => h.Alias == ModelRegistry.Production).Forced);
    }

    [Fact]
    public async Task Promote_VersionThatFailedItsGate_NeedsForce()
    {
        var model = $"gate-{Guid.NewGuid():N}"[..14];
        var source = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        await shop.Registry.RegisterAsync(source with { Model = model, RunId = "r", OrchestrationId = "o", GatePassed = false }, source.ModelBlob, m => "", CancellationToken.None);

        var refused = await ProblemAsync(await PromoteAsync(model, """{"version":"v1"}"""), HttpStatusCode.Conflict);
        var forced = await PromoteAsync(model, """{"version":"v1","force":true,"reason":"accepted risk"}""");

        Assert.Contains("failed its quality gate", refused["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Single(await AuditAsync(model, AuditActions.ForcedPromote));
    }

    [Fact]
    public async Task Cli_PromoteAVersionThatFailedItsGate_SaysHowAndDoesItWithForce()
    {
        var model = $"cligate-{Guid.NewGuid():N}"[..17];
        var source = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        await shop.Registry.RegisterAsync(source with { Model = model, RunId = "r", OrchestrationId = "o", GatePassed = false }, source.ModelBlob, m => "", CancellationToken.None);
        var host = Host.Client.BaseAddress!.ToString();

        var (refusedExit, refused) = await Serverless.Tests.Cli.CliRunner.RunAsync("promote", model, "1", "--host", host);
        var (forcedExit, forced) = await Serverless.Tests.Cli.CliRunner.RunAsync("promote", model, "1", "--force", "--reason", "accepted risk", "--host", host);

        Assert.NotEqual(0, refusedExit);
        Assert.Contains($"mlops promote {model} v1 --force", refused.ReplaceLineEndings(" "), StringComparison.Ordinal);
        Assert.Equal(0, forcedExit);
        Assert.Contains("production is v1; forced: ", forced.ReplaceLineEndings(" "));
        Assert.Equal("v1", await ProductionAsync(model));
        var (noReasonExit, noReason) = await Serverless.Tests.Cli.CliRunner.RunAsync("promote", model, "1", "--force", "--host", host);
        Assert.Equal(Serverless.Cli.ExitCodes.Usage, noReasonExit);
        Assert.Contains("--force needs --reason", noReason);
        var (againExit, again) = await Serverless.Tests.Cli.CliRunner.RunAsync("promote", model, "1", "--force", "--reason", "again", "--host", host);
        Assert.Equal(0, againExit);
        Assert.Contains("production is v1 (it already was; nothing moved)", again.ReplaceLineEndings(" "));
        Assert.Equal("accepted risk", Assert.Single(await AuditAsync(model, AuditActions.ForcedPromote))["reason"]!.GetValue<string>());
        // show's alias history tells a forced promotion from a plain one.
        var (shownExit, shown) = await Serverless.Tests.Cli.CliRunner.RunAsync("show", model, "--host", host);
        Assert.Equal(0, shownExit);
        Assert.Matches(@"production\s+│\s+promote \(forced\)\s+│.*accepted risk", shown);
    }

    [Fact]
    public async Task Rollback_Twice_GoesFurtherBackAndNeverToTheVersionRolledBackFrom()
    {
        var model = await ModelWithVersionsAsync("twice", 3);
        foreach (var v in new[] { "v1", "v2", "v3" }) Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, $$"""{"version":"{{v}}"}""")).StatusCode);

        var offered = new List<string?> { await RollbackToAsync(model) };
        Assert.Equal(HttpStatusCode.OK, (await RollbackAsync(model)).StatusCode);
        var afterFirst = await ProductionAsync(model);
        offered.Add(await RollbackToAsync(model));
        Assert.Equal(HttpStatusCode.OK, (await RollbackAsync(model)).StatusCode);
        var afterSecond = await ProductionAsync(model);
        offered.Add(await RollbackToAsync(model));
        var third = await ProblemAsync(await RollbackAsync(model), HttpStatusCode.Conflict);

        Assert.Equal("v2", afterFirst);
        Assert.Equal("v1", afterSecond);
        Assert.Contains("no earlier production version", third["detail"]!.GetValue<string>());
        // The model's view says where a rollback would go, and nothing once there is nowhere to go.
        Assert.Equal(["v2", "v1", null], offered);
    }

    private async Task<string?> RollbackToAsync(string model) =>
        (await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}"))!["rollbackTo"]?.GetValue<string>();

    [Fact]
    public async Task Rollback_ToAVersionThatWasForcedIntoProduction_GoesThereAndNamesWhatItSkipped()
    {
        var model = $"forced-{Guid.NewGuid():N}"[..16];
        var source = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        foreach (var gate in new[] { true, false, false, true })
        {
            await shop.Registry.RegisterAsync(source with { Model = model, RunId = Guid.NewGuid().ToString("N"), OrchestrationId = "o", GatePassed = gate }, source.ModelBlob, m => "", CancellationToken.None);
        }
        // v1 passed its gate; v2 and v3 did not (forced into production); v4 passed, and v3 is archived once v4 serves.
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v1"}""")).StatusCode);
        foreach (var v in new[] { "v2", "v3" }) Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, $$"""{"version":"{{v}}","force":true,"reason":"hotfix"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v4"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.PostAsync($"/api/models/{model}/versions/v3/archive", Json("""{"reason":"bad"}"""))).StatusCode);

        var first = await RollbackAsync(model);
        var answer = (await first.Content.ReadFromJsonAsync<JsonObject>())!;
        var record = Assert.Single(await AuditAsync(model, AuditActions.Rollback));
        var second = await RollbackAsync(model);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(("v4", "v2"), (answer["from"]!.GetValue<string>(), answer["to"]!.GetValue<string>()));
        Assert.Equal("v3 (archived since it was in production)", Assert.Single(answer["skipped"]!.AsArray())!.GetValue<string>());
        Assert.Contains("v3 (archived", record["details"]!.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("v1", await ProductionAsync(model));
    }

    [Fact]
    public async Task Rollback_ToAVersionArchivedThenForcedIntoProduction_GoesThere()
    {
        var model = $"reforced-{Guid.NewGuid():N}"[..18];
        var source = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        for (var i = 0; i < 3; i++) await shop.Registry.RegisterAsync(source with { Model = model, RunId = Guid.NewGuid().ToString("N"), OrchestrationId = "o" }, source.ModelBlob, m => "", CancellationToken.None);
        // v3 is archived first, then forced into production; v2 follows it. A rollback goes back to v3: it was not archived since.
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v1"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.PostAsync($"/api/models/{model}/versions/v3/archive", Json("""{"reason":"old"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v3","force":true,"reason":"needed after all"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v2"}""")).StatusCode);
        Assert.Equal("v3", (await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}"))!["rollbackTo"]!.GetValue<string>());

        var answer = (await (await RollbackAsync(model)).Content.ReadFromJsonAsync<JsonObject>())!;

        Assert.Equal(("v2", "v3"), (answer["from"]!.GetValue<string>(), answer["to"]!.GetValue<string>()));
        Assert.Null(answer["skipped"]);
    }

    [Fact]
    public async Task Promote_TheVersionAlreadyInProduction_IsANoOpEvenWhenItWasForced()
    {
        var model = $"again-{Guid.NewGuid():N}"[..15];
        var source = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        await shop.Registry.RegisterAsync(source with { Model = model, RunId = "r", OrchestrationId = "o", GatePassed = false }, source.ModelBlob, m => "", CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v1","force":true,"reason":"accepted risk"}""")).StatusCode);

        var again = await PromoteAsync(model, """{"version":"v1","reason":"again"}""");

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var answer = (await again.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(("v1", "v1"), (answer["from"]!.GetValue<string>(), answer["to"]!.GetValue<string>()));
        Assert.True(answer["unchanged"]!.GetValue<bool>());
        Assert.Single((await shop.Registry.GetAsync(model, CancellationToken.None))!.History);
    }

    [Theory]
    [InlineData(VersionStatus.Rejected)]
    [InlineData(VersionStatus.Expired)]
    public async Task RejectedOrExpiredVersion_LeavesStaging_AndIsNoLongerServedThroughItNorPinned(string status)
    {
        var model = await ModelWithVersionsAsync("withdrawn", 2);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, "v2", "test", "waiting", CancellationToken.None);
        Assert.Equal("v2", (await PredictClient.PredictAsync(Host, model, ShopData.Row, "?alias=staging"))["modelVersion"]!.GetValue<string>());

        var doc = await shop.Registry.SetStatusAsync(model, "v2", status, CancellationToken.None, "ann");
        await Host.Services.GetRequiredService<PredictionService>().RefreshAsync(model, CancellationToken.None);

        Assert.False(doc.Aliases.ContainsKey(ModelRegistry.Staging));
        Assert.Equal("v1", doc.Aliases[ModelRegistry.Production]);
        var withdrawn = doc.History[^1];
        Assert.Equal((ModelRegistry.Staging, "v2", (string?)null, AliasMoves.Withdraw, "ann"), (withdrawn.Alias, withdrawn.From, withdrawn.To, withdrawn.Action, withdrawn.By));
        await Task.Delay(Host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PredictionOptions>>().Value.RefreshInterval * 2 + TimeSpan.FromMilliseconds(300));
        await ProblemAsync(await PredictClient.PostAsync(Host, model, ShopData.Row, "?alias=staging"), HttpStatusCode.NotFound);
        var pinned = (await ProblemAsync(await PredictClient.PostAsync(Host, model, ShopData.Row, "?version=v2"), HttpStatusCode.Conflict))["detail"]!.GetValue<string>();
        Assert.Contains($"no longer served because {ModelRegistry.NeedsForce(doc.Versions.Single(v => v.Version == "v2"))}", pinned);
        Assert.Contains("\"force\": true", pinned);
    }

    [Fact]
    public async Task Bodies_WithUnknownOrWrongKindsOfFields_Answer400NamingEachInWords()
    {
        var model = await ModelWithVersionsAsync("bodies", 1);

        var promote = await ProblemAsync(await PromoteAsync(model, """{"version":"v1","reason":"x","forse":true}"""), HttpStatusCode.BadRequest);
        var train = await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/train", Json("""{"reson":"again","datasetVersion":3}""")), HttpStatusCode.BadRequest);
        // Who made a move is the caller's identity, never a name the body claims.
        var rollback = await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/rollback", Json("""{"reason":"x","by":"someone else"}""")), HttpStatusCode.BadRequest);

        Assert.NotNull(rollback["errors"]!["by"]);
        // A body that is not an object says what the object holds.
        var array = await ProblemAsync(await PromoteAsync(model, "[]"), HttpStatusCode.BadRequest);
        var text = await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/rollback", Json("\"just a string\"")), HttpStatusCode.BadRequest);
        Assert.Equal("The body must be a JSON object (its fields: version, reason, force), not array.", array["detail"]!.GetValue<string>());
        Assert.Equal("The body must be a JSON object (its fields: reason), not string.", text["detail"]!.GetValue<string>());
        Assert.NotNull(array["errors"]!["body"]);
        Assert.Contains("did you mean 'force'", promote["errors"]!["forse"]![0]!.GetValue<string>());
        Assert.Contains("did you mean 'reason'", train["errors"]!["reson"]![0]!.GetValue<string>());
        Assert.Equal("must be text", train["errors"]!["datasetVersion"]![0]!.GetValue<string>());
        foreach (var problem in new[] { promote, train })
        {
            Assert.DoesNotContain(".NET", problem.ToJsonString());
            Assert.DoesNotContain("Serverless.", problem.ToJsonString());
        }
        Assert.Null(await ProductionAsync(model));
    }

    [Fact]
    public async Task Moves_WithAReasonLongerThanTheAuditKeeps_Answer400NamingItAndChangeNothing()
    {
        var model = await ModelWithVersionsAsync("long", 3);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v1","reason":"first"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v2","reason":"second"}""")).StatusCode);
        var tooLong = JsonSerializer.Serialize(new string('y', Reasons.MaxLength + 1));
        var withinLimit = JsonSerializer.Serialize(new string('y', Reasons.MaxLength));
        var historyBefore = (await shop.Registry.GetAsync(model, CancellationToken.None))!.History.Count;

        var problems = new[]
        {
            await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/rollback", Json($$"""{"reason":{{tooLong}}}""")), HttpStatusCode.BadRequest),
            await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/versions/v3/archive", Json($$"""{"reason":{{tooLong}}}""")), HttpStatusCode.BadRequest),
            await ProblemAsync(await PromoteAsync(model, $$"""{"version":"v3","reason":{{tooLong}}}"""), HttpStatusCode.BadRequest),
            await ProblemAsync(await Host.Client.PutAsync($"/api/models/{model}/spec?reason={new string('y', Reasons.MaxLength + 1)}", Json("""{"label":"spend","task":"regression"}""")), HttpStatusCode.BadRequest),
        };

        foreach (var problem in problems)
        {
            Assert.Contains(Reasons.Rule, problem.ToJsonString());
            Assert.DoesNotContain("..", problem["detail"]!.GetValue<string>());
            Assert.NotNull(problem["errors"]!["reason"]);
        }
        var doc = (await shop.Registry.GetAsync(model, CancellationToken.None))!;
        Assert.Equal(("v2", historyBefore), (doc.Aliases[ModelRegistry.Production], doc.History.Count));
        Assert.Equal(VersionStatus.Registered, doc.Versions.Single(v => v.Version == "v3").Status);
        Assert.Empty(await AuditAsync(model, AuditActions.Rollback));
        // At the limit the move is made and audited with the whole reason.
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.PostAsync($"/api/models/{model}/rollback", Json($$"""{"reason":{{withinLimit}}}"""))).StatusCode);
        Assert.Equal(Reasons.MaxLength, Assert.Single(await AuditAsync(model, AuditActions.Rollback))["reason"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Moves_WithABlankReason_Answer400AndChangeNothing()
    {
        var model = await ModelWithVersionsAsync("blank", 2);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v1"}""")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v2"}""")).StatusCode);

        var problems = new[]
        {
            await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/rollback", Json("""{"reason":"   "}""")), HttpStatusCode.BadRequest),
            await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/versions/v1/archive", Json("""{"reason":""}""")), HttpStatusCode.BadRequest),
            await ProblemAsync(await Host.Client.PutAsync($"/api/models/{model}/spec?reason=%20", Json("""{"label":"spend","task":"regression"}""")), HttpStatusCode.BadRequest),
        };

        foreach (var problem in problems) Assert.Contains("blank", problem["errors"]!["reason"]!.ToJsonString());
        var doc = (await shop.Registry.GetAsync(model, CancellationToken.None))!;
        Assert.Equal("v2", doc.Aliases[ModelRegistry.Production]);
        Assert.NotEqual(VersionStatus.Archived, doc.Versions.Single(v => v.Version == "v1").Status);
        Assert.Empty(await AuditAsync(model, AuditActions.Rollback));
    }

    [Fact]
    public async Task Promote_WithForceAndNoReason_Is400AndMovesNothing()
    {
        var model = await ModelWithVersionsAsync("noreason", 1);
        await shop.Registry.SetStatusAsync(model, "v1", VersionStatus.Rejected, CancellationToken.None);

        var missing = await ProblemAsync(await PromoteAsync(model, """{"version":"v1","force":true}"""), HttpStatusCode.BadRequest);
        var blank = await ProblemAsync(await PromoteAsync(model, """{"version":"v1","force":true,"reason":"  "}"""), HttpStatusCode.BadRequest);

        Assert.Contains("A forced promotion needs a reason", missing["detail"]!.GetValue<string>());
        Assert.Contains("blank", blank["detail"]!.GetValue<string>());
        Assert.All(new[] { missing, blank }, problem => Assert.NotNull(problem["errors"]!["reason"]));
        Assert.Null(await ProductionAsync(model));
        Assert.Empty(await AuditAsync(model, AuditActions.ForcedPromote));
    }

    [Fact]
    public async Task Aliases_AfterMoves_ListEveryMoveWithWhoWhenWhyFromAndTo()
    {
        var model = await ModelWithVersionsAsync("history", 2);
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/models/{model}/promote") { Content = Json("""{"version":"v1","reason":"first release"}""") };
        await Host.Client.SendAsync(request);
        await PromoteAsync(model, """{"version":"v2","reason":"better"}""");
        await RollbackAsync(model);

        var aliases = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}/aliases");

        var production = aliases!["aliases"]!.AsArray().Single(a => a!["alias"]!.GetValue<string>() == "production")!;
        Assert.Equal("v1", production["version"]!.GetValue<string>());
        var moves = production["history"]!.AsArray().Select(h => h!.AsObject()).ToList();
        Assert.Equal(3, moves.Count);
        // No admin key is configured on this host: the caller is recorded as anonymous (named keys: CallerIdentityTests).
        Assert.Equal(("anonymous", "first release", (string?)null, "v1", "promote"), (moves[0]["by"]!.GetValue<string>(), moves[0]["reason"]!.GetValue<string>(), moves[0]["from"]?.GetValue<string>(), moves[0]["to"]!.GetValue<string>(), moves[0]["action"]!.GetValue<string>()));
        Assert.Equal(("v2", "v1", "rollback", "test rollback"), (moves[2]["from"]!.GetValue<string>(), moves[2]["to"]!.GetValue<string>(), moves[2]["action"]!.GetValue<string>(), moves[2]["reason"]!.GetValue<string>()));
        Assert.All(moves, m => Assert.True(m["at"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task Archive_VersionThisHostServesPinnedAndThroughStaging_IsServedByNeitherAtOnce()
    {
        var model = await ModelWithVersionsAsync("held", 2);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v2"}""")).StatusCode);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Staging, "v1", "test", "candidate", CancellationToken.None);
        Assert.Equal("v1", (await PredictClient.PredictAsync(Host, model, ShopData.Row, "?alias=staging"))["modelVersion"]!.GetValue<string>());
        Assert.Equal("v1", (await PredictClient.PredictAsync(Host, model, ShopData.Row, "?version=v1"))["modelVersion"]!.GetValue<string>());

        var archive = await Host.Client.PostAsync($"/api/models/{model}/versions/v1/archive", Json("""{"reason":"leaks a feature"}"""));
        var pinned = await PredictClient.PostAsync(Host, model, ShopData.Row, "?version=v1");
        var staging = await PredictClient.PostAsync(Host, model, ShopData.Row, "?alias=staging");

        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);
        Assert.Contains("archived", (await ProblemAsync(pinned, HttpStatusCode.Conflict))["detail"]!.GetValue<string>());
        Assert.Contains("no alias 'staging'", (await ProblemAsync(staging, HttpStatusCode.NotFound))["detail"]!.GetValue<string>());
        Assert.Equal("v2", (await PredictClient.PredictAsync(Host, model, ShopData.Row))["modelVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Archive_Version_IsNotServedNorRolledBackTo_UntilPromotedWithForce()
    {
        var model = await ModelWithVersionsAsync("archive", 3);
        foreach (var v in new[] { "v1", "v2", "v3" }) await PromoteAsync(model, $$"""{"version":"{{v}}"}""");

        var archive = await Host.Client.PostAsync($"/api/models/{model}/versions/v2/archive", Json("""{"reason":"leaks a feature"}"""));
        var again = await Host.Client.PostAsync($"/api/models/{model}/versions/v2/archive", Json("""{"reason":"twice"}"""));
        var pinned = await PredictClient.PostAsync(Host, model, ShopData.Row, "?version=v2");
        var inProduction = await Host.Client.PostAsync($"/api/models/{model}/versions/v3/archive", null);
        await RollbackAsync(model);
        var afterRollback = await ProductionAsync(model);
        var unforced = await PromoteAsync(model, """{"version":"v2"}""");
        var forced = await PromoteAsync(model, """{"version":"v2","force":true,"reason":"false alarm"}""");
        var served = await PredictClient.PredictAsync(Host, model, ShopData.Row);

        Assert.Equal(HttpStatusCode.OK, archive.StatusCode);
        Assert.Contains("archived", (await ProblemAsync(pinned, HttpStatusCode.Conflict))["detail"]!.GetValue<string>());
        Assert.Contains("in production", (await ProblemAsync(inProduction, HttpStatusCode.Conflict))["detail"]!.GetValue<string>());
        Assert.Equal("v1", afterRollback);
        await ProblemAsync(unforced, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Equal("v2", served["modelVersion"]!.GetValue<string>());
        // Archiving again changed nothing, recorded nothing, and said so.
        var twice = (await again.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(twice["alreadyArchived"]!.GetValue<bool>());
        Assert.Equal("leaks a feature", twice["archived"]!["reason"]!.GetValue<string>());
        var record = Assert.Single(await AuditAsync(model, AuditActions.Archive));
        Assert.Equal("leaks a feature", record["reason"]!.GetValue<string>());

        // Archived without a reason, no reason is made up for the person.
        var unexplained = (await (await Host.Client.PostAsync($"/api/models/{model}/versions/v1/archive", null)).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Null(unexplained["archived"]!["reason"]);
        Assert.Null((await AuditAsync(model, AuditActions.Archive)).First()!["reason"]);
    }

    [Fact]
    public async Task PromoteAndRollback_TwentyConcurrentCalls_LeaveTheRegistryConsistentWithCompleteHistory()
    {
        var model = await ModelWithVersionsAsync("race", 4);
        Assert.Equal(HttpStatusCode.OK, (await PromoteAsync(model, """{"version":"v1","reason":"start"}""")).StatusCode);

        var calls = Enumerable.Range(0, 20).Select(async i =>
        {
            var response = i % 3 == 0 ? await RollbackAsync(model) : await PromoteAsync(model, $$"""{"version":"v{{i % 4 + 1}}","reason":"call {{i}}"}""");
            var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            return (response.StatusCode, From: body["from"]?.GetValue<string>(), To: body["to"]?.GetValue<string>());
        });
        var results = await Task.WhenAll(calls);

        Assert.All(results, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        var moved = results.Count(r => r.StatusCode == HttpStatusCode.OK && r.From != r.To);
        var doc = (await shop.Registry.GetAsync(model, CancellationToken.None))!;
        var history = doc.History.Where(h => h.Alias == ModelRegistry.Production).ToList();
        Assert.Equal(1 + moved, history.Count);
        for (var i = 1; i < history.Count; i++) Assert.Equal(history[i - 1].To, history[i].From);
        Assert.Equal(history[^1].To, doc.Aliases[ModelRegistry.Production]);
        Assert.Equal(doc.Aliases[ModelRegistry.Production], ModelRegistry.ProductionStack(doc)[^1]);
        var audited = (await AuditAsync(model, AuditActions.Promote)).Count + (await AuditAsync(model, AuditActions.Rollback)).Count;
        Assert.Equal(1 + moved, audited);
    }

    [Fact]
    public async Task ModelZip_OfAVersion_IsTheRegisteredBytes()
    {
        var model = await ModelWithVersionsAsync("zip", 1);
        var manifest = (await shop.Registry.GetManifestAsync(model, "v1", CancellationToken.None))!;

        var response = await Host.Client.GetAsync($"/api/models/{model}/versions/v1/model.zip");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(manifest.Sha256, Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync())));
    }

    [Fact]
    public async Task Card_OfATrainedVersion_HasFeatureImportanceAsMarkdownAndHtml()
    {
        var markdown = await Host.Client.GetStringAsync($"/api/models/{ShopData.Spend}/versions/v1/card.md");
        var html = await Host.Client.GetAsync($"/api/models/{ShopData.Spend}/versions/v1/card.html");
        var manifest = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;

        Assert.Contains("## Feature importance", markdown);
        Assert.Contains("each feature column shuffled in the test rows", markdown);
        var pfi = manifest.FeatureImportance!;
        Assert.Null(pfi.NotComputed);
        Assert.Equal(manifest.PrimaryMetric, pfi.Metric);
        Assert.Contains($"| 1 | `{pfi.Features[0].Feature}` |", markdown);
        Assert.Contains($"| rank | feature | change of {pfi.Metric} | ± std. error |\n", markdown);
        Assert.DoesNotContain(pfi.Features, f => f.Feature.StartsWith("f_", StringComparison.Ordinal));
        Assert.Equal("text/html", html.Content.Headers.ContentType?.MediaType);
        var page = await html.Content.ReadAsStringAsync();
        Assert.Contains("<table>", page);
        Assert.Contains("<h2>Feature importance</h2>", page);
    }

    [Fact]
    public async Task Card_SaysWhereTheVersionStandsNow_RejectedOrInProduction()
    {
        var model = await ModelWithVersionsAsync("cardnow", 2);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        await shop.Registry.SetStatusAsync(model, "v2", VersionStatus.Rejected, CancellationToken.None, "ann", "too\nslow");

        var rejected = await Host.Client.GetStringAsync($"/api/models/{model}/versions/v2/card.md");
        var production = await Host.Client.GetStringAsync($"/api/models/{model}/versions/1/card.html");
        var version = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}/versions/v2");

        Assert.Matches(@"^> \*\*Now:\*\* rejected \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, ann: too slow\); it is not served unless promoted with force; no alias points at it\.", rejected);
        Assert.EndsWith((await shop.Registry.GetCardAsync(model, "v2", CancellationToken.None))!, rejected);
        Assert.Contains("it is production", production);
        Assert.Contains($"<title>Model card: {model} v1</title>", production);
        Assert.Equal(rejected, version!["card"]!.GetValue<string>());
        Assert.Equal(("rejected", "ann", "too\nslow"), (version["status"]!.GetValue<string>(), version["statusChanged"]!["by"]!.GetValue<string>(), version["statusChanged"]!["reason"]!.GetValue<string>()));
        var listed = (await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{model}"))!["versions"]!.AsArray().Single(v => v!["version"]!.GetValue<string>() == "v2")!;
        Assert.Equal("ann", listed["statusChanged"]!["by"]!.GetValue<string>());

        // A version that was served once, then withdrawn, is no longer served.
        await shop.Registry.PromoteAsync(model, "v2", "test", "forced", force: true, CancellationToken.None);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "back", CancellationToken.None);
        await shop.Registry.ArchiveAsync(model, "v2", "bob", "superseded", CancellationToken.None);
        Assert.Contains(", bob: superseded); it is no longer served unless promoted with force; no alias points at it.",
            await Host.Client.GetStringAsync($"/api/models/{model}/versions/v2/card.md"));
        await shop.Registry.PromoteAsync(model, "v2", "test", "needed after all", force: true, CancellationToken.None);
        Assert.Contains(", bob: superseded); it was promoted with force and is served; it is production.",
            await Host.Client.GetStringAsync($"/api/models/{model}/versions/v2/card.md"));
    }

    /// <summary>A reason is text a person wrote, and it shows on the card: in the HTML page it stays text, never a link, markup or script.</summary>
    [Fact]
    public async Task CardHtml_AReasonHoldingLinksAndMarkup_ShowsAsText_AndThePageAllowsNoScript()
    {
        var model = await ModelWithVersionsAsync("cardxss", 2);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        const string Reason = "[click](javascript:alert(1)) ![img](javascript:alert(2)) <javascript:alert(3)> <https://example.com> <b onmouseover=alert(4)>x</b>";
        Assert.Equal(HttpStatusCode.OK, (await Host.Client.PostAsync($"/api/models/{model}/versions/v2/archive", ApiAssert.Json($$"""{"reason":{{System.Text.Json.JsonSerializer.Serialize(Reason)}}}"""))).StatusCode);

        var response = await Host.Client.GetAsync($"/api/models/{model}/versions/v2/card.html");
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("<a ", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b ", page, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("javascript:alert(1)", page);
        Assert.Contains("&lt;b onmouseover=alert(4)&gt;", page);
        var policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'none'", policy);
        Assert.DoesNotContain("script-src", policy);
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
    }

    /// <summary>A reason that reads as markdown structure (a heading, a table, an entity) shows as the text it is, on one line.</summary>
    [Fact]
    public async Task Card_AReasonWritingHeadingsTablesAndEntities_ShowsAsWritten()
    {
        var model = await ModelWithVersionsAsync("cardtext", 2);
        await shop.Registry.SetAliasAsync(model, ModelRegistry.Production, "v1", "test", "start", CancellationToken.None);
        const string Reason = "line1\n# Heading\n| a | b |\n|---|---|\n| x | y |\n&amp; &#106;s *bold* 1. one";
        await shop.Registry.ArchiveAsync(model, "v2", "bob", Reason, CancellationToken.None);

        var page = await Host.Client.GetStringAsync($"/api/models/{model}/versions/v2/card.html");

        Assert.DoesNotContain("<h1>Heading</h1>", page);
        Assert.DoesNotContain("<td>x</td>", page);
        Assert.DoesNotContain("<em>", page);
        Assert.Contains("line1 # Heading | a | b | |---|---| | x | y | &amp;amp; &amp;#106;s *bold* 1. one", page);
    }

    [Fact]
    public async Task Card_OfATrainedVersion_GivesTheTestIntervalAndWarnsOfFewTestRows()
    {
        var manifest = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;
        var markdown = await Host.Client.GetStringAsync($"/api/models/{ShopData.Spend}/versions/v1/card.md");

        var interval = manifest.TestInterval!;
        Assert.Equal(ChanceTest.MetricOf(manifest.Schema.Task), interval.Metric);
        Assert.Equal(manifest.TestMeasuredOn!.Rows, interval.Rows);
        Assert.InRange(manifest.TestMetrics[interval.Metric], interval.Low, interval.High);
        Assert.True(interval.High > interval.Low);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"[{interval.Low:G4}, {interval.High:G4}]"), markdown);
        Assert.Contains($"bootstrap resamples of the {interval.Rows:N0} test rows", markdown);

        // The warning is the card's, by the count of test rows.
        var few = manifest with { TestMeasuredOn = manifest.TestMeasuredOn with { Rows = ModelCard.FewTestRows - 1 } };
        var many = manifest with { TestMeasuredOn = manifest.TestMeasuredOn with { Rows = ModelCard.FewTestRows } };
        Assert.Contains($"**Few test rows**: the test metrics are measured on {ModelCard.FewTestRows - 1} rows", ModelCard.Render(few));
        Assert.DoesNotContain("Few test rows", ModelCard.Render(many));

        // A column name with a '|' stays in its cell of the importance table (the HTML card renders it as one cell).
        var piped = manifest with { FeatureImportance = manifest.FeatureImportance! with { Features = [new FeatureEffect("b|c", -0.5, 0.01)] } };
        var pipedCard = ModelCard.Render(piped);
        Assert.Contains("| 1 | b\\|c |", pipedCard);
        var html = ModelCard.Html(pipedCard, "piped");
        Assert.Contains("<td>b|c</td>", html);

        // A name with backticks is one code span, whole, in the list of features and in the importance table.
        var feature = manifest.Schema.Features[0];
        var ticked = manifest with
        {
            Schema = manifest.Schema with
            {
                Features = ["a`b``c", .. manifest.Schema.Features.Skip(1)],
                Columns = [.. manifest.Schema.Columns.Select(c => c.Name == feature ? c with { Name = "a`b``c" } : c)],
            },
            FeatureImportance = manifest.FeatureImportance! with { Features = [new FeatureEffect("a`b``c", -0.5, 0.01)] },
        };
        var tickedHtml = ModelCard.Html(ModelCard.Render(ticked), "ticked");
        Assert.Contains("<code>a`b``c</code> (", tickedHtml);
        Assert.Contains("<td><code>a`b``c</code></td>", tickedHtml);
    }

    [Fact]
    public async Task Profile_OfADatasetVersion_IsServed()
    {
        var manifest = (await shop.Registry.GetManifestAsync(ShopData.Spend, "v1", CancellationToken.None))!;

        var profile = await Host.Client.GetFromJsonAsync<JsonObject>($"/api/models/{ShopData.Spend}/datasets/{manifest.DatasetVersion}/profile");

        Assert.Equal(manifest.DatasetVersion, profile!["datasetVersion"]!.GetValue<string>());
        Assert.NotEmpty(profile["columns"]!.AsArray());
    }

    [Theory]
    [InlineData("GET", "/api/models/shop-spend/versions/..%2F..%2Fregistry.json/model.zip", "version")]
    [InlineData("GET", "/api/models/shop-spend/versions/v1x/card.md", "version")]
    [InlineData("GET", "/api/models/shop-spend/versions/V1/card.html", "version")]
    [InlineData("GET", "/api/models/shop-spend/versions/v1;rm", "version")]
    [InlineData("GET", "/api/models/..%2Fshop-spend/versions/v1/model.zip", "model")]
    [InlineData("GET", "/api/models/Shop_Spend/aliases", "model")]
    [InlineData("GET", "/api/models/shop%20spend/spec", "model")]
    [InlineData("GET", "/api/models/shop-spend/datasets/..%2Fshop-spend/profile", "datasetVersion")]
    [InlineData("GET", "/api/models/shop-spend/datasets/ds-XYZ/profile", "datasetVersion")]
    [InlineData("POST", "/api/models/shop-spend/versions/..%2Fv1/archive", "version")]
    [InlineData("GET", "/api/audit?model=..%2Fx", "model")]
    public async Task Routes_OddOrTraversingNames_Answer400NamingTheField(string method, string path, string field)
    {
        var response = await Host.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task Promote_OddVersionName_Answers400()
    {
        var problem = await ProblemAsync(await PromoteAsync(ShopData.Spend, """{"version":"../v1"}"""), HttpStatusCode.BadRequest);

        Assert.True(problem["errors"]!.AsObject().ContainsKey("version"));
    }

    [Fact]
    public async Task Train_OddDatasetVersion_Answers400BeforeLookingItUp()
    {
        var problem = await ProblemAsync(await Host.Client.PostAsync($"/api/models/{ShopData.Spend}/train", Json("""{"datasetVersion":"../other/ds-0123456789abcdef"}""")), HttpStatusCode.BadRequest);

        Assert.True(problem["errors"]!.AsObject().ContainsKey("datasetVersion"));
    }

    [Theory]
    [InlineData("/api/models/shop-spend/versions/v99/model.zip")]
    [InlineData("/api/models/shop-spend/versions/v99/card.md")]
    [InlineData("/api/models/shop-spend/datasets/ds-0123456789abcdef/profile")]
    [InlineData("/api/models/nobody-here/aliases")]
    [InlineData("/api/models/nobody-here/spec")]
    public async Task Routes_UnknownVersionOrModel_Answer404(string path)
    {
        await ProblemAsync(await Host.Client.GetAsync(path), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Archive_UnknownVersion_Answers404()
    {
        var model = await ModelWithVersionsAsync("nover", 1);

        await ProblemAsync(await Host.Client.PostAsync($"/api/models/{model}/versions/v7/archive", null), HttpStatusCode.NotFound);
    }
}
