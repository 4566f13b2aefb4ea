using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Serverless.Core.Api;

namespace Serverless.Functions.Triggers;

/// <summary>Feedback on earlier predictions on Azure Functions: the shared <see cref="FeedbackApi"/> on its <see cref="ApiRoutes"/> route.</summary>
public sealed class FeedbackFunctions(FeedbackApi api)
{
    [Function(nameof(Feedback))]
    public async Task<IActionResult> Feedback([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Feedback)] HttpRequest req, string model)
    {
        await (await api.PostAsync(model, req, req.HttpContext.RequestAborted)).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
