using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Core.Api;
using Serverless.LocalHost;
using Serverless.Tests.Infra;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Api;

/// <summary>
/// The OpenAPI document the local host serves at <c>/api/openapi.json</c> is generated from its route table: it lists
/// every mapped route, each named, summarized, with the schema of its answer and its problem-details errors; the
/// Functions app ships the same document.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class OpenApiDocumentTests(AzuriteFixture azurite)
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public async Task OpenApiDocument_ComparedWithTheHostsEndpoints_ListsEveryRouteAndMethod()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);

        var mapped = MappedRoutes(host.Services);
        Assert.Contains($"GET /{ApiRoutes.Prefix}/{ApiRoutes.Models}", mapped);
        Assert.Contains($"GET /{ApiRoutes.Prefix}/{ApiRoutes.OpenApi}", mapped);
        Assert.Equal(mapped, Operations(document).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task OpenApiDocument_EveryOperation_IsNamedAndDescribesItsAnswerAndProblems()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);

        Assert.StartsWith("3.", document["openapi"]!.GetValue<string>());
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (route, operation) in Operations(document))
        {
            Assert.True(names.Add(operation["operationId"]?.GetValue<string>() ?? ""), $"{route}: no operationId, or one used twice");
            var responses = operation["responses"]!.AsObject();
            Assert.True(responses.Any(r => r.Key.StartsWith('2')), $"{route}: no success answer");
            // The document itself and the dashboard's page read no input: no 400.
            if (route.EndsWith(ApiRoutes.OpenApi, StringComparison.Ordinal) || route.EndsWith(ApiRoutes.Dashboard, StringComparison.Ordinal)
                || !route.Contains($" /{ApiRoutes.Prefix}/", StringComparison.Ordinal)) continue;
            var problem = responses["400"]?["content"]?["application/problem+json"]?["schema"]?.ToJsonString() ?? "";
            Assert.True(problem.Contains("ProblemDetails", StringComparison.Ordinal), $"{route}: 400 is not described as problem details");
        }
    }

    [Theory]
    [InlineData("/api/health", "get", "Health")]
    [InlineData("/api/models/{model}", "get", "GetModel")]
    [InlineData("/api/models/{model}/predict", "post", "Predict")]
    [InlineData("/api/models/{model}/promote", "post", "Promote")]
    [InlineData("/api/orchestrations/{instanceId}", "get", "GetOrchestration")]
    [InlineData("/api/openapi.json", "get", "OpenApi")]
    public async Task OpenApiDocument_DescribedRoute_HasItsNameAndSummary(string path, string method, string name)
    {
        await using var host = await TestHost.StartAsync(azurite);

        var operation = (await DocumentAsync(host))["paths"]![path]![method]!;

        Assert.Equal(name, operation["operationId"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(operation["summary"]?.GetValue<string>()));
    }

    [Fact]
    public async Task OpenApiDocument_RouteMappedWithoutDescription_AppearsNamedAndWithItsProblemAnswer()
    {
        await using var host = await TestHost.StartAsync(azurite,
            map: app => app.MapPost($"/{ApiRoutes.Prefix}/models/{{model}}/undescribed", (string model) => Results.Ok(model)));

        var document = await DocumentAsync(host);

        var operation = document["paths"]!["/api/models/{model}/undescribed"]!["post"]!;
        Assert.Equal("PostModelsModelUndescribed", operation["operationId"]!.GetValue<string>());
        Assert.Contains("ProblemDetails", operation["responses"]!["400"]!["content"]!["application/problem+json"]!.ToJsonString());
    }

    [Fact]
    public async Task OpenApiDocument_QueryParameters_AreTheOnesEachRouteTakes()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var operations = Operations(await DocumentAsync(host));

        // Routes that take query parameters, with what their handlers read; every other operation declares none.
        var expected = new Dictionary<string, string[]>(StringComparer.Ordinal)
        {
            [$"GET /{ApiRoutes.Prefix}/{ApiRoutes.Audit}"] = [.. AuditQueries.Parameters],
            [$"GET /{ApiRoutes.Prefix}/{ApiRoutes.Drift}"] = ["top", "skip"],
            [$"GET /{ApiRoutes.Prefix}/{ApiRoutes.Quarantine}"] = ["max"],
            [$"PUT /{ApiRoutes.Prefix}/{ApiRoutes.Spec}"] = ["reason"],
            [$"GET /{ApiRoutes.Prefix}/{ApiRoutes.Runs}"] = ["sort", Serverless.Core.Api.PipelineApi.OrchestrationParameter, "top", "skip"],
            [$"GET /{ApiRoutes.Prefix}/{ApiRoutes.Orchestrations}"] = ["model", "status", "top", "skip"],
            [$"POST /{ApiRoutes.Prefix}/{ApiRoutes.Terminate}"] = ["reason"],
            [$"POST /{ApiRoutes.Prefix}/{ApiRoutes.Predict}"] = ["version", "alias"],
            [$"GET /{ApiRoutes.Prefix}/{ApiRoutes.DriftHistogram}"] = ["feature"],
        };
        foreach (var (name, operation) in operations)
        {
            var declared = (operation["parameters"]?.AsArray() ?? []).Where(p => p!["in"]!.GetValue<string>() == "query").Select(p => p!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal);
            Assert.True(declared.SequenceEqual(expected.GetValueOrDefault(name, []).Order(StringComparer.Ordinal)), $"{name}: {string.Join(", ", declared)}");
        }
        // Each declared one is taken: the audit pages with the parameter its next link uses.
        var audit = await host.Client.GetFromJsonAsync<JsonObject>($"/{ApiRoutes.Prefix}/{ApiRoutes.Audit}?max=1");
        if (audit!["next"]?.GetValue<string>() is { } next) Assert.Contains($"{AuditQueries.PageParameter}=", next);
    }

    [Fact]
    public async Task OpenApiDocument_ModelView_HasTheSchemaOfItsAnswer()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);

        var answer = document["paths"]![$"/{ApiRoutes.Prefix}/{ApiRoutes.Model}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal($"#/components/schemas/{nameof(ModelView)}", answer["$ref"]!.GetValue<string>());
        var properties = document["components"]!["schemas"]![nameof(ModelView)]!["properties"]!.AsObject();
        Assert.Contains("inputSignature", properties.Select(p => p.Key));
        Assert.Contains("exampleRequest", properties.Select(p => p.Key));
        Assert.Contains("latestVersion", properties.Select(p => p.Key));
        var latest = properties["latestVersion"]!["type"]!.ToJsonString();
        Assert.Contains("string", latest);
        // Answers leave null fields out: what may be null is not required, what never is stays required.
        var required = document["components"]!["schemas"]![nameof(ModelView)]!["required"]!.AsArray().Select(r => r!.GetValue<string>()).ToList();
        Assert.Contains("model", required);
        Assert.DoesNotContain("rollbackTo", required);
        Assert.DoesNotContain("latestDataset", required);
        Assert.DoesNotContain("championRetained", required);
    }

    [Fact]
    public async Task OpenApiDocument_AdminRoutes_RequireTheAdminKeyAndAnswer401And403()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);

        var promote = document["paths"]![$"/{ApiRoutes.Prefix}/{ApiRoutes.Promote}"]!["post"]!;
        Assert.Contains("adminKey", promote["security"]!.ToJsonString());
        // The header or the code query parameter, either one.
        Assert.Equal(2, promote["security"]!.AsArray().Count);
        Assert.Equal("code", document["components"]!["securitySchemes"]!["adminKeyQuery"]!["name"]!.GetValue<string>());
        Assert.NotNull(promote["responses"]!["401"]);
        Assert.NotNull(promote["responses"]!["403"]);
        Assert.Contains("PromoteBody", promote["requestBody"]!.ToJsonString());
        var health = document["paths"]![$"/{ApiRoutes.Prefix}/{ApiRoutes.Health}"]!["get"]!;
        Assert.Null(health["security"]);
    }

    [Fact]
    public async Task OpenApiDocument_FeedbackAndPredict_DescribeTheirBodiesAnswersAndRequestIdHeader()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);

        var feedback = document["paths"]![$"/{ApiRoutes.Prefix}/{ApiRoutes.Feedback}"]!["post"]!;
        Assert.Contains(nameof(Serverless.Core.Monitoring.FeedbackItem), feedback["requestBody"]!.ToJsonString());
        // One item, or {"items": [...]} of them.
        Assert.Contains(nameof(Serverless.Core.Monitoring.FeedbackBatch), feedback["requestBody"]!.ToJsonString());
        Assert.NotNull(document["components"]!["schemas"]![nameof(Serverless.Core.Monitoring.FeedbackBatch)]!["properties"]!["items"]);
        Assert.Contains(nameof(Serverless.Core.Monitoring.FeedbackReceipt), feedback["responses"]!["200"]!.ToJsonString());
        Assert.NotNull(feedback["responses"]!["409"]);
        foreach (var route in new[] { ApiRoutes.Predict, ApiRoutes.Feedback })
        {
            var operation = document["paths"]![$"/{ApiRoutes.Prefix}/{route}"]!["post"]!;
            Assert.Contains(operation["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == Serverless.Core.Serving.RequestId.Header && p["in"]!.GetValue<string>() == "header");
            Assert.NotNull(operation["responses"]!["200"]!["headers"]![Serverless.Core.Serving.RequestId.Header]);
            Assert.NotNull(operation["responses"]!["400"]!["headers"]![Serverless.Core.Serving.RequestId.Header]);
        }
        foreach (var (route, method, answer) in new[] { (ApiRoutes.DriftCheck, "post", "DriftReport"), (ApiRoutes.Drift, "get", "DriftReportPage"), (ApiRoutes.Spec, "get", "SpecAnswer"), (ApiRoutes.Archive, "post", "ArchiveAnswer") })
        {
            Assert.Contains(answer, document["paths"]![$"/{ApiRoutes.Prefix}/{route}"]![method]!["responses"]!["200"]!.ToJsonString());
        }
    }

    [Fact]
    public async Task OpenApiDocument_RequestBodies_RequireOnlyTheFieldsTheRouteNeeds()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var schemas = (await DocumentAsync(host))["components"]!["schemas"]!.AsObject();

        var bodies = schemas.Where(s => s.Key.EndsWith("Body", StringComparison.Ordinal)).ToDictionary(s => s.Key, s => s.Value!);
        Assert.Contains("TrainBody", bodies.Keys);
        Assert.Contains("PromoteBody", bodies.Keys);
        foreach (var (name, schema) in bodies)
        {
            var required = schema["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [];
            // A promotion names its version (400 without); nothing else is needed by any route.
            var needed = name == "PromoteBody" ? new[] { "version" } : [];
            Assert.True(required.Except(needed).ToList() is [], $"{name} requires {string.Join(", ", required)}, and its route needs only {string.Join(", ", needed)}");
        }
    }

    [Fact]
    public async Task OpenApiDocument_EveryRouteWithABody_Lists413And415_AndProblemsHaveTheirErrors()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);

        var withBody = Operations(document).Where(o => o.Value["requestBody"] is not null).ToList();
        Assert.Contains(withBody, o => o.Key == $"POST /{ApiRoutes.Prefix}/{ApiRoutes.Rollback}");
        foreach (var (route, operation) in withBody)
        {
            var responses = operation["responses"]!.AsObject();
            Assert.True(responses.ContainsKey("413") && responses.ContainsKey("415"), $"{route} reads a body and lists {string.Join(", ", responses.Select(r => r.Key))}");
        }
        // Answers built for the route have their schema too (they were anonymous objects, described as "OK" alone).
        var operations = Operations(document);
        foreach (var (route, schema) in new[] { (ApiRoutes.Datasets, nameof(DatasetList)), (ApiRoutes.Aliases, nameof(AliasList)), (ApiRoutes.Quarantine, nameof(QuarantineList)) })
        {
            var answer = operations[$"GET /{ApiRoutes.Prefix}/{route}"]["responses"]!["200"]!["content"]?["application/json"]?["schema"]?.ToJsonString() ?? "";
            Assert.Contains(schema, answer, StringComparison.Ordinal);
        }
        var problem = document["components"]!["schemas"]!["ProblemDetails"]!["properties"]!.AsObject();
        Assert.Equal("array", problem["errors"]!["additionalProperties"]!["type"]!.GetValue<string>());
        Assert.NotNull(problem["requestId"]);
    }

    [Fact]
    public async Task OpenApiDocument_FilesAndPages_DeclareTheMediaTypeTheyAnswerWith_AndThePageNo400()
    {
        await using var host = await TestHost.StartAsync(azurite);

        var document = await DocumentAsync(host);
        var operations = Operations(document);

        foreach (var (route, media) in new[]
                 {
                     ($"GET /{ApiRoutes.Prefix}/{ApiRoutes.ModelZip}", "application/zip"),
                     ($"GET /{ApiRoutes.Prefix}/{ApiRoutes.CardMarkdown}", "text/markdown"),
                     ($"GET /{ApiRoutes.Prefix}/{ApiRoutes.CardHtml}", "text/html"),
                     ($"GET /{ApiRoutes.Prefix}/{ApiRoutes.Dashboard}", "text/html"),
                     ("GET /", "text/html"),
                     ($"GET /{ApiRoutes.Prefix}/{ApiRoutes.OpenApi}", "application/json"),
                 })
        {
            var content = operations[route]["responses"]!["200"]!["content"]?.AsObject();
            Assert.True(content is not null && content.Select(c => c.Key).SequenceEqual([media]), $"{route} answers {content?.ToJsonString() ?? "no content"}");
        }
        var zip = operations[$"GET /{ApiRoutes.Prefix}/{ApiRoutes.ModelZip}"]["responses"]!["200"]!["content"]!["application/zip"]!["schema"]!;
        var schema = zip["$ref"] is { } reference ? document["components"]!["schemas"]![reference.GetValue<string>().Split('/')[^1]]! : zip;
        Assert.Equal(("string", "binary"), (schema["type"]?.GetValue<string>(), schema["format"]?.GetValue<string>()));
        Assert.Contains("404", operations[$"GET /{ApiRoutes.Prefix}/{ApiRoutes.CardHtml}"]["responses"]!.AsObject().Select(r => r.Key));
        Assert.DoesNotContain("400", operations[$"GET /{ApiRoutes.Prefix}/{ApiRoutes.Dashboard}"]["responses"]!.AsObject().Select(r => r.Key));
        Assert.Equal("DashboardAtRoot", operations["GET /"]["operationId"]!.GetValue<string>());
        // The page answers with the media type the document names, whatever the query.
        var page = await host.Client.GetAsync($"/{ApiRoutes.Prefix}/{ApiRoutes.Dashboard}?x=1");
        Assert.Equal((HttpStatusCode.OK, "text/html"), (page.StatusCode, page.Content.Headers.ContentType?.MediaType));
    }

    [Fact]
    public async Task FunctionsAppDocument_ComparedWithTheServedOne_DescribesTheSameOperationsButTheLocalOnlyOnes()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var served = await DocumentAsync(host);
        var localOnly = LocalOnlyRoutes(host.Services);

        var shipped = JsonNode.Parse(File.ReadAllText(Path.Combine(DeploymentFiles.FunctionsOutput(), "openapi.json")))!;

        var servedOperations = Operations(served).Where(o => !localOnly.Contains(o.Key)).ToDictionary(o => o.Key, o => o.Value["operationId"]!.GetValue<string>());
        var shippedOperations = Operations(shipped).ToDictionary(o => o.Key, o => o.Value["operationId"]!.GetValue<string>());
        Assert.Equal(servedOperations.OrderBy(o => o.Key, StringComparer.Ordinal), shippedOperations.OrderBy(o => o.Key, StringComparer.Ordinal));
    }

    [Fact]
    public async Task FunctionsAppDocument_DashboardAtTheRoot_IsLeftOut()
    {
        await using var host = await TestHost.StartAsync(azurite);
        var served = Operations(await DocumentAsync(host));

        var shipped = Operations(JsonNode.Parse(File.ReadAllText(Path.Combine(DeploymentFiles.FunctionsOutput(), "openapi.json")))!);

        Assert.Equal((true, false), (served.ContainsKey("GET " + DashboardRoutes.Root), shipped.ContainsKey("GET " + DashboardRoutes.Root)));
    }

    private static async Task<JsonNode> DocumentAsync(TestHost host)
    {
        var response = await host.Client.GetAsync($"/{ApiRoutes.Prefix}/{ApiRoutes.OpenApi}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>The routes and methods only the local host serves (<see cref="ApiDocument.LocalOnly{TBuilder}"/>), as <see cref="MappedRoutes"/> names them.</summary>
    private static HashSet<string> LocalOnlyRoutes(IServiceProvider services) =>
    [
        .. services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<ApiDocument.LocalOnlyRoute>() is not null)
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m.ToUpperInvariant()} /{e.RoutePattern.RawText!.TrimStart('/')}")),
    ];

    /// <summary>Every route and method the host maps, as <c>GET /api/models/{model}</c>, sorted.</summary>
    private static List<string> MappedRoutes(IServiceProvider services)
    {
        var routes = new List<string>();
        foreach (var endpoint in services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            {
                routes.Add($"{method.ToUpperInvariant()} /{endpoint.RoutePattern.RawText!.TrimStart('/')}");
            }
        }
        routes.Sort(StringComparer.Ordinal);
        return routes;
    }

    /// <summary>The document's operations by route and method, as <see cref="MappedRoutes"/> names them.</summary>
    private static Dictionary<string, JsonObject> Operations(JsonNode document)
    {
        var operations = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                if (Methods.Contains(method)) operations.Add($"{method.ToUpperInvariant()} {path}", operation!.AsObject());
            }
        }
        return operations;
    }
}
