using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Serverless.Core.Api;
using Serverless.Core.Dashboard;

namespace Serverless.Functions.Triggers;

/// <summary>The dashboard page (<c>GET /api/dashboard</c>) and what it shows beside the models API (quarantine, drift histograms), from the shared handlers.</summary>
public sealed class DashboardFunctions(DashboardPage page, QuarantineApi quarantine, DriftHistogramApi histograms)
{
    [Function(nameof(Dashboard))]
    public Task<IActionResult> Dashboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Dashboard)] HttpRequest req) =>
        Write(req, Task.FromResult(page.Serve(req)));

    [Function(nameof(ListQuarantine))]
    public Task<IActionResult> ListQuarantine([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Quarantine)] HttpRequest req, string model) =>
        Write(req, quarantine.ListAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(GetDriftHistogram))]
    public Task<IActionResult> GetDriftHistogram([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.DriftHistogram)] HttpRequest req, string model) =>
        Write(req, histograms.GetAsync(model, req, req.HttpContext.RequestAborted));

    private static async Task<IActionResult> Write(HttpRequest req, Task<IResult> result)
    {
        await (await result).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
