using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Serverless.Core.Api;

namespace Serverless.Functions.Triggers;

/// <summary>Registering a candidate run by hand on Azure Functions: the shared <see cref="RunRegistrationApi"/> behind a function key.</summary>
public sealed class RunRegistrationFunctions(RunRegistrationApi api)
{
    [Function(nameof(RegisterRun))]
    public async Task<IActionResult> RegisterRun(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.RegisterRun)] HttpRequest req, string model, string runId)
    {
        await (await api.RegisterAsync(model, runId, req, req.HttpContext.RequestAborted)).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
