using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Serverless.Core.Api;
using Serverless.Orchestrations;

namespace Serverless.Functions.Triggers;

/// <summary>
/// The HTTP API of SPEC.md on Azure Functions: each function hands the request to the shared <see cref="PipelineApi"/> or
/// <see cref="RunsApi"/> on an <see cref="ApiRoutes"/> route and writes its result, so the answers are byte for byte those
/// of the local host. Admin routes need a function key.
/// </summary>
public sealed class HttpFunctions(PipelineApi api, RunsApi runs)
{
    [Function(nameof(Health))]
    public Task<IActionResult> Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Health)] HttpRequest req) =>
        Write(req, api.HealthAsync(req, req.HttpContext.RequestAborted));

    [Function(nameof(ListModels))]
    public Task<IActionResult> ListModels([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Models)] HttpRequest req) =>
        Write(req, api.ListModelsAsync(req, req.HttpContext.RequestAborted));

    [Function(nameof(GetModel))]
    public Task<IActionResult> GetModel([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Model)] HttpRequest req, string model) =>
        Write(req, api.GetModelAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(GetVersion))]
    public Task<IActionResult> GetVersion([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Version)] HttpRequest req, string model, string version) =>
        Write(req, api.GetVersionAsync(model, version, req, req.HttpContext.RequestAborted));

    [Function(nameof(Predict))]
    public Task<IActionResult> Predict([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = ApiRoutes.Predict)] HttpRequest req, string model) =>
        Write(req, api.PredictAsync(model, req, req.HttpContext.RequestAborted).AsTask());

    [Function(nameof(ListRuns))]
    public Task<IActionResult> ListRuns([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Runs)] HttpRequest req, string model) =>
        Write(req, api.ListRunsAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(ListAudit))]
    public Task<IActionResult> ListAudit([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Audit)] HttpRequest req) =>
        Write(req, api.ListAuditAsync(req, req.HttpContext.RequestAborted));

    [Function(nameof(ListOrchestrations))]
    public Task<IActionResult> ListOrchestrations(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Orchestrations)] HttpRequest req,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.ListAsync(req, client, req.HttpContext.RequestAborted));

    [Function(nameof(GetOrchestration))]
    public Task<IActionResult> GetOrchestration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = ApiRoutes.Orchestration)] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.GetAsync(instanceId, client, req, req.HttpContext.RequestAborted));

    [Function(nameof(PutSpec))]
    public Task<IActionResult> PutSpec([HttpTrigger(AuthorizationLevel.Function, "put", Route = ApiRoutes.Spec)] HttpRequest req, string model) =>
        Write(req, api.PutSpecAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(Train))]
    public Task<IActionResult> Train(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Train)] HttpRequest req, string model,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.TrainAsync(model, req, client, req.HttpContext.RequestAborted));

    [Function(nameof(Promote))]
    public Task<IActionResult> Promote([HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Promote)] HttpRequest req, string model) =>
        Write(req, api.PromoteAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(Rollback))]
    public Task<IActionResult> Rollback([HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Rollback)] HttpRequest req, string model) =>
        Write(req, api.RollbackAsync(model, req, req.HttpContext.RequestAborted));

    [Function(nameof(Approve))]
    public Task<IActionResult> Approve(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Approve)] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.ApproveAsync(instanceId, req, client, req.HttpContext.RequestAborted));

    [Function(nameof(Reject))]
    public Task<IActionResult> Reject(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Reject)] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.RejectAsync(instanceId, req, client, req.HttpContext.RequestAborted));

    [Function(nameof(Terminate))]
    public Task<IActionResult> Terminate(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.Terminate)] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.TerminateAsync(instanceId, req, client, req.HttpContext.RequestAborted));

    [Function(nameof(RaiseEvent))]
    public Task<IActionResult> RaiseEvent(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = ApiRoutes.RaiseEvent)] HttpRequest req,
        string instanceId, string eventName, [DurableClient] DurableTaskClient client) =>
        Write(req, runs.RaiseEventAsync(instanceId, eventName, req, client, req.HttpContext.RequestAborted));

    [Function(nameof(Purge))]
    public Task<IActionResult> Purge(
        [HttpTrigger(AuthorizationLevel.Function, "delete", Route = ApiRoutes.Orchestration)] HttpRequest req, string instanceId,
        [DurableClient] DurableTaskClient client) =>
        Write(req, runs.PurgeAsync(instanceId, req, client, req.HttpContext.RequestAborted));

    /// <summary>Executes the shared handler's result on the request's context, as the local host's minimal API does.</summary>
    internal static async Task<IActionResult> Write(HttpRequest req, Task<IResult> result)
    {
        await (await result).ExecuteAsync(req.HttpContext);
        return new EmptyResult();
    }
}
