using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Serverless.LocalHost;
using Serverless.Orchestrations;
using Serverless.Tests.Infra;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Api;

/// <summary>
/// The Functions app serves the local host's route table: the functions.metadata the Functions SDK writes for functions/
/// lists one HTTP function per local route (same route, methods and key requirement; HEAD wherever GET, as the local host
/// answers it), the training orchestrator and one activity function per registered activity.
/// </summary>
public sealed class FunctionsRouteTableTests
{
    private const string HttpPrefix = "api/";

    [Fact]
    public async Task HttpFunctions_ComparedWithLocalHostRoutes_MatchOneToOneInRouteMethodAndAuthLevel()
    {
        var functions = HttpFunctionRoutes(DeploymentFiles.FunctionsMetadata());

        var local = await LocalHostRoutesAsync();

        Assert.Equal(local, functions);
    }

    [Fact]
    public void OrchestrationTriggers_ForTheTrainingWorkflow_ExistForEveryRegisteredOrchestrator()
    {
        var triggers = FunctionsWithTrigger(DeploymentFiles.FunctionsMetadata(), "orchestrationTrigger");

        var registered = RegisteredNames<ITaskOrchestrator>(new DurableTaskRegistry().AddTrainingWorkflow());

        Assert.Contains(nameof(TrainingOrchestrator), triggers);
        Assert.Equal(registered, triggers);
    }

    [Fact]
    public void ActivityTriggers_ForTheTrainingWorkflow_ExistForEveryRegisteredActivity()
    {
        var triggers = FunctionsWithTrigger(DeploymentFiles.FunctionsMetadata(), "activityTrigger");

        var registered = RegisteredNames<ITaskActivity>(new DurableTaskRegistry().AddTrainingWorkflow());

        Assert.NotEmpty(registered);
        Assert.Equal(registered, triggers);
    }

    /// <summary>One line per route and method of the HTTP functions: <c>GET models/{model} Anonymous</c>, sorted.</summary>
    private static List<string> HttpFunctionRoutes(JsonArray metadata)
    {
        var routes = new List<string>();
        foreach (var function in metadata)
        {
            foreach (var binding in function!["bindings"]!.AsArray())
            {
                if ((string?)binding!["type"] != "httpTrigger") continue;
                var route = (string?)binding["route"] ?? (string)function["name"]!;
                var authLevel = (string?)binding["authLevel"] ?? "Function";
                foreach (var method in binding["methods"]?.AsArray() ?? [])
                {
                    routes.Add($"{((string)method!).ToUpperInvariant()} {route} {authLevel}");
                }
            }
        }
        routes.Sort(StringComparer.Ordinal);
        return routes;
    }

    private static List<string> FunctionsWithTrigger(JsonArray metadata, string triggerType) =>
        [.. metadata
            .Where(f => f!["bindings"]!.AsArray().Any(b => (string?)b!["type"] == triggerType))
            .Select(f => (string)f!["name"]!)
            .Order(StringComparer.Ordinal)];

    /// <summary>
    /// The names a Durable Task registry holds for tasks of type <typeparamref name="TTask"/>. The registry keeps them in an
    /// internal property; it is found by its type so that a rename does not go unnoticed as an empty list.
    /// </summary>
    private static List<string> RegisteredNames<TTask>(DurableTaskRegistry registry)
    {
        var property = typeof(DurableTaskRegistry)
            .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)
            .SingleOrDefault(p => p.PropertyType == typeof(IEnumerable<KeyValuePair<TaskName, Func<IServiceProvider, TTask>>>));
        Assert.True(property is not null, $"DurableTaskRegistry no longer lists its {typeof(TTask).Name}s by name: update this test.");
        var tasks = (IEnumerable<KeyValuePair<TaskName, Func<IServiceProvider, TTask>>>)property.GetValue(registry)!;
        return [.. tasks.Select(t => t.Key.Name).Distinct().Order(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The local host's routes in the same shape as <see cref="HttpFunctionRoutes"/>: the app is built, not started, and
    /// each route's endpoint filters are asked whether they turn a request without the admin key away (auth level
    /// "Function") or let it through to the handler ("Anonymous").
    /// </summary>
    private static async Task<List<string>> LocalHostRoutesAsync()
    {
        await using var app = LocalHostApp.Create([]);
        var routes = new List<string>();
        foreach (var source in ((IEndpointRouteBuilder)app).DataSources)
        {
            var context = new RouteGroupContext
            {
                Prefix = RoutePatternFactory.Parse("/"),
                ApplicationServices = app.Services,
                FinallyConventions = [builder => builder.Metadata.Add(new FilterFactories([.. builder.FilterFactories]))],
            };
            foreach (var endpoint in source.GetGroupedEndpoints(context).OfType<RouteEndpoint>())
            {
                var route = endpoint.RoutePattern.RawText!.TrimStart('/');
                // The local host also serves the dashboard at its root; the Functions app serves it under the prefix only.
                if (endpoint.Metadata.GetMetadata<ApiDocument.LocalOnlyRoute>() is not null) continue;
                Assert.True(route.StartsWith(HttpPrefix, StringComparison.Ordinal), $"Local route '{route}' is not under {HttpPrefix}.");
                var authLevel = await RequiresAdminKeyAsync(endpoint) ? "Function" : "Anonymous";
                foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                {
                    routes.Add($"{method.ToUpperInvariant()} {route[HttpPrefix.Length..]} {authLevel}");
                    // The local host answers HEAD as the GET of the same route (LocalHostApp.Create), before routing.
                    if (HttpMethods.IsGet(method)) routes.Add($"{HttpMethods.Head} {route[HttpPrefix.Length..]} {authLevel}");
                }
            }
        }
        routes.Sort(StringComparer.Ordinal);
        return routes;
    }

    /// <summary>Runs the endpoint's filters, with an admin key configured, on a request that carries none.</summary>
    private static async Task<bool> RequiresAdminKeyAsync(RouteEndpoint endpoint)
    {
        var factories = endpoint.Metadata.GetMetadata<FilterFactories>()?.Items ?? [];
        using var services = new ServiceCollection()
            .AddSingleton(Options.Create(new ApiOptions { AdminKey = "probe" }))
            .AddSingleton(Options.Create(new Serverless.Core.Api.ApiAccessOptions()))
            .BuildServiceProvider();
        var factoryContext = new EndpointFilterFactoryContext
        {
            MethodInfo = endpoint.Metadata.GetMetadata<MethodInfo>() ?? typeof(FunctionsRouteTableTests).GetMethod(nameof(RequiresAdminKeyAsync), BindingFlags.Static | BindingFlags.NonPublic)!,
            ApplicationServices = services,
        };
        var reachedHandler = false;
        EndpointFilterDelegate pipeline = _ =>
        {
            reachedHandler = true;
            return ValueTask.FromResult<object?>(null);
        };
        for (var i = factories.Count - 1; i >= 0; i--)
        {
            pipeline = factories[i](factoryContext, pipeline);
        }
        var result = await pipeline(new DefaultEndpointFilterInvocationContext(new DefaultHttpContext { RequestServices = services }));
        return !reachedHandler && result is IStatusCodeHttpResult { StatusCode: StatusCodes.Status401Unauthorized };
    }

    private sealed record FilterFactories(IReadOnlyList<Func<EndpointFilterFactoryContext, EndpointFilterDelegate, EndpointFilterDelegate>> Items);
}
