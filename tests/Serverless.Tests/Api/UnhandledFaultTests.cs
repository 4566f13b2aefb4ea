using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serverless.Core.Api;
using Serverless.Core.Hosting;
using Serverless.Core.Serving;
using Serverless.Core.Storage;

namespace Serverless.Tests.Api;

/// <summary>The 500 answer of an exception no handler mapped, with the services both hosts register.</summary>
[Collection(Infrastructure.AzuriteCollection.Name)]
public sealed class UnhandledFaultTests(Infrastructure.AzuriteFixture azurite)
{
    [Fact]
    public async Task WriteAsync_UnmappedException_WritesA500ProblemWithTheRequestId()
    {
        await using var services = PipelineApiServices();
        var context = Context(services);
        context.Request.Headers[RequestId.Header] = "req-42";
        context.Response.Headers["x-stale"] = "from the failed handler";

        var written = await UnhandledFault.WriteAsync(context, new InvalidOperationException("secret internals"));

        var body = JsonNode.Parse(((MemoryStream)context.Response.Body).ToArray())!;
        Assert.True(written);
        Assert.Equal((500, "application/problem+json"), (context.Response.StatusCode, context.Response.ContentType));
        Assert.Equal((500, "req-42", "req-42"), ((int?)body["status"], (string?)body[RequestId.ProblemField], context.Response.Headers[RequestId.Header].ToString()));
        Assert.DoesNotContain("secret internals", body.ToJsonString());
        Assert.False(context.Response.Headers.ContainsKey("x-stale"));
    }

    [Fact]
    public async Task WriteAsync_StorageClientsGaveUpOnAClosedPort_WritesA503ProblemSayingToRetry()
    {
        await using var services = PipelineApiServices();
        var context = Context(services);
        var fault = await Record.ExceptionAsync(() => azurite.CreateUnreachableStorage().Table("unreachable").CreateIfNotExistsAsync());

        var written = await UnhandledFault.WriteAsync(context, fault!);

        var body = JsonNode.Parse(((MemoryStream)context.Response.Body).ToArray())!;
        Assert.True(written);
        Assert.Equal((503, "application/problem+json"), (context.Response.StatusCode, context.Response.ContentType));
        Assert.Equal((503, UnhandledFault.StorageUnreachableTitle), ((int?)body["status"], (string?)body["title"]));
        Assert.Contains("storage account cannot be reached", (string?)body["detail"]);
        Assert.Equal(((int)StorageUnreachable.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture), context.Response.Headers.RetryAfter.ToString());
    }

    private static ServiceProvider PipelineApiServices()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.AddPipelineApi();
        return builder.Services.BuildServiceProvider();
    }

    private static DefaultHttpContext Context(IServiceProvider services)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/api/models/taxi/predict";
        context.Response.Body = new MemoryStream();
        return context;
    }
}
