using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Core.Api;
using Serverless.Orchestrations;

namespace Serverless.Functions.Triggers;

/// <summary>
/// Drift on Azure Functions: the timer (schedule from the <c>Pipeline:Drift:TimerSchedule</c> setting) and the two drift
/// routes, each handing over to the shared <see cref="DriftTimer"/> and <see cref="DriftApi"/> as the local host does.
/// </summary>
public sealed class DriftFunctions(DriftApi api, DriftTimer timer)
{
    [Function(nameof(CheckDriftOnTimer))]
    public Task CheckDriftOnTimer([TimerTrigger("%Pipeline:Drift:TimerSchedule%")] TimerInfo info, [DurableClient] DurableTaskClient client, FunctionContext context) =>
        timer.TickAsync(DateTimeOffset.UtcNow, client, context.CancellationToken);

    [Function(nameof(ListDrift))]
    public async Task<IActionResult> ListDrift([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Drift)] HttpRequest req, string model)
    {
        await (await api.ListAsync(model, req, req.HttpContext.RequestAborted)).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }

    [Function(nameof(CheckDrift))]
    public async Task<IActionResult> CheckDrift(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.DriftCheck)] HttpRequest req, string model,
        [DurableClient] DurableTaskClient client)
    {
        await (await api.CheckAsync(model, req, client, req.HttpContext.RequestAborted)).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
