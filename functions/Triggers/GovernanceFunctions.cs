using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Serverless.Core.Api;

namespace Serverless.Functions.Triggers;

/// <summary>The governance routes of <see cref="GovernanceApi"/> on Azure Functions, as the local host maps them. Archive needs a function key.</summary>
public sealed class GovernanceFunctions(GovernanceApi api)
{
    [Function(nameof(GetSpec))]
    public Task<IActionResult> GetSpec([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Spec)] HttpRequest req, string model) =>
        Write(req, api.GetSpecAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(GetAliases))]
    public Task<IActionResult> GetAliases([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Aliases)] HttpRequest req, string model) =>
        Write(req, api.GetAliasesAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(DownloadModel))]
    public Task<IActionResult> DownloadModel([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.ModelZip)] HttpRequest req, string model, string version) =>
        Write(req, api.DownloadModelAsync(model, version, req, req.HttpContext.RequestAborted));

    [Function(nameof(GetCardMarkdown))]
    public Task<IActionResult> GetCardMarkdown([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.CardMarkdown)] HttpRequest req, string model, string version) =>
        Write(req, api.CardMarkdownAsync(model, version, req, req.HttpContext.RequestAborted));

    [Function(nameof(GetCardHtml))]
    public Task<IActionResult> GetCardHtml([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.CardHtml)] HttpRequest req, string model, string version) =>
        Write(req, api.CardHtmlAsync(model, version, req, req.HttpContext.RequestAborted));

    [Function(nameof(GetDatasetProfile))]
    public Task<IActionResult> GetDatasetProfile([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.DatasetProfile)] HttpRequest req, string model, string datasetVersion) =>
        Write(req, api.DatasetProfileAsync(model, datasetVersion, req, req.HttpContext.RequestAborted));

    [Function(nameof(ArchiveVersion))]
    public Task<IActionResult> ArchiveVersion([HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Archive)] HttpRequest req, string model, string version) =>
        Write(req, api.ArchiveAsync(model, version, req, req.HttpContext.RequestAborted));

    /// <summary>Executes the shared handler's result on the request's context, as the local host's minimal API does.</summary>
    private static async Task<IActionResult> Write(HttpRequest req, Task<IResult> result)
    {
        await (await result).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
