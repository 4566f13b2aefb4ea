using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Serverless.Core.Api;

namespace Serverless.Functions.Triggers;

/// <summary>The HTTP functions of a model's uploads, on the same <see cref="ApiRoutes"/> route and handler as the local host.</summary>
public sealed class DatasetFunctions(DatasetsApi api)
{
    [Function(nameof(ListDatasets))]
    public Task<IActionResult> ListDatasets([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Datasets)] HttpRequest req, string model) =>
        HttpFunctions.Write(req, api.ListAsync(model, req, req.HttpContext.RequestAborted));
}
