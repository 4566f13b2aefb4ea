using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Serverless.Core.Api;

namespace Serverless.Functions.Triggers;

/// <summary>
/// <c>GET /api/openapi.json</c> on Azure Functions. The worker maps HTTP triggers, not the minimal-API endpoints the
/// OpenAPI generator reads, so the document is the one the local host's build generated from its route table (which the
/// triggers of this app mirror, route for route) less the routes only the local host serves (its document
/// <c>ApiDocument.FunctionsName</c>), shipped beside the app as <see cref="DocumentFile"/>.
/// </summary>
public sealed class OpenApiFunction
{
    public const string DocumentFile = "openapi.json";

    [Function(nameof(OpenApi))]
    public IActionResult OpenApi([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.OpenApi)] HttpRequest req) =>
        new PhysicalFileResult(Path.Combine(AppContext.BaseDirectory, DocumentFile), ApiResults.JsonContentType);
}
